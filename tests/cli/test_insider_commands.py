"""The observed cases at the terminal: `timebank verify` said "verified" to each of them, and
`timebank verify` on an encrypted store without its key printed a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from eventsourcing.cryptography import AESCipher
from typer.testing import CliRunner

from cli.main import app as cli
from projections.checkpoints import new_key_pair
from tests.insider import cut_tail, set_state, stored
from tests.projections.events import make
from tests.projections.test_runner import busy_community
from tests.support import TZ, fixed_clock
from timebank import TimeBank
from timebank.accounts import Account
from timebank.policy import Policy
from timebank.sealing import new_event_key
from timebank.storage import ledger_env

PRIVATE, PUBLIC = new_key_pair()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is never an answer
    return result.exit_code, result.output


def ledger_at(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **keys: str | None
) -> tuple[str, TimeBank]:
    """A busy community in a SQLite file the commands are pointed at, with these keys."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    monkeypatch.setenv("TIMEBANK_CHECKPOINT_KEY", PRIVATE)
    for name, value in keys.items():
        if value is not None:
            monkeypatch.setenv(f"TIMEBANK_{name.upper()}", value)
    env = ledger_env(
        url, event_key=keys.get("event_key"), encryption_key=keys.get("encryption_key")
    )
    app = TimeBank(env, policy=Policy(timezone=TZ), clock=fixed_clock)
    return url, app


def forged_earning(app: TimeBank, member: UUID) -> None:
    """An insider without the event key appends a credit of a day, through the library's
    recorder: no log, no approval."""
    account = Account.create_id(member)
    version = app.recorder.select_events(account, desc=True, limit=1)[0].originator_version
    event = make(
        Account.Earned,
        originator_id=account,
        originator_version=version + 1,
        timestamp=datetime.now(UTC),
        actor_id=uuid4(),
        service_log_id=uuid4(),
        minutes=1440,
        debit="issuance",
        credit=f"member:{member}",
        service_date=None,
        expires_on=None,
        policy_version=1,
        decided_on=None,
    )
    app.recorder.insert_events([app.mapper.to_stored_event(event)])


# Case 1 ---------------------------------------------------------------------------------


def test_verify_no_longer_folds_appended_rows_into_the_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, app = ledger_at(tmp_path, monkeypatch, event_key=new_event_key())
    insider = TimeBank(ledger_env(url))  # the database, not the key
    try:
        c = busy_community(app)
        assert run("verify")[0] == 0
        forged_earning(insider, c.li)
    finally:
        insider.close()
        app.close()
    code, output = run("verify")
    assert code == 1
    assert "\tunsealed\t" in output
    assert "written by someone without TIMEBANK_EVENT_KEY" in output


def test_verify_reports_a_forged_seal_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, app = ledger_at(tmp_path, monkeypatch, event_key=new_event_key())
    try:
        busy_community(app)
    finally:
        app.close()
    position, state = stored(url, "timebank:Account.Earned")
    forged = state.replace(b'"minutes":60', b'"minutes":1440')
    assert forged != state
    set_state(url, position, forged)
    code, output = run("verify")
    assert code == 1
    assert f"{position}\tforged\t" in output
    assert "verifying the stored events as they stand" in output


def test_without_a_key_an_appended_credit_with_no_approval_is_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, app = ledger_at(tmp_path, monkeypatch)
    try:
        c = busy_community(app)
        forged_earning(app, c.li)
        position = app.recorder.max_notification_id()
    finally:
        app.close()
    code, output = run("verify")
    assert code == 1
    assert f"{position}\tunbacked\t" in output


# Case 3 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "events"),
    [({}, 7), ({"encryption_key": AESCipher.create_key(32)}, 2)],
    ids=["clear", "encrypted"],
)
def test_a_checkpoint_kept_before_catches_a_cut_tail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: dict[str, str], events: int
) -> None:
    url, app = ledger_at(tmp_path, monkeypatch, **keys)
    try:
        busy_community(app)
    finally:
        app.close()
    kept = tmp_path / "kept.jsonl"
    code, output = run("checkpoint", "--out", str(kept))
    assert code == 0, output
    assert kept.read_text(encoding="utf-8") == output
    cut_tail(url, events)
    code, output = run("verify", "--checkpoint", str(kept), "--public-key", PUBLIC)
    assert code == 1
    assert "\tcheckpoint_not_extended\t" in output
    assert "short of its position" in output


def test_several_checkpoints_are_held_and_each_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, app = ledger_at(tmp_path, monkeypatch)
    try:
        c = busy_community(app)
        first, second = tmp_path / "march.jsonl", tmp_path / "april.jsonl"
        assert run("checkpoint", "--out", str(first))[0] == 0
        app.transfer(actor_id=c.li, to_member_id=c.grandma, minutes=10)
        assert run("checkpoint", "--out", str(second))[0] == 0
    finally:
        app.close()
    public = tmp_path / "ledger.pub"
    public.write_text(PUBLIC + "\n", encoding="utf-8")
    args = ("--checkpoint", str(first), "--checkpoint", str(second))
    code, output = run("verify", *args, "--public-key", str(public))
    assert code == 0, output
    unsigned = tmp_path / "forged.jsonl"
    unsigned.write_text(
        second.read_text(encoding="utf-8").replace('"count":', '"count":1'), "utf-8"
    )
    code, output = run("verify", *args, "--checkpoint", str(unsigned), "--checkpoint", "nowhere")
    assert code == 1
    assert "\tbad_signature\t" in output
    assert "\tbad_checkpoint\tnowhere" in output
    assert "pass --public-key" in output


