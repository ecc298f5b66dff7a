"""Exports kept private and free of credential secrets, encrypted exports, restore, backup."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.cryptography import AESCipher
from psycopg import sql
from typer.testing import CliRunner

from cli.main import app as cli
from projections.audit import GENESIS_HASH, link_of
from projections.redaction import COMMITMENT
from tests.projections.test_runner import busy_community
from tests.support import open_ledger
from timebank.application import SYSTEM_ACTOR_ID
from timebank.members import GlobalRole

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A busy community in a SQLite file the commands are pointed at; an admin's token and
    a member's card; returned: the token, the file, the passphrase file."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    app = open_ledger(url)
    community = busy_community(app)
    registered = app.register_member_with_token(
        actor_id=SYSTEM_ACTOR_ID, name="Admin Zhou", roles=[GlobalRole.ADMIN]
    )
    app.issue_card(actor_id=registered.member.id, member_id=community.li)
    app.close()
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    monkeypatch.setenv("TIMEBANK_TIMEZONE", "Asia/Shanghai")
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    assert registered.token.token is not None
    return {"token": registered.token.token, "db": str(tmp_path / "ledger.db"), "key": str(secret)}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def events_of(export: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()[:-1]]


def test_an_export_is_private_to_its_owner_and_holds_no_credential_secret(
    ledger: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "ledger.jsonl"
    out.write_text("an older file, readable by all", encoding="utf-8")
    out.chmod(0o644)

    code, output = run("export", str(out))

    assert code == 0, output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    events = events_of(out)
    issued = [e for e in events if e["type"] in ("Credential.Issued", "Member.CardIssued")]
    assert {e["type"] for e in issued} == {"Credential.Issued", "Member.CardIssued"}
    for event in issued:
        data = event["data"]
        assert isinstance(data, dict)
        assert not {"digest", "nonce", "code_digest", "code_salt"} & set(data)
        assert len(data[COMMITMENT]) == 64
        assert {"actor_id", "timestamp"} <= set(data)  # who issued it, and when
    code, output = run("verify-export", str(out))
    assert code == 0, output


def test_an_encrypted_export_reads_with_its_passphrase_only(
    ledger: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "ledger.tbx"
    code, output = run("export", str(out), "--encrypt", "--passphrase-file", ledger["key"])
    assert code == 0, output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert b"Admin Zhou" not in out.read_bytes()  # no name in the clear

    code, output = run("verify-export", str(out), "--passphrase-file", ledger["key"])
    assert code == 0, output
    assert "events verified" in output

    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all\n", encoding="utf-8")
    code, output = run("verify-export", str(out), "--passphrase-file", str(wrong))
    assert code == 1
    assert "wrong passphrase" in output
    assert "Traceback" not in output
    code, output = run("verify-export", str(out))
    assert code == 2
    assert "--passphrase-file" in output


def restore_into(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> str:
    url = f"sqlite:///{tmp_path / name}"
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    return url


def test_a_restored_ledger_exports_the_same_events_verifies_and_takes_the_same_tokens(
    ledger: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealed, before = tmp_path / "ledger.tbx", tmp_path / "before.jsonl"
    assert run("export", str(sealed), "--encrypt", "--passphrase-file", ledger["key"])[0] == 0
    assert run("export", str(before))[0] == 0

    url = restore_into(tmp_path, monkeypatch, "restored.db")
    code, output = run("restore", str(sealed), "--passphrase-file", ledger["key"])

    assert code == 0, output
    after = tmp_path / "after.jsonl"
    assert run("export", str(after))[0] == 0
    assert events_of(after) == events_of(before)  # same events, order, hashes
    old, new = (json.loads(f.read_text().splitlines()[-1])["checkpoint"] for f in (before, after))
    assert {k: v for k, v in old.items() if k != "exported_at"} == {
        k: v for k, v in new.items() if k != "exported_at"
    }
    code, output = run("verify")
    assert code == 0, output
    restored = open_ledger(url)
    try:
        assert restored.authenticate(ledger["token"]) is not None
    finally:
        restored.close()


def test_restore_refuses_a_damaged_export_a_plain_one_and_a_store_in_use(
    ledger: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealed, plain = tmp_path / "ledger.tbx", tmp_path / "ledger.jsonl"
    assert run("export", str(sealed), "--encrypt", "--passphrase-file", ledger["key"])[0] == 0
    assert run("export", str(plain))[0] == 0

    code, output = run("restore", str(sealed), "--passphrase-file", ledger["key"])
    assert code == 1  # the store the ledger fixture filled is not empty
    assert "not empty" in output

    restore_into(tmp_path, monkeypatch, "restored.db")
    damaged = tmp_path / "damaged.jsonl"
    lines = plain.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace('"aggregate_version":1', '"aggregate_version":2')
    damaged.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, output = run("restore", str(damaged))
    assert code == 1
    assert "is damaged: line 4" in output
    assert len(output.strip().splitlines()) == 1

    code, output = run("restore", str(plain))
    assert code == 1
    assert "timebank export --encrypt" in output
    assert "Traceback" not in output

    cut = tmp_path / "cut.tbx"
    cut.write_bytes(b"\n".join(sealed.read_bytes().split(b"\n")[:1]) + b"\n")
    code, output = run("restore", str(cut), "--passphrase-file", ledger["key"])
    assert code == 1
    assert "cut short" in output


def test_a_backup_of_a_sqlite_store_is_a_working_copy_kept_private(
    ledger: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "copy.db"

    code, output = run("backup", str(copy))

    assert code == 0, output
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    with sqlite3.connect(ledger["db"]) as original, sqlite3.connect(copy) as backed:
        count = "SELECT count(*) FROM stored_events"
        assert backed.execute(count).fetchone() == original.execute(count).fetchone()
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", f"sqlite:///{copy}")
    code, output = run("verify")
    assert code == 0, output


@pytest.fixture
def second_postgres_url(postgres_url: str) -> Iterator[str]:
    """Another fresh schema on the same test server, for the restored ledger."""
    base, _, _ = postgres_url.partition("?")
    schema = f"timebank_restored_{uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield f"{base}?schema={schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.mark.postgres
def test_a_postgresql_ledger_with_gaps_in_its_log_is_restored_at_the_same_positions(
    postgres_url: str,
    second_postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = open_ledger(postgres_url)
    community = busy_community(app)
    schema = postgres_url.rpartition("schema=")[2]
    with psycopg.connect(postgres_url.partition("?")[0], autocommit=True) as conn:
        # As an insert that was rolled back leaves it: a number the log never uses.
        conn.execute(
            sql.SQL("SELECT nextval(pg_get_serial_sequence({}, 'notification_id'))").format(
                sql.Literal(f'"{schema}".timebank_events')
            )
        )
    community.earn(community.li, 45)
    app.close()
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE, encoding="utf-8")
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", postgres_url)
    sealed, before = tmp_path / "ledger.tbx", tmp_path / "before.jsonl"
    assert run("export", str(sealed), "--encrypt", "--passphrase-file", str(secret))[0] == 0
    assert run("export", str(before))[0] == 0
    positions = [event["position"] for event in events_of(before)]
    assert positions != list(range(1, len(positions) + 1))  # the gap is there

    monkeypatch.setenv("TIMEBANK_DATABASE_URL", second_postgres_url)
    code, output = run("restore", str(sealed), "--passphrase-file", str(secret))

    assert code == 0, output
    after = tmp_path / "after.jsonl"
    assert run("export", str(after))[0] == 0
    assert events_of(after) == events_of(before)
    code, output = run("verify")
    assert code == 0, output


def test_a_ledger_restored_under_new_keys_is_encrypted_and_sealed_and_verifies(
    ledger: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How a ledger moves to an encryption key and an event key: export, restore."""
    sealed, before = tmp_path / "ledger.tbx", tmp_path / "before.jsonl"
    assert run("export", str(sealed), "--encrypt", "--passphrase-file", ledger["key"])[0] == 0
    assert run("export", str(before))[0] == 0
    restore_into(tmp_path, monkeypatch, "rekeyed.db")
    monkeypatch.setenv("TIMEBANK_ENCRYPTION_KEY", AESCipher.create_key(32))
    monkeypatch.setenv("TIMEBANK_EVENT_KEY", base64.b64encode(os.urandom(32)).decode())

    code, output = run("restore", str(sealed), "--passphrase-file", ledger["key"])

    assert code == 0, output
    assert b"Admin Zhou" not in (tmp_path / "rekeyed.db").read_bytes()
    code, output = run("verify")
    assert code == 0, output
    after = tmp_path / "after.jsonl"
    assert run("export", str(after))[0] == 0
    assert events_of(after) == events_of(before)


