"""The skeleton a newcomer meets: settings, database URLs and the server's health."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from timebank.storage import StorageURLError, persistence_env


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