def test_a_checkpoint_needs_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, app = ledger_at(tmp_path, monkeypatch)
    app.close()
    monkeypatch.delenv("TIMEBANK_CHECKPOINT_KEY")
    code, output = run("checkpoint")
    assert code == 2
    assert "TIMEBANK_CHECKPOINT_KEY is not set" in output


def test_the_key_generators_make_keys_the_settings_take(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, app = ledger_at(tmp_path, monkeypatch)
    app.close()
    code, output = run("keygen-checkpoint")
    assert code == 0
    private = output.splitlines()[0].removeprefix("TIMEBANK_CHECKPOINT_KEY=")
    public = output.splitlines()[1].rsplit(" ", 1)[1]
    code, output = run("keygen-event-key")
    assert code == 0
    monkeypatch.setenv("TIMEBANK_CHECKPOINT_KEY", private)
    kept = tmp_path / "kept.jsonl"
    assert run("checkpoint", "--out", str(kept))[0] == 0
    assert run("verify", "--checkpoint", str(kept), "--public-key", public)[0] == 0


# Case 7 and part E: a store opened without its key -------------------------------------


def console(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The console script, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env={**os.environ, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def keyed_store(tmp_path: Path, **keys: str) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = ledger_env(
        url, event_key=keys.get("event_key"), encryption_key=keys.get("encryption_key")
    )
    app = TimeBank(env, policy=Policy(timezone=TZ), clock=fixed_clock)
    try:
        busy_community(app)
    finally:
        app.close()
    return url


ENCRYPTION = AESCipher.create_key(32)
EVENT_KEY = new_event_key()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("written", "given", "line"),
    [
        (
            {"encryption_key": ENCRYPTION},
            {},
            "timebank: the store's events are encrypted; set TIMEBANK_ENCRYPTION_KEY to the "
            "key they were written with",
        ),
        (
            {"encryption_key": ENCRYPTION},
            {"TIMEBANK_ENCRYPTION_KEY": AESCipher.create_key(32)},
            "timebank: the store's events cannot be decrypted with TIMEBANK_ENCRYPTION_KEY",
        ),
        (
            {"event_key": EVENT_KEY},
            {},
            "timebank: the store's events are sealed; set TIMEBANK_EVENT_KEY",
        ),
        (
            {"event_key": EVENT_KEY},
            {"TIMEBANK_EVENT_KEY": new_event_key()},
            "timebank: the store's events are sealed with another key",
        ),
    ],
    ids=["encrypted", "wrong-encryption-key", "sealed", "wrong-event-key"],
)
@pytest.mark.parametrize(
    "command",
    [("verify",), ("replay",), ("rankings",), ("export", "out.jsonl"), ("checkpoint",)],
    ids=lambda args: args[0],
)
def test_a_store_opened_without_its_key_is_one_line_and_exit_status_2(
    tmp_path: Path,
    written: dict[str, str],
    given: dict[str, str],
    line: str,
    command: tuple[str, ...],
) -> None:
    url = keyed_store(tmp_path, **written)
    env = {"TIMEBANK_DATABASE_URL": url, "TIMEBANK_CHECKPOINT_KEY": PRIVATE, **given}
    for name in ("TIMEBANK_ENCRYPTION_KEY", "TIMEBANK_EVENT_KEY"):
        env.setdefault(name, "")
    done = console(tmp_path, env, *command)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(line), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_verify_on_an_encrypted_store_without_its_key_is_one_line_not_a_traceback(
    tmp_path: Path,
) -> None:
    """Case 7 as it was met (a JSONDecodeError); every command and key is tried above."""
    url = keyed_store(tmp_path, encryption_key=ENCRYPTION)
    done = console(
        tmp_path, {"TIMEBANK_DATABASE_URL": url, "TIMEBANK_ENCRYPTION_KEY": ""}, "verify"
    )
    assert done.returncode == 2
    assert done.stderr == (
        "timebank: the store's events are encrypted; set TIMEBANK_ENCRYPTION_KEY to the key "
        "they were written with\n"
    )


def test_a_forged_event_met_by_another_command_is_one_line_too(tmp_path: Path) -> None:
    url = keyed_store(tmp_path, event_key=EVENT_KEY)
    position, state = stored(url, "timebank:Account.Earned")
    set_state(url, position, state.replace(b'"minutes":60', b'"minutes":600'))
    done = console(
        tmp_path, {"TIMEBANK_DATABASE_URL": url, "TIMEBANK_EVENT_KEY": EVENT_KEY}, "replay"
    )
    assert done.returncode == 2
    assert done.stderr.startswith("timebank: a stored event cannot be read: "), done.stderr
    assert f"at position {position}: its seal does not match it" in done.stderr
    assert "Traceback" not in done.stderr
