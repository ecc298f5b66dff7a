"""An operator's day from outside (issue 18, items 3-5): real servers, the commands in their
own processes, on SQLite files.

- wrong tokens flood in: refused, then limited with 429 and Retry-After, while a member
  with a good token from the same address goes on; admins read the refusals;
- a backup is taken while the server takes writes, and the copy verifies;
- an encrypted export is restored into a new store, whose server lets the members in
  with the tokens they had and shows the same balances.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from uuid import uuid4

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.acceptance.server import ADMIN_TOKEN, TOKEN_SECRET, serving

pytestmark = pytest.mark.slow

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def timebank(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TIMEBANK_DATABASE_URL": database_url,
        "TIMEBANK_TOKEN_SECRET": TOKEN_SECRET,
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_flood_of_wrong_tokens_is_limited_and_never_locks_a_member_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with serving(url, TIMEBANK_SIGN_IN_FAILURE_LIMIT="10") as base:
        client = httpx.Client(base_url=base, timeout=30)
        member = client.post("/members", json={"name": "Li Wei"}, headers=ADMIN).json()
        mine = {"Authorization": f"Bearer {member['token']}"}

        answers = [
            client.get("/me", headers={"Authorization": f"Bearer guess-{n}"}) for n in range(60)
        ]

        statuses = [answer.status_code for answer in answers]
        assert statuses[:10] == [401] * 10
        assert set(statuses[10:]) == {429}
        assert answers[-1].json()["error"]["code"] == "too_many_attempts"
        assert int(answers[-1].headers["Retry-After"]) >= 1
        assert client.get("/me", headers=mine).status_code == 200
        failures = client.get("/audit/sign-in-failures", headers=ADMIN).json()["items"]
        # Each refusal under the limit, and one row saying the address went over it.
        assert [failure["reason"] for failure in failures] == ["limited"] + ["unknown"] * 10
        assert client.get("/audit/sign-in-failures", headers=mine).status_code == 403


def test_a_backup_while_serving_and_a_restore_that_members_sign_in_to(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("a passphrase kept apart\n", encoding="utf-8")
    with serving(url) as base:
        client = httpx.Client(base_url=base, timeout=30)
        li = client.post("/members", json={"name": "Li Wei"}, headers=ADMIN).json()
        stop = threading.Event()
        written: list[int] = []

        def keep_writing() -> None:
            writer = httpx.Client(base_url=base, timeout=30)
            while not stop.is_set():
                answer = writer.post("/members", json={"name": "Neighbour"}, headers=ADMIN)
                written.append(answer.status_code)

        thread = threading.Thread(target=keep_writing)
        thread.start()
        try:
            backed = timebank(url, "backup", str(tmp_path / "copy.db"))
        finally:
            stop.set()
            thread.join()
        assert backed.returncode == 0, backed.stderr
        assert set(written) == {201}  # the server took writes throughout
        sealed = timebank(
            url,
            "export",
            str(tmp_path / "ledger.tbx"),
            "--encrypt",
            "--passphrase-file",
            str(passphrase),
        )
        assert sealed.returncode == 0, sealed.stderr
        balance = client.get(f"/members/{li['id']}/balance", headers=ADMIN).json()

    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    assert stat.S_IMODE((tmp_path / "copy.db").stat().st_mode) == 0o600
    checked = timebank(copy, "verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    loaded = timebank(
        restored, "restore", str(tmp_path / "ledger.tbx"), "--passphrase-file", str(passphrase)
    )
    assert loaded.returncode == 0, loaded.stderr
    with serving(restored) as base:
        client = httpx.Client(base_url=base, timeout=30)
        mine = {"Authorization": f"Bearer {li['token']}"}
        assert client.get("/me", headers=mine).status_code == 200
        assert client.get(f"/members/{li['id']}/balance", headers=mine).json() == balance
        assert client.get("/audit/verify", headers=ADMIN).json()["ok"]


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs pg_dump and pg_restore")
def test_a_pg_dump_taken_while_serving_restores_to_a_ledger_that_verifies(
    postgres_url: str, tmp_path: Path
) -> None:
    """The README's PostgreSQL routine: pg_dump of the ledger's schema while a server
    writes, pg_restore into an empty database, verify, and sign in with a token."""
    base, _, query = postgres_url.partition("?")
    schema = query.partition("schema=")[2]
    dump = tmp_path / "timebank.dump"
    with serving(postgres_url) as server:
        client = httpx.Client(base_url=server, timeout=30)
        li = client.post("/members", json={"name": "Li Wei"}, headers=ADMIN).json()
        writer = threading.Thread(
            target=lambda: [
                client.post("/members", json={"name": f"Neighbour {n}"}, headers=ADMIN)
                for n in range(20)
            ]
        )
        writer.start()
        dumped = subprocess.run(
            ["pg_dump", "--format=custom", f"--schema={schema}", f"--file={dump}", base],
            capture_output=True,
            text=True,
            check=False,
        )
        writer.join()
        assert dumped.returncode == 0, dumped.stderr

    database = f"timebank_restore_{uuid4().hex[:12]}"
    server_url = base.rpartition("/")[0]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        restored = subprocess.run(
            ["pg_restore", f"--dbname={server_url}/{database}", str(dump)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert restored.returncode == 0, restored.stderr
        copy = f"{server_url}/{database}?schema={schema}"
        checked = timebank(copy, "verify")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        with serving(copy) as server:
            mine = {"Authorization": f"Bearer {li['token']}"}
            assert httpx.get(f"{server}/me", headers=mine, timeout=30).status_code == 200
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


def test_a_token_past_its_lifetime_is_refused_as_expired_and_a_new_one_works(
    tmp_path: Path,
) -> None:
    """The shortest lifetime there is (a minute), waited out from outside."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with serving(url, TIMEBANK_TOKEN_LIFETIME="60") as base:
        client = httpx.Client(base_url=base, timeout=30)
        li = client.post("/members", json={"name": "Li Wei"}, headers=ADMIN).json()
        mine = {"Authorization": f"Bearer {li['token']}"}
        assert client.get("/me", headers=mine).status_code == 200

        deadline = time.monotonic() + 120
        while (answer := client.get("/me", headers=mine)).status_code == 200:
            assert time.monotonic() < deadline, "the token did not expire"
            time.sleep(1)

        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "token_expired"
        issued = client.post(f"/members/{li['id']}/tokens", headers=ADMIN)
        assert issued.status_code == 201, issued.text
        fresh = {"Authorization": f"Bearer {issued.json()['token']}"}
        assert client.get("/me", headers=fresh).status_code == 200
