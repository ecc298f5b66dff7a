"""The runner on every store: exactly once, resumable after a crash, rebuildable, fresh."""

from __future__ import annotations

import gc
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import AggregateEvent
from eventsourcing.persistence import IntegrityError, Notification

from projections import directory
from projections import store as store_module
from projections.auditor import verify
from projections.log import read_events
from projections.periods import parse_period
from projections.rankings import team_rankings
from projections.runner import ProjectionRunner
from projections.store import MemoryViewStore, SQLViewStore, Storing, ViewStore, Writes
from tests.support import (
    TODAY,
    Community,
    build_community,
    event_count,
    open_ledger,
    replayed,
    wait_until,
)
from timebank import TimeBank


class SimulatedCrashError(Exception):
    """Stands for the process dying in the middle of a batch."""


def busy_community(app: TimeBank) -> Community:
    """A community with a little of everything: about eighty events."""
    c = build_community(app)
    for minutes in (60, 90, 30):
        c.earn(c.li, minutes)
        c.earn(c.zhao, minutes, team=c.patrol_team)
    log_id = c.earn(c.wang, 45)
    app.reverse_service(actor_id=c.care_coordinator, service_log_id=log_id, reason="twice")
    held = app.request_redemption(actor_id=c.li, team_id=c.care_team, service="care", minutes=50)
    app.fulfil_redemption(actor_id=c.care_coordinator, redemption_id=held.id)
    app.request_redemption(actor_id=c.li, team_id=c.care_team, service="care", minutes=20)
    app.transfer(actor_id=c.zhao, to_member_id=c.grandma, minutes=100)
    return c


def fresh_directory(app: TimeBank) -> directory.Directory:
    state = directory.Directory()
    for event in read_events(app):
        directory.apply(state, event)
    return state


def assert_views_equal_a_fresh_replay(app: TimeBank, runner: ProjectionRunner) -> None:
    balances = replayed(app)
    assert runner.balances.state.members == balances.members
    assert runner.balances.state.system == balances.system
    assert runner.balances.state.pending_logs == balances.pending_logs  # reviewed: row deleted
    assert runner.directory.state.logs == fresh_directory(app).logs
    positions = [entry.position for entry in runner.store.audit(after=0, limit=100_000)]
    assert len(positions) == len(set(positions)) == event_count(app)
    report = verify(app, runner.store)
    assert report.ok, report.problems


@pytest.fixture
def reopen(store_url: str, app: TimeBank) -> Iterator[Callable[[], TimeBank]]:
    """Open the same store again, as a restarted process would."""
    opened: list[TimeBank] = []

    def again() -> TimeBank:
        if store_url == "memory://":
            return app  # an in-memory ledger lives only in this process
        ledger = open_ledger(store_url)
        opened.append(ledger)
        return ledger

    yield again
    for ledger in opened:
        ledger.close()


def test_the_views_follow_every_write(app: TimeBank) -> None:
    c = busy_community(app)
    runner = ProjectionRunner(app)
    assert runner.catch_up() == event_count(app)
    li = runner.balances.state.members[c.li]
    assert (li.earned, li.redeemed, li.held, li.balance, li.available) == (180, 50, 20, 130, 110)
    lines = runner.store.statement(c.li, after=0, limit=100)
    assert [line.balance_minutes for line in lines] == [60, 150, 180, 130]
    assert_views_equal_a_fresh_replay(app, runner)


def test_a_reviewed_log_leaves_no_pending_row_whether_reviewed_in_its_batch_or_later(
    app: TimeBank, reopen: Callable[[], TimeBank]
) -> None:
    c = build_community(app)
    runner = ProjectionRunner(app)
    runner.catch_up()

    def log(volunteer: UUID) -> UUID:
        return app.log_service(
            actor_id=volunteer, team_id=c.care_team, service_date=TODAY, minutes=30, activity="care"
        ).id

    reviewed_at_once, reviewed_later, still_pending = log(c.li), log(c.wang), log(c.li)
    app.approve_service(actor_id=c.care_coordinator, service_log_id=reviewed_at_once)
    runner.catch_up()  # one batch: the first log is logged and approved in it
    assert _stored_pending(runner) == {reviewed_later, still_pending}
    app.reject_service(actor_id=c.care_coordinator, service_log_id=reviewed_later, reason="no")
    runner.catch_up()
    assert _stored_pending(runner) == {still_pending}
    restarted_app = reopen()
    restarted = ProjectionRunner(restarted_app, store=_same_store(runner, app))
    assert restarted.balances.state.members[c.li].pending == 30
    assert_views_equal_a_fresh_replay(restarted_app, restarted)