def test_bad_paths_and_stores_are_told_in_one_line(
    ledger: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = tmp_path / "no such directory" / "file"
    for args in (
        ("export", str(nowhere)),
        ("backup", str(nowhere)),
        ("restore", str(nowhere)),
        ("export", str(tmp_path / "x.tbx"), "--encrypt"),
        ("export", str(tmp_path / "x.tbx"), "--encrypt", "--passphrase-file", str(nowhere)),
    ):
        code, output = run(*args)
        assert code in (1, 2), args
        assert "Traceback" not in output
        assert output.strip()
    short = tmp_path / "short"
    short.write_text("too short\n", encoding="utf-8")
    code, output = run(
        "export", str(tmp_path / "x.tbx"), "--encrypt", "--passphrase-file", str(short)
    )
    assert code == 2
    assert "at least 12 characters" in output
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", "memory://")
    code, output = run("backup", str(tmp_path / "copy.db"))
    assert code == 1
    assert "pg_dump" in output


def test_an_audit_trail_written_before_secrets_were_left_out_is_told_and_rebuilt(
    ledger: dict[str, str], tmp_path: Path
) -> None:
    """As an earlier version kept it: a credential's digest and nonce in the trail."""
    assert run("export", str(tmp_path / "first.jsonl"))[0] == 0  # the trail is written
    with sqlite3.connect(ledger["db"]) as db:
        position, data = db.execute(
            "SELECT position, data FROM view_audit_trail "
            "WHERE topic = 'timebank:Credential.Issued' ORDER BY position LIMIT 1"
        ).fetchone()
        earlier = json.loads(data)
        del earlier["secrets_sha256"]
        earlier.update(digest="0" * 64, nonce="an earlier version kept this")
        db.execute(
            "UPDATE view_audit_trail SET data = ? WHERE position = ?",
            (json.dumps(earlier, sort_keys=True, separators=(",", ":")), position),
        )
        head = GENESIS_HASH  # and chained as that version chained it
        rows = db.execute(
            "SELECT position, topic, aggregate_id, aggregate_version, data "
            "FROM view_audit_trail ORDER BY position"
        ).fetchall()
        for at, topic, aggregate_id, version, text in rows:
            head = link_of(
                head,
                position=at,
                topic=topic,
                aggregate_id=aggregate_id,
                aggregate_version=version,
                data_json=text,
            )
            db.execute("UPDATE view_audit_trail SET hash = ? WHERE position = ?", (head, at))

    code, output = run("verify")
    assert code == 1
    assert "see SECURITY.md for the upgrade" in output

    assert run("rebuild", "audit", "--force")[0] == 0
    code, output = run("verify")
    assert code == 0, output
