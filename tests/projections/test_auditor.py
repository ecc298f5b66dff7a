"""Replay and verify, for auditors: tampering of every kind is reported, never a crash."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import AggregateEvent

from projections import balances, compare, spill
from projections.audit import AuditEntry
from projections.auditor import (
    Report,
    UnverifiedChainError,
    rebuild_audit_trail,
    replay,
    verify,
)
from projections.queries import audit_entries
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
    store = ViewStore.open(app)
    try:
        store.prepare()
        ProjectionRunner(app, store).catch_up()
        report = verify(app, store)
        assert report.ok, report.problems
        assert report.events_checked == event_count(app)
    finally:
        store.close()


# Tampering with a real SQLite file ---------------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    app: TimeBank
    store: ViewStore
    runner: ProjectionRunner
    community: Community
    path: Path


@pytest.fixture
def ledger_file(tmp_path: Path) -> Iterator[Ledger]:
    path = tmp_path / "ledger.db"
    app = open_ledger(f"sqlite:///{path}")
    store = ViewStore.open(app)
    store.prepare()
    community = busy_community(app)
    runner = ProjectionRunner(app, store)
    runner.catch_up()
    yield Ledger(app, store, runner, community, path)
    store.close()
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


def trail(store: ViewStore) -> list[AuditEntry]:
    return audit_entries(store, after=0, limit=100_000)


def test_verify_pauses_the_garbage_collector_and_leaves_it_as_it_found_it(
    ledger_file: Ledger, monkeypatch: pytest.MonkeyPatch, collector_enabled: bool
) -> None:
    during: list[bool] = []
    fold = balances.apply

    def watched(state: balances.Balances, event: AggregateEvent) -> balances.Balances:
        during.append(gc.isenabled())
        return fold(state, event)

    monkeypatch.setattr(balances, "apply", watched)
    assert verify(ledger_file.app, ledger_file.store).ok
    assert during
    assert not any(during)
    assert gc.isenabled() is collector_enabled


def test_an_edited_event_is_reported(ledger_file: Ledger) -> None:
    position, state = stored(ledger_file.path, "timebank:Account.Earned")
    forged = state.replace(b'"minutes":60', b'"minutes":600')
    assert forged != state
    tamper(
        ledger_file.path, ("UPDATE stored_events SET state = ? WHERE rowid = ?", (forged, position))
    )
    report = verify(ledger_file.app, ledger_file.store)
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
    position = forge_an_earning(ledger_file.path)
    ledger_file.runner.rebuild()
    assert (position, "altered") in kinds(verify(ledger_file.app, ledger_file.store))


def test_the_audit_trail_is_not_chained_again_over_a_forged_event(ledger_file: Ledger) -> None:
    app, store = ledger_file.app, ledger_file.store
    position = forge_an_earning(ledger_file.path)
    before = trail(store)
    with pytest.raises(UnverifiedChainError) as refused:
        rebuild_audit_trail(app, store)
    assert (position, "altered") in {(f.position, f.kind) for f in refused.value.findings}
    assert trail(store) == before
    assert (position, "altered") in kinds(verify(app, store))
    # Forced, the trail is chained from the events as they stand: the chain's evidence is
    # gone, which is why only an operator who kept it elsewhere should force it. What the
    # events mean still gives the forgery away: the credit is not what was approved.
    assert rebuild_audit_trail(app, store, force=True) == event_count(app)
    ledger_file.runner.rebuild()
    assert kinds(verify(app, store)) == {(position, "mismatch")}


def test_the_audit_trail_of_a_sound_ledger_is_rebuilt_as_it_was(ledger_file: Ledger) -> None:
    app, store = ledger_file.app, ledger_file.store
    before = trail(store)
    assert rebuild_audit_trail(app, store) == event_count(app)
    assert trail(store) == before
    assert verify(app, store).ok


def test_a_deleted_event_is_reported(ledger_file: Ledger) -> None:
    app, store, path = ledger_file.app, ledger_file.store, ledger_file.path
    position, _ = stored(path, "timebank:Transfer.Made")
    tamper(path, ("DELETE FROM stored_events WHERE rowid = ?", (position,)))
    report = verify(app, store)
    assert (position, "missing") in kinds(report)
    assert report.events_checked == event_count(app)


def test_reordered_events_are_reported(ledger_file: Ledger) -> None:
    app, store, path = ledger_file.app, ledger_file.store, ledger_file.path
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
    report = verify(app, store)
    assert {(first, "altered"), (second, "altered")} <= kinds(report)
    assert any(kind == "out_of_order" for _, kind in kinds(report))


def test_verify_finds_the_same_when_what_it_keeps_goes_to_disk_at_once(
    ledger_file: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Versions, credits (one reversed) and daily totals all moved to disk after every
    entry: the same findings as with everything in memory, reordered events included."""
    app, store, path = ledger_file.app, ledger_file.store, ledger_file.path
    first, _ = stored(path, "timebank:ServiceLog.Logged")
    tamper(
        path,
        (
            "UPDATE stored_events SET originator_version = originator_version + 10 WHERE rowid = ?",
            (first,),
        ),
    )
    in_memory = verify(app, store).problems
    assert any(p.kind == "out_of_order" for p in in_memory)
    monkeypatch.setattr(spill, "LIMIT", 1)
    assert verify(app, store).problems == in_memory