def _stored_pending(runner: ProjectionRunner) -> set[UUID]:
    """The service logs the stored balances view holds as pending."""
    keys, _ = runner.store.read("balances", stored_keys)
    return {UUID(key.partition(":")[2]) for key in keys if key.startswith("pending:")}


def stored_keys(rows: Iterator[tuple[str, str]]) -> list[str]:
    return [key for key, _ in rows]


def test_a_directory_stored_by_an_older_version_is_folded_again(tmp_path: Path) -> None:
    path = tmp_path / "timebank.db"
    app = open_ledger(f"sqlite:///{path}")
    try:
        busy_community(app)
        ProjectionRunner(app).catch_up()
        with sqlite3.connect(path) as db:  # log rows keyed as before: `log:<id>`
            db.execute(
                "UPDATE timebank_view_rows SET key = 'log:' || substr(key, 22) "
                "WHERE projection = 'directory' AND key LIKE 'log:%'"
            )
        restarted = ProjectionRunner(app)
        stored, _ = restarted.store.read("directory", stored_keys)
        keys = [key for key in stored if key.startswith("log:")]
        assert len(keys) == len(restarted.directory.state.logs) > 0
        assert all(len(key.split(":")) == 3 for key in keys)
        assert_views_equal_a_fresh_replay(app, restarted)
    finally:
        app.close()


def test_stored_views_reach_the_database_file_without_waiting_for_a_full_log(
    tmp_path: Path,
) -> None:
    """SQLite keeps new pages in its write-ahead log until a checkpoint copies them into the
    database file; a commit does that only once the log passes 1000 pages. The view store
    checkpoints in a thread of its own as it stores batches."""
    path = tmp_path / "timebank.db"
    app = open_ledger(f"sqlite:///{path}")
    try:
        busy_community(app)
        runner = ProjectionRunner(app)
        runner.catch_up()
        assert isinstance(runner.store, SQLViewStore)
        checkpointer = runner.store.checkpointer
        assert checkpointer is not None
        wait_until(lambda: checkpointer.checkpoints >= 1, timeout=10, what="a checkpoint")
        alone = tmp_path / "alone.db"  # the database file without its log
        shutil.copyfile(path, alone)
        with closing(sqlite3.connect(alone)) as db:
            (entries,) = db.execute("SELECT COUNT(*) FROM timebank_audit_trail").fetchone()
        assert entries == event_count(app)
    finally:
        app.close()


def test_a_crash_in_the_middle_of_a_batch_loses_nothing_and_applies_nothing_twice(
    app: TimeBank, reopen: Callable[[], TimeBank], monkeypatch: pytest.MonkeyPatch
) -> None:
    busy_community(app)
    runner = ProjectionRunner(app, batch_size=25)
    assert runner.catch_up(limit=25) == 25
    applied = 0
    original = runner.balances.apply

    def dies_on_the_tenth(
        notification: Notification, event: AggregateEvent, writes: Writes
    ) -> None:
        nonlocal applied
        applied += 1
        if applied == 10:
            raise SimulatedCrashError
        original(notification, event, writes)

    monkeypatch.setattr(runner.balances, "apply", dies_on_the_tenth)
    with pytest.raises(SimulatedCrashError):
        runner.catch_up()

    restarted_app = reopen()
    restarted = ProjectionRunner(restarted_app, batch_size=25, store=_same_store(runner, app))
    assert restarted.positions == {"directory": 25, "balances": 25, "audit": 25}
    restarted.catch_up()
    assert_views_equal_a_fresh_replay(restarted_app, restarted)


