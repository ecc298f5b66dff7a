"""Replay and verify, for auditors: tampering of every kind is reported, never a crash."""

from __future__ import annotations

import gc
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import AggregateEvent

from projections import balances
from projections.auditor import (
    Report,
    UnverifiedChainError,
    rebuild_audit_trail,
    replay,
    verify,
)
from projections.runner import ProjectionRunner
from projections.store import ViewStore
from tests.projections.test_runner import busy_community
from tests.support import Community, event_count, open_ledger
from timebank import TimeBank


def test_replay_recomputes_every_balance_from_the_events_alone(app: TimeBank) -> None:
    c = busy_community(app)
    result = replay(app)
    assert result.events_replayed == event_count(app)
    assert result.total == 0
    by_member = {b.member_id: b for b in result.balances}
    for member_id in (c.li, c.zhao, c.wang, c.grandma):
        account = app.get_account(member_id)
        assert (by_member[member_id].balance_minutes, by_member[member_id].held_minutes) == (
            account.balance_minutes,
            account.held_minutes,
        )
    assert by_member[c.li].available_minutes == 110


def test_replay_as_of_an_instant_ignores_what_was_recorded_later(app: TimeBank) -> None:
    c = busy_community(app)
    before_gift = datetime.now(UTC)
    app.transfer(actor_id=c.li, to_member_id=c.grandma, minutes=100)
    then = {b.member_id: b.balance_minutes for b in replay(app, as_of=before_gift).balances}
    now = {b.member_id: b.balance_minutes for b in replay(app).balances}
    assert (then[c.li], now[c.li]) == (130, 30)
    assert (then[c.grandma], now[c.grandma]) == (100, 200)
    assert replay(app, as_of=before_gift - timedelta(days=365)).events_replayed == 0


def test_an_untouched_ledger_verifies(app: TimeBank) -> None:
    busy_community(app)
    runner = ProjectionRunner(app)
    runner.catch_up()
    report = verify(app, runner.store)
    assert report.ok, report.problems
    assert report.events_checked == event_count(app)


# Tampering with a real SQLite file ---------------------------------------------------------


Ledger = tuple[TimeBank, ProjectionRunner, Community, Path]


@pytest.fixture
def ledger_file(tmp_path: Path) -> Iterator[Ledger]:
    path = tmp_path / "ledger.db"
    app = open_ledger(f"sqlite:///{path}")
    community = busy_community(app)
    runner = ProjectionRunner(app)
    runner.catch_up()
    yield app, runner, community, path
    app.close()


def tamper(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    with sqlite3.connect(path) as db:
        for sql, params in statements:
            db.execute(sql, params)


def stored(path: Path, topic: str) -> tuple[int, bytes]:
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT rowid, state FROM stored_events WHERE topic = ? ORDER BY rowid", (topic,)
        ).fetchone()
    return int(row[0]), bytes(row[1])


def kinds(report: Report) -> set[tuple[int | None, str]]:
    return {(p.position, p.kind) for p in report.problems}


def test_verify_pauses_the_garbage_collector_and_leaves_it_as_it_found_it(
    app: TimeBank, monkeypatch: pytest.MonkeyPatch, collector_enabled: bool
) -> None:
    busy_community(app)
    runner = ProjectionRunner(app)
    runner.catch_up()
    during: list[bool] = []
    fold = balances.apply

    def watched(state: balances.Balances, event: AggregateEvent) -> balances.Balances:
        during.append(gc.isenabled())
        return fold(state, event)

    monkeypatch.setattr(balances, "apply", watched)
    assert verify(app, runner.store).ok
    assert during
    assert not any(during)
    assert gc.isenabled() is collector_enabled


def test_an_edited_event_is_reported(
    ledger_file: Ledger,
) -> None:
    app, runner, _, path = ledger_file
    position, state = stored(path, "timebank:Account.Earned")
    forged = state.replace(b'"minutes":60', b'"minutes":600')
    assert forged != state
    tamper(path, ("UPDATE stored_events SET state = ? WHERE rowid = ?", (forged, position)))
    report = verify(app, runner.store)
    assert not report.ok
    assert (position, "altered") in kinds(report)


def forge_an_earning(path: Path) -> int:
    """Make one stored earning ten times larger, as an attacker with the database would."""
    position, state = stored(path, "timebank:Account.Earned")
    tamper(
        path,
        (
            "UPDATE stored_events SET state = ? WHERE rowid = ?",
            (state.replace(b'"minutes":60', b'"minutes":600'), position),
        ),
    )
    return position