def test_an_undecodable_event_is_reported_and_verify_goes_on(ledger_file: Ledger) -> None:
    app, store, path = ledger_file.app, ledger_file.store, ledger_file.path
    position, _ = stored(path, "timebank:Account.Gave")
    tamper(
        path, ("UPDATE stored_events SET state = ? WHERE rowid = ?", (b"\xff{not json", position))
    )
    report = verify(app, store)
    assert (position, "undecodable") in kinds(report)
    assert report.events_checked == event_count(app)
    assert [p.detail.split(":")[0] for p in report.problems if p.kind == "projection_mismatch"] == [
        "every view"
    ]


def test_an_altered_audit_trail_is_reported(ledger_file: Ledger) -> None:
    path = ledger_file.path
    tamper(path, ("UPDATE view_audit_trail SET actor_id = 'someone' WHERE position = 5", ()))
    tamper(path, ("UPDATE view_audit_trail SET data = '{}' WHERE position = 6", ()))
    tamper(path, ("UPDATE view_audit_trail SET data = 'not json' WHERE position = 7", ()))
    report = verify(ledger_file.app, ledger_file.store)
    assert kinds(report) == {(p, "audit_chain_broken") for p in (5, 6, 7)}


def mismatches(ledger: Ledger) -> list[str]:
    report = verify(ledger.app, ledger.store)
    return [p.detail for p in report.problems if p.kind == "projection_mismatch"]


def test_a_forged_balance_view_is_reported(ledger_file: Ledger) -> None:
    wang = ledger_file.community.wang.hex
    tamper(
        ledger_file.path,
        ("UPDATE view_balances SET earned = 9999 WHERE member_id = ?", (wang,)),
    )
    [finding] = mismatches(ledger_file)
    assert finding.startswith("view_balances: row ")
    assert finding.endswith("differs in earned")