@pytest.mark.parametrize("failing", ["third", "last"])
def test_a_batch_whose_commit_fails_is_folded_again_and_applied_once(
    app: TimeBank, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A batch's commit may still run while the runner folds the next page: when it
    fails, the batches stored before it stand, and the rest is folded again later."""
    busy_community(app)
    runner = ProjectionRunner(app, batch_size=10)
    fails = 3 if failing == "third" else -(-event_count(app) // 10)
    write_behind = runner.store.write_behind
    stored = 0

    class FailedCommit:
        def wait(self) -> None:
            raise SimulatedCrashError

    def one_commit_fails(batch: dict[str, Writes]) -> Storing:
        nonlocal stored
        stored += 1
        return FailedCommit() if stored == fails else write_behind(batch)

    monkeypatch.setattr(runner.store, "write_behind", one_commit_fails)
    with pytest.raises(SimulatedCrashError):
        runner.catch_up()
    before = (fails - 1) * 10
    assert runner.positions == {"directory": before, "balances": before, "audit": before}
    assert runner.store.tracked("audit") == before
    assert runner.catch_up() == event_count(app) - before
    assert_views_equal_a_fresh_replay(app, runner)


def test_a_refusal_that_no_other_runner_explains_is_raised_not_retried(
    app: TimeBank, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch refused while no view's stored position moved was not stored by another
    runner: taking the stored views and folding again would meet the same refusal
    forever, so the catch-up raises it."""
    busy_community(app)
    runner = ProjectionRunner(app, batch_size=10)
    refusals = 0

    class Refused:
        def wait(self) -> None:
            nonlocal refusals
            refusals += 1
            if refusals > 3:
                raise SimulatedCrashError("refused again and again: caught up in a loop")
            raise IntegrityError("refused")

    monkeypatch.setattr(runner.store, "write_behind", lambda batch: Refused())
    with pytest.raises(IntegrityError):
        runner.catch_up()
    assert refusals == 1
    assert runner.positions == {"directory": 0, "balances": 0, "audit": 0}


def test_a_batch_that_changes_no_view_stores_nothing_and_fails_nothing(app: TimeBank) -> None:
    """A page without an aggregate's event (none of the views' concern) makes an empty
    batch: storing it, now or behind, leaves every view and position as it was."""
    busy_community(app)
    runner = ProjectionRunner(app)
    runner.catch_up()
    before = {name: runner.store.tracked(name) for name in runner.projections}
    runner.store.write({})
    runner.store.write_behind({}).wait()
    assert {name: runner.store.tracked(name) for name in runner.projections} == before
    assert_views_equal_a_fresh_replay(app, runner)


def _same_store(runner: ProjectionRunner, app: TimeBank) -> ViewStore | None:
    """A memory store is the process's own; a database store is simply opened again."""
    return runner.store if isinstance(runner.store, MemoryViewStore) else None


def test_a_restarted_runner_resumes_where_it_stopped(
    app: TimeBank, reopen: Callable[[], TimeBank]
) -> None:
    c = busy_community(app)
    first = ProjectionRunner(app)
    first.catch_up()
    app.transfer(actor_id=c.li, to_member_id=c.wang, minutes=10)
    second_app = reopen()
    second = ProjectionRunner(second_app, store=_same_store(first, app))
    assert second.catch_up() == 3  # only the gift: its record and its two legs
    assert second.balances.state.members[c.wang].received == 10
    assert_views_equal_a_fresh_replay(second_app, second)


def test_a_restarted_runner_reads_back_views_larger_than_a_page(
    app: TimeBank, reopen: Callable[[], TimeBank], monkeypatch: pytest.MonkeyPatch
) -> None:
    busy_community(app)
    first = ProjectionRunner(app)
    first.catch_up()
    monkeypatch.setattr("projections.store._ROWS_PAGE", 3)  # every view spans many pages
    second_app = reopen()
    second = ProjectionRunner(second_app, store=_same_store(first, app))
    assert second.catch_up() == 0
    assert second.directory.state == first.directory.state
    assert second.balances.state == first.balances.state
    assert_views_equal_a_fresh_replay(second_app, second)


def test_a_rebuild_drops_and_refolds_one_view_or_every_view(app: TimeBank) -> None:
    c = busy_community(app)
    runner = ProjectionRunner(app, batch_size=7)
    runner.catch_up()
    before = team_rankings(runner.directory.state, parse_period("all"))
    assert runner.rebuild(["balances"]) == event_count(app)
    assert runner.balances.state.members[c.li].balance == 130
    assert runner.rebuild() == event_count(app)
    assert team_rankings(runner.directory.state, parse_period("all")) == before
    assert_views_equal_a_fresh_replay(app, runner)


def test_a_rebuild_leaves_the_garbage_collector_as_it_found_it(
    app: TimeBank, monkeypatch: pytest.MonkeyPatch, collector_enabled: bool
) -> None:
    """A rebuild pauses the collector; afterwards, even after a failure, it is as before."""
    busy_community(app)
    runner = ProjectionRunner(app)
    runner.rebuild()
    assert gc.isenabled() is collector_enabled

    def fails(*args: object) -> None:
        raise SimulatedCrashError

    monkeypatch.setattr(runner.balances, "apply", fails)
    with pytest.raises(SimulatedCrashError):
        runner.rebuild()
    assert gc.isenabled() is collector_enabled


def test_a_catch_up_folds_with_the_collector_paused_and_leaves_it_as_it_found_it(
    app: TimeBank, monkeypatch: pytest.MonkeyPatch, collector_enabled: bool
) -> None:
    """A full collection at a million events takes half a second: pages are folded without
    the collector, which is as before between pages, afterwards, and after a failure."""
    busy_community(app)
    runner = ProjectionRunner(app, batch_size=10)
    during: list[bool] = []
    between: list[bool] = []
    apply = runner.balances.apply

    def watched(notification: Notification, event: AggregateEvent, writes: Writes) -> None:
        during.append(gc.isenabled())
        apply(notification, event, writes)

    monkeypatch.setattr(runner.balances, "apply", watched)
    assert runner.catch_up(progress=lambda _: between.append(gc.isenabled())) > 10
    assert during
    assert not any(during)
    assert len(between) > 1
    assert set(between) == {collector_enabled}
    assert gc.isenabled() is collector_enabled

    def fails(*args: object) -> None:
        raise SimulatedCrashError

    monkeypatch.setattr(runner.balances, "apply", fails)
    busy_community(app)
    with pytest.raises(SimulatedCrashError):
        runner.catch_up()
    assert gc.isenabled() is collector_enabled


def test_a_rebuild_keeps_the_audit_trail_unless_told_to_chain_it_again(app: TimeBank) -> None:
    busy_community(app)
    runner = ProjectionRunner(app)
    runner.catch_up()
    trail = runner.store.audit(after=0, limit=100_000)
    runner.store.drop("audit")  # had the rebuild chained the trail again, it would be back
    runner.rebuild()
    assert runner.store.audit(after=0, limit=100_000) == []
    with pytest.raises(ValueError, match="audit"):
        runner.rebuild(["audit"])
    assert runner.rebuild(["audit"], rechain_audit=True) == event_count(app)
    assert runner.store.audit(after=0, limit=100_000) == trail


def test_a_read_after_a_write_sees_the_write(app: TimeBank) -> None:
    c = build_community(app)
    runner = ProjectionRunner(app)
    runner.catch_up()
    c.earn(c.li, 25)
    runner.wait_for(app.last_position())
    assert runner.balances.state.members[c.li].balance == 25


def test_the_background_follower_keeps_the_views_current(app: TimeBank) -> None:
    c = build_community(app)
    runner = ProjectionRunner(app)
    runner.start(interval=0.01)
    try:
        c.earn(c.zhao, 40, team=c.patrol_team)
        deadline = time.monotonic() + 10
        while runner.position < event_count(app):
            assert time.monotonic() < deadline, "the follower did not catch up in 10 s"
            time.sleep(0.005)
        assert runner.balances.state.members[c.zhao].balance == 40
    finally:
        runner.stop()


def test_a_runner_whose_batch_another_stored_first_reads_on_to_the_end_of_the_log(
    app: TimeBank, reopen: Callable[[], TimeBank]
) -> None:
    """Another process's runner stored part of the page this one folded: this one takes
    the stored views and goes on, so that its catch-up still returns only at the end of
    the log (read-your-writes waits on it), not at the other runner's position."""
    c = busy_community(app)
    first = ProjectionRunner(app)
    other = ProjectionRunner(reopen(), store=_same_store(first, app))
    assert other.catch_up() > 0
    app.transfer(actor_id=c.li, to_member_id=c.grandma, minutes=5)
    assert first.catch_up() > 0
    assert first.position == event_count(app)
    assert first.balances.state.members[c.grandma].received == 105
    assert_views_equal_a_fresh_replay(app, first)


def test_a_runner_behind_another_folds_on_to_the_stored_views_without_reading_them_back(
    app: TimeBank, reopen: Callable[[], TimeBank], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store refuses this runner's batch: another process's runner stored these
    events, and more, first. Its views are the ones this runner would have folded, so
    this one folds on to them without storing and without reading the views back (at a
    million events a read-back takes 20 s, with readers waiting)."""
    c = busy_community(app)
    first = ProjectionRunner(app, batch_size=10)
    other = ProjectionRunner(reopen(), store=_same_store(first, app))
    assert other.catch_up() > 10
    read = first.store.read
    reads: list[str] = []

    def counted(projection: str, consume: Callable[[Iterator[tuple[str, str]]], Any]) -> Any:
        reads.append(projection)
        return read(projection, consume)

    monkeypatch.setattr(first.store, "read", counted)
    assert first.catch_up() > 0
    assert reads == []
    assert first.position == event_count(app)
    assert first.balances.state.members[c.grandma].received == 100
    assert_views_equal_a_fresh_replay(app, first)


def test_a_view_and_its_position_are_read_from_one_snapshot(
    app: TimeBank, reopen: Callable[[], TimeBank], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's runner stores a batch while this one reads a view a page at a
    time: the rows and the position read are those from before that batch, on every page.
    (Read a page per transaction, a view had to be read again whenever a batch landed
    meanwhile: under steady writes from another process a reload never ended.)"""
    monkeypatch.setattr(store_module, "_ROWS_PAGE", 2)
    c = busy_community(app)
    first = ProjectionRunner(app)
    first.catch_up()
    other = ProjectionRunner(reopen(), store=_same_store(first, app))
    before = first.store.read("directory", list)
    stored_meanwhile: list[int] = []

    def with_a_batch_stored_after_the_first_row(rows: Iterator[tuple[str, str]]) -> list[Any]:
        read = [next(rows)]
        c.earn(c.li, 30)
        stored_meanwhile.append(other.catch_up())
        return read + list(rows)

    assert first.store.read("directory", with_a_batch_stored_after_the_first_row) == before
    assert stored_meanwhile[0] > 0
    after, position = first.store.read("directory", list)
    assert position > before[1]
    assert len(after) > len(before[0])


def test_two_runners_on_one_database_store_each_event_once(
    app: TimeBank, reopen: Callable[[], TimeBank]
) -> None:
    c = busy_community(app)
    first = ProjectionRunner(app, batch_size=10)
    other_app = reopen()
    second = ProjectionRunner(other_app, batch_size=10, store=_same_store(first, app))
    first.catch_up(limit=30)
    second.catch_up()  # stores nothing it finds already stored, and catches up
    first.catch_up()
    app.transfer(actor_id=c.li, to_member_id=c.grandma, minutes=5)
    second.catch_up()
    first.catch_up()
    for runner in (first, second):
        assert runner.balances.state.members[c.grandma].received == 105
        assert_views_equal_a_fresh_replay(app, runner)
