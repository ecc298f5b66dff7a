"""The skeleton a newcomer meets: settings, database URLs and the server's health."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.support import fixed_clock
from timebank import TimeBank
from timebank.storage import SettingError, StorageURLError, persistence_env

STRAY_LIBRARY_VARIABLES = {
    "TIMEBANK_PERSISTENCE_MODULE": "eventsourcing.popo",
    "PERSISTENCE_MODULE": "eventsourcing.popo",
    "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
    "TIMEBANK_CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
    "TOKEN_SECRET": "short",
    "TIMEBANK_AGGREGATE_CACHE_MAXSIZE": "not a number",
}
"""Settings of the eventsourcing library a shell may hold: none of them is the ledger's."""


def test_the_default_store_is_a_sqlite_file_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TIMEBANK_DATABASE_URL", raising=False)
    env = persistence_env(Settings().database_url)
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == "timebank.db"


def test_a_postgresql_url_configures_the_librarys_postgres_module() -> None:
    env = persistence_env("postgresql://alice:s%40cret@db.example:6543/ledger?schema=north")
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == (
        "db.example",
        "6543",
        "ledger",
    )
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("alice", "s@cret")
    assert env["POSTGRES_SCHEMA"] == "north"


@pytest.mark.parametrize(
    "url", ["mysql://localhost/db", "sqlite://host/file.db", "sqlite:///", "postgresql://host/"]
)
def test_unusable_database_urls_are_refused_with_a_reason(url: str) -> None:
    with pytest.raises(StorageURLError):
        persistence_env(url)


def test_settings_refuse_an_unknown_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMEBANK_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="time zone"):
        Settings()


def test_the_server_answers_health_on_a_sqlite_file(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/timebank.db")
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_stray_library_variables_do_not_move_the_ledger_off_its_configured_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shell holding TIMEBANK_PERSISTENCE_MODULE=eventsourcing.popo once sent a server's
    writes to memory: a member registered was gone after a restart."""
    elsewhere = tmp_path / "elsewhere.db"
    for name, value in STRAY_LIBRARY_VARIABLES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TIMEBANK_SQLITE_DBNAME", str(elsewhere))
    monkeypatch.setenv("SQLITE_DBNAME", str(elsewhere))
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger = settings.open_ledger(clock=fixed_clock)
    try:
        admin = ledger.bootstrap_admin(name="Admin").id
    finally:
        ledger.close()
    reopened = settings.open_ledger(clock=fixed_clock)
    try:
        assert reopened.get_member(admin).name == "Admin"
    finally:
        reopened.close()
    assert (tmp_path / "ledger.db").exists()
    assert not elsewhere.exists()


@pytest.mark.parametrize(
    ("secret", "key", "message"),
    [
        ("short", None, "token_secret: must be at least 32 characters"),
        ("s" * 32, "not base64!", "encryption_key: must be base64"),
        ("s" * 32, "c2hvcnQ=", "encryption_key: must decode to 16, 24 or 32 bytes, not 5"),
    ],
)
def test_opening_a_ledger_by_url_checks_its_settings_as_the_process_settings_do(
    secret: str, key: str | None, message: str
) -> None:
    with pytest.raises(SettingError, match=message):
        TimeBank.from_url("memory://", token_secret=secret, encryption_key=key)


def test_a_short_token_secret_in_an_explicit_env_is_refused_too() -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo", "TOKEN_SECRET": "short"}
    with pytest.raises(SettingError, match="token_secret: must be at least 32 characters"):
        TimeBank(env)


def test_a_bad_database_url_by_url_is_refused_naming_the_setting() -> None:
    with pytest.raises(SettingError, match="database_url: unsupported database URL"):
        TimeBank.from_url("mysql://localhost/db")