@pytest.mark.parametrize(
    ("statement", "table"),
    [
        ("UPDATE view_service_logs SET minutes = 600 WHERE rowid = 1", "view_service_logs"),
        ("DELETE FROM view_members WHERE rowid = 2", "view_members"),
        (
            "INSERT INTO view_teams SELECT 'ffffffffffffffffffffffffffffffff', name, community, "
            "founded_on, formed_at FROM view_teams WHERE rowid = 1",
            "view_teams",
        ),
        ("UPDATE view_team_tallies SET minutes = minutes + 60", "view_team_tallies"),
        ("UPDATE view_memberships SET role = 'coordinator'", "view_memberships"),
    ],
)
def test_a_forged_row_of_any_view_is_reported(
    ledger_file: Ledger, statement: str, table: str
) -> None:
    tamper(ledger_file.path, (statement, ()))
    found = mismatches(ledger_file)
    assert [detail.split(":")[0] for detail in found] == [table]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE view_statement_lines SET counterparty = 'issuance' WHERE kind = 'gave'",
        "UPDATE view_statement_lines SET kind = 'received' WHERE kind = 'earned' AND rowid = 1",
        "UPDATE view_statement_lines SET reference_id = 'ffffffffffffffffffffffffffffffff' "
        "WHERE rowid = 2",
        "UPDATE view_statement_lines SET recorded_at = '2020-01-01 00:00:00.000000' "
        "WHERE rowid = 1",
        "UPDATE view_statement_lines SET balance_minutes = balance_minutes + 1 WHERE rowid = 3",
        "INSERT INTO view_statement_lines SELECT member_id, 999999999, recorded_at, kind, "
        "reference_id, counterparty, minutes, balance_minutes FROM view_statement_lines "
        "WHERE rowid = 1",
    ],
    ids=["counterparty", "kind", "reference", "recorded time", "running balance", "inserted"],
)
def test_a_forged_statement_line_is_reported(ledger_file: Ledger, statement: str) -> None:
    """Case 4 of the verify issue: every field of a line, and a line that was never posted."""
    tamper(ledger_file.path, (statement, ()))
    assert [detail.split(":")[0] for detail in mismatches(ledger_file)] == ["view_statement_lines"]


def test_minutes_moved_between_two_lines_with_the_same_net_are_reported(
    ledger_file: Ledger,
) -> None:
    tamper(
        ledger_file.path,
        ("UPDATE view_statement_lines SET minutes = minutes + 10 WHERE rowid = 1", ()),
        ("UPDATE view_statement_lines SET minutes = minutes - 10 WHERE rowid = 2", ()),
    )
    [finding] = mismatches(ledger_file)
    assert "differs in minutes" in finding
    assert "and 1 more rows" in finding or finding.count("differs in minutes") == 2


def test_an_audit_entry_stored_with_other_spacing_verifies(ledger_file: Ledger) -> None:
    """The audit trail stores canonical JSON and verify hashes that text as it is; text
    spelled another way is judged by the values it holds."""
    tamper(
        ledger_file.path,
        ("UPDATE view_audit_trail SET data = replace(data, ?, ?)", ('","', '", "')),
    )
    report = verify(ledger_file.app, ledger_file.store)
    assert report.ok, report.problems


def test_an_unbalanced_ledger_is_reported(ledger_file: Ledger) -> None:
    app, store, path = ledger_file.app, ledger_file.store, ledger_file.path
    position, _ = stored(path, "timebank:Account.Received")
    tamper(path, ("DELETE FROM stored_events WHERE rowid = ?", (position,)))
    report = verify(app, store)
    found = kinds(report)
    assert (None, "imbalance") in found
    assert (position, "missing") in found


def test_views_the_writer_moves_on_while_verify_compares_show_no_mismatch(
    ledger_file: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verify compares the views as they stood in one snapshot with the log folded up to
    that snapshot's position, however far the writer takes them meanwhile."""
    app, store, runner, c = (
        ledger_file.app,
        ledger_file.store,
        ledger_file.runner,
        ledger_file.community,
    )
    for _ in range(5):
        app.transfer(actor_id=c.li, to_member_id=c.grandma, minutes=1)
    fold_afresh = compare.fold_page
    moved: list[int] = []

    def racing(*args: Any, **kwargs: Any) -> None:
        if not moved:  # the first scratch batch: meanwhile the writer stores more
            moved.append(runner.catch_up())
        fold_afresh(*args, **kwargs)

    monkeypatch.setattr(compare, "fold_page", racing)
    position_before = store.positions()["views"]
    report = verify(app, store)
    assert report.ok, report.problems
    assert moved
    assert moved[0] > 0
    assert store.positions()["views"] > position_before
