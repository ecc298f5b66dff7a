"""`timebank init` and `timebank serve`: a first admin, and a real server over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from tests.support import open_ledger

ADMIN_TOKEN = "serve-test-admin-token-0123456789abcdef0123"


def test_init_creates_the_first_admin_and_prints_a_working_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    result = CliRunner().invoke(cli, ["init", "--name", "街道管理员"])
    assert result.exit_code == 0, result.output
    token = result.output.split("token (shown once; the ledger keeps only its digest): ")[1]
    ledger = open_ledger(url)
    try:
        admin_id = ledger.authenticate(token.strip())
        assert admin_id is not None
        assert ledger.get_member(admin_id).roles == ("admin",)
    finally:
        ledger.close()
    again = CliRunner().invoke(cli, ["init"])
    assert again.exit_code == 1
    assert "already has an admin: 街道管理员" in again.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(
    params=[
        pytest.param(1, id="one process"),
        pytest.param(2, id="two processes", marks=pytest.mark.slow),
    ]
)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """`timebank serve` as a real process on a SQLite file, stopped afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "TIMEBANK_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "TIMEBANK_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(request.param),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            assert process.poll() is None, "the server exited"
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not answer within 60 s"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_server_answers_over_http(server: str) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert httpx.get(f"{server}/teams", timeout=10).status_code == 401
    created = httpx.post(
        f"{server}/teams",
        json={"name": "日间照料", "community": "东城社区"},
        headers=admin,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    team = httpx.get(f"{server}/teams/{created.json()['id']}", headers=admin, timeout=10)
    assert team.json()["name"] == "日间照料"


def test_an_operator_issues_and_revokes_a_members_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    ledger = open_ledger(url)
    admin = ledger.bootstrap_admin(name="Admin").id
    ledger.register_member(actor_id=admin, name="李阿姨")
    ledger.close()

    issued = CliRunner().invoke(cli, ["token", "issue", "李阿姨"])
    assert issued.exit_code == 0, issued.output
    token = issued.output.split("shown once; the ledger keeps only its digest): ")[1].strip()
    credential = issued.output.split("credential ")[1].split()[0]
    ledger = open_ledger(url)
    try:
        assert ledger.authenticate(token) is not None
    finally:
        ledger.close()

    revoked = CliRunner().invoke(cli, ["token", "revoke", credential, "--reason", "lost phone"])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in revoked.output
    ledger = open_ledger(url)
    try:
        assert ledger.authenticate(token) is None
    finally:
        ledger.close()
    assert CliRunner().invoke(cli, ["token", "revoke", credential]).exit_code == 1
    assert CliRunner().invoke(cli, ["token", "issue", "Nobody"]).exit_code == 2


def test_a_command_writes_where_the_database_url_says_whatever_else_the_shell_holds(
    tmp_path: Path,
) -> None:
    """Stray settings of the eventsourcing library (unprefixed or with the application's
    name) are not the ledger's: `timebank init` still writes to TIMEBANK_DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = {
        **os.environ,
        "TIMEBANK_DATABASE_URL": url,
        "TIMEBANK_PERSISTENCE_MODULE": "eventsourcing.popo",
        "PERSISTENCE_MODULE": "eventsourcing.popo",
        "TIMEBANK_SQLITE_DBNAME": str(tmp_path / "elsewhere.db"),
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
    }
    done = subprocess.run(
        [sys.executable, "-m", "cli", "init", "--name", "街道管理员"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.split("token (shown once; the ledger keeps only its digest): ")[1]
    ledger = open_ledger(url)
    try:
        admin_id = ledger.authenticate(token.strip())
        assert admin_id is not None
        assert ledger.get_member(admin_id).name == "街道管理员"
    finally:
        ledger.close()
    assert not (tmp_path / "elsewhere.db").exists()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TIMEBANK_TOKEN_SECRET", "too-short", "TIMEBANK_TOKEN_SECRET: Value error, must be"),
        ("TIMEBANK_DATABASE_URL", "sqlite:///no/such/folder/x.db", "cannot open the store"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_status_2(
    variable: str, value: str, message: str, tmp_path: Path
) -> None:
    """The console script, as an operator runs it: no traceback for a mistyped setting."""
    env = {**os.environ, variable: value}
    done = subprocess.run(
        [sys.executable, "-m", "cli", "verify"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"timebank: {message}"), done.stderr
    assert "Traceback" not in done.stderr