def test_rebuilding_the_views_keeps_the_evidence_of_a_forged_event(ledger_file: Ledger) -> None:
    app, runner, _, path = ledger_file
    position = forge_an_earning(path)
    runner.rebuild()
    assert (position, "altered") in kinds(verify(app, runner.store))


def test_the_audit_trail_is_not_chained_again_over_a_forged_event(ledger_file: Ledger) -> None:
    app, runner, _, path = ledger_file
    position = forge_an_earning(path)
    trail = runner.store.audit(after=0, limit=100_000)
    with pytest.raises(UnverifiedChainError) as refused:
        rebuild_audit_trail(app, runner)
    assert (position, "altered") in {(f.position, f.kind) for f in refused.value.findings}
    assert runner.store.audit(after=0, limit=100_000) == trail
    assert (position, "altered") in kinds(verify(app, runner.store))
    # Forced, the trail is chained from the events as they stand: the chain's evidence is
    # gone, which is why only an operator who kept it elsewhere should force it. What the
    # events mean still gives the forgery away: the credit is not what was approved.
    assert rebuild_audit_trail(app, runner, force=True) == event_count(app)
    runner.rebuild()
    assert kinds(verify(app, runner.store)) == {(position, "mismatch")}


def test_the_audit_trail_of_a_sound_ledger_is_rebuilt_as_it_was(ledger_file: Ledger) -> None:
    app, runner, _, _ = ledger_file
    trail = runner.store.audit(after=0, limit=100_000)
    runner.store.drop("audit")
    assert rebuild_audit_trail(app, runner) == event_count(app)
    assert runner.store.audit(after=0, limit=100_000) == trail
    assert verify(app, runner.store).ok


def test_a_deleted_event_is_reported(
    ledger_file: Ledger,
) -> None:
    app, runner, _, path = ledger_file
    position, _ = stored(path, "timebank:Transfer.Made")
    tamper(path, ("DELETE FROM stored_events WHERE rowid = ?", (position,)))
    report = verify(app, runner.store)
    assert (position, "missing") in kinds(report)
    assert report.events_checked == event_count(app)


def test_reordered_events_are_reported(
    ledger_file: Ledger,
) -> None:
    app, runner, _, path = ledger_file
    first, _ = stored(path, "timebank:ServiceLog.Logged")
    second = first + 1
    columns = "originator_id, originator_version, topic, state"
    put_back = (
        f"INSERT INTO stored_events (rowid, {columns}) SELECT ?, {columns} FROM swap WHERE id = ?"
    )
    tamper(
        path,
        (
            f"CREATE TEMP TABLE swap AS SELECT rowid AS id, {columns} FROM stored_events "
            "WHERE rowid IN (?, ?)",
            (first, second),
        ),
        ("DELETE FROM stored_events WHERE rowid IN (?, ?)", (first, second)),
        (put_back, (first, second)),
        (put_back, (second, first)),
    )
    report = verify(app, runner.store)
    assert {(first, "altered"), (second, "altered")} <= kinds(report)
    assert any(kind == "out_of_order" for _, kind in kinds(report))


def test_an_undecodable_event_is_reported_and_verify_goes_on(
    ledger_file: Ledger,
) -> None:
    app, runner, _, path = ledger_file
    position, _ = stored(path, "timebank:Account.Gave")
    tamper(
        path, ("UPDATE stored_events SET state = ? WHERE rowid = ?", (b"\xff{not json", position))
    )
    report = verify(app, runner.store)
    assert (position, "undecodable") in kinds(report)
    assert report.events_checked == event_count(app)


def test_an_altered_audit_trail_is_reported(
    ledger_file: Ledger,
) -> None:
    app, runner, _, path = ledger_file
    tamper(path, ("UPDATE timebank_audit_trail SET actor_id = 'someone' WHERE position = 5", ()))
    tamper(path, ("UPDATE timebank_audit_trail SET data = '{}' WHERE position = 6", ()))
    tamper(path, ("UPDATE timebank_audit_trail SET data = 'not json' WHERE position = 7", ()))
    report = verify(app, runner.store)
    assert kinds(report) == {(p, "audit_chain_broken") for p in (5, 6, 7)}


def test_a_forged_balance_view_is_reported(
    ledger_file: Ledger,
) -> None:
    app, runner, c, path = ledger_file
    tamper(
        path,
        (
            "UPDATE timebank_view_rows SET value = '[0, 9999, 0, 0, 0, 0]' "
            "WHERE projection = 'balances' AND key = ?",
            (f"member:{c.wang}",),
        ),
    )
    report = verify(app, runner.store)
    assert any(kind == "projection_mismatch" for _, kind in kinds(report))


def directory_row(path: Path, kind: str) -> tuple[str, str]:
    """One stored row of the directory view: its key and its JSON."""
    with sqlite3.connect(path) as db:
        key, value = db.execute(
            "SELECT key, value FROM timebank_view_rows WHERE projection = 'directory' "
            "AND key LIKE ? ORDER BY key",
            (f"{kind}:%",),
        ).fetchone()
    return str(key), str(value)


def change_minutes(path: Path) -> str:
    key, value = directory_row(path, "log")
    forged = json.dumps({**json.loads(value), "minutes": 600})
    tamper(
        path,
        (
            "UPDATE timebank_view_rows SET value = ? WHERE projection = 'directory' AND key = ?",
            (forged, key),
        ),
    )
    return "directory logs differ"


def drop_member(path: Path) -> str:
    key, _ = directory_row(path, "member")
    tamper(
        path, ("DELETE FROM timebank_view_rows WHERE projection = 'directory' AND key = ?", (key,))
    )
    return "directory members differ"


def add_team(path: Path) -> str:
    _, value = directory_row(path, "team")
    row = ("directory", f"team:{uuid4()}", value)
    tamper(path, ("INSERT INTO timebank_view_rows VALUES (?, ?, ?)", row))
    return "directory teams differ"


@pytest.mark.parametrize("forge", [change_minutes, drop_member, add_team])
def test_a_forged_directory_view_is_reported(
    ledger_file: Ledger, forge: Callable[[Path], str]
) -> None:
    app, runner, _, path = ledger_file
    finding = forge(path)
    report = verify(app, runner.store)
    assert [p.detail for p in report.problems if p.kind == "projection_mismatch"] == [finding]


def test_a_directory_row_stored_with_other_spacing_verifies(ledger_file: Ledger) -> None:
    """Rows are compared by the values they hold, not by how their JSON is spelled."""
    app, runner, _, path = ledger_file
    tamper(
        path,
        (
            "UPDATE timebank_view_rows SET value = replace(value, ',', ', ') "
            "WHERE projection = 'directory' AND key LIKE 'log:%'",
            (),
        ),
    )
    report = verify(app, runner.store)
    assert report.ok, report.problems


def test_an_audit_entry_stored_with_other_spacing_verifies(ledger_file: Ledger) -> None:
    """The audit trail stores canonical JSON and verify hashes that text as it is; text
    spelled another way is judged by the values it holds."""
    app, runner, _, path = ledger_file
    tamper(path, ("UPDATE timebank_audit_trail SET data = replace(data, ',', ', ')", ()))
    report = verify(app, runner.store)
    assert report.ok, report.problems


def test_an_unbalanced_ledger_is_reported(
    ledger_file: Ledger,
) -> None:
    app, runner, _, path = ledger_file
    position, _ = stored(path, "timebank:Account.Received")
    tamper(path, ("DELETE FROM stored_events WHERE rowid = ?", (position,)))
    report = verify(app, runner.store)
    found = kinds(report)
    assert (None, "imbalance") in found
    assert (position, "missing") in found


def test_verify_while_another_runner_stores_views_reports_no_mismatch(
    ledger_file: Ledger,
) -> None:
    app, runner, c, path = ledger_file
    for _ in range(5):
        app.transfer(actor_id=c.li, to_member_id=c.grandma, minutes=1)
    other_app = open_ledger(f"sqlite:///{path}")
    other = ProjectionRunner(other_app, batch_size=4)

    class RacingStore:
        """The store, with another process's runner storing batches mid-read."""

        def __init__(self, store: ViewStore) -> None:
            self.store = store

        def __getattr__(self, name: str) -> Any:
            return getattr(self.store, name)

        def read(
            self, projection: str, consume: Callable[[Iterator[tuple[str, str]]], Any]
        ) -> tuple[Any, int]:
            other.catch_up(limit=4)  # moves the stored views on, just before they are read
            return self.store.read(projection, consume)

    try:
        report = verify(app, RacingStore(runner.store))
        assert report.ok, report.problems
    finally:
        other_app.close()
