"""The runner on every store: exactly once, resumable after a crash, one writer, rebuildable."""

from __future__ import annotations

import gc
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import func, inspect, select, update

from projections import registry
from projections.auditor import verify
from projections.balances import balances
from projections.base import SCHEMA_VERSION, Batch
from projections.queries import Reader
from projections.runner import NotTheWriterError, ProjectionRunner
from projections.service_logs import service_logs
from projections.store import AUDIT, VIEWS, ViewStore, caller_positions, view_positions
from projections.visibility import Viewer
from tests.support import Community, build_community, event_count, open_ledger, replayed
from timebank import TimeBank
from timebank.application import SYSTEM_ACTOR_ID

EVERYONE = Viewer(SYSTEM_ACTOR_ID, sees_everything=True)


class SimulatedCrashError(Exception):
    """Stands for the process dying in the middle of a batch."""


def busy_community(app: TimeBank) -> Community:
    """A community with a little of everything: about a hundred events."""
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store that outlives its process: a SQLite file or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'timebank.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(app: TimeBank) -> Iterator[ViewStore]:
    opened = ViewStore.open(app, pool_size=4)
    opened.prepare()
    try:
        yield opened
    finally:
        opened.close()


def stored_balances(store: ViewStore) -> dict[Any, tuple[int, ...]]:
    with store.read() as conn:
        return {
            row.member_id: (row.earned, row.redeemed, row.held, row.received, row.given)
            for row in conn.execute(select(balances))
        }


def assert_views_equal_a_fresh_replay(app: TimeBank, store: ViewStore) -> None:
    fresh = replayed(app)
    assert stored_balances(store) == {
        member: (m.earned, m.redeemed, m.held, m.received, m.given)
        for member, m in fresh.members.items()
    }
    report = verify(app, store)
    assert report.ok, report.problems
    assert store.positions() == {VIEWS: event_count(app), AUDIT: event_count(app)}


def test_the_views_follow_every_write(app: TimeBank, store: ViewStore) -> None:
    busy_community(app)
    runner = ProjectionRunner(app, store, batch_size=7)  # many batches, some mid-command

    applied = runner.catch_up()

    assert applied == event_count(app)
    assert_views_equal_a_fresh_replay(app, store)
    reader = Reader(store, app.today)
    logs = reader.service_logs(EVERYONE, limit=500).items
    assert [log.status for log in logs].count("reversed") == 1


def test_a_callers_noted_write_moves_only_forward(store: ViewStore) -> None:
    """Two processes may note one caller's writes out of order: the later write stays."""
    caller, other = uuid4(), uuid4()

    def noted() -> dict[Any, int]:
        with store.read() as conn:
            return {row.caller: row.position for row in conn.execute(select(caller_positions))}

    store.note_caller(caller, 7)
    store.note_caller(caller, 3)
    store.note_caller(other, 5)
    assert noted() == {caller: 7, other: 5}
    store.note_caller(caller, 9)
    assert noted() == {caller: 9, other: 5}


def test_one_statement_tells_where_the_log_ends_and_how_far_the_views_stand(
    app: TimeBank, store: ViewStore
) -> None:
    """The API's store question (api/freshness.py): the log's end where the events are
    beside the views (a SQLite file, PostgreSQL), else only the views' position."""
    c = busy_community(app)
    ProjectionRunner(app, store).catch_up()
    stored = event_count(app)
    c.earn(c.li, 30)  # not folded yet

    log, views = store.heads()

    assert views == stored
    if app.env.get("PERSISTENCE_MODULE", "").endswith(("sqlite", "postgres")):
        assert log == event_count(app) > stored
    else:
        assert log is None


def test_a_crash_in_the_middle_of_a_batch_stores_nothing_of_it_and_applies_nothing_twice(
    app: TimeBank, store: ViewStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = busy_community(app)
    runner = ProjectionRunner(app, store, batch_size=10)
    runner.catch_up(limit=30)
    before = store.positions()
    rankings = registry.VIEWS[4]  # folded after the service logs and the balances
    original = type(rankings).fold

    def crash(self: Any, batch: Batch) -> None:
        raise SimulatedCrashError

    monkeypatch.setattr(type(rankings), "fold", crash)
    with pytest.raises(SimulatedCrashError):
        runner.catch_up()
    assert store.positions() == before  # the batch's logs and balances went with it
    monkeypatch.setattr(type(rankings), "fold", original)

    runner.catch_up()

    assert_views_equal_a_fresh_replay(app, store)
    assert c.li in stored_balances(store)


def test_a_restarted_runner_resumes_where_the_stored_views_stand(durable_url: str) -> None:
    app = open_ledger(durable_url)
    first = ViewStore.open(app)
    first.prepare()
    busy_community(app)
    ProjectionRunner(app, first, batch_size=25).catch_up(limit=50)
    first.close()
    app.close()
    again = open_ledger(durable_url)
    reopened = ViewStore.open(again)
    try:
        reopened.prepare()
        assert reopened.positions()[VIEWS] == 50

        applied = ProjectionRunner(again, reopened).catch_up()

        assert applied == event_count(again) - 50
        assert_views_equal_a_fresh_replay(again, reopened)
    finally:
        reopened.close()
        again.close()


def test_only_one_runner_writes_a_stores_views(durable_url: str) -> None:
    """Two processes' stores on one database: one writes, the other waits for it, and
    takes the writing over once it goes."""
    app = open_ledger(durable_url)
    store = ViewStore.open(app)
    store.prepare()
    busy_community(app)
    writer = ProjectionRunner(app, store)
    assert writer.claim()
    other_store = ViewStore.open(app)
    try:
        reader = ProjectionRunner(app, other_store)
        assert not reader.claim()
        with pytest.raises(NotTheWriterError):
            reader.catch_up()
        head = event_count(app)
        writer.start(interval=0.01)
        assert reader.wait_for(head, timeout=30)  # the writer's follower gets there
        writer.stop()  # the writer goes: the other takes over when it needs to
        c = build_community(app)
        assert reader.wait_for(event_count(app), timeout=30)
        assert reader.is_writer
        assert c.admin in {m.id for m in Reader(other_store, app.today).member_names()}
    finally:
        other_store.close()
        store.close()
        app.close()


def test_a_rebuild_folds_the_views_again_and_keeps_the_audit_trail(
    app: TimeBank, store: ViewStore
) -> None:
    busy_community(app)
    runner = ProjectionRunner(app, store)
    runner.catch_up()
    with store.read() as conn:
        trail = conn.execute(select(func.count()).select_from(registry.AUDIT.tables[0])).scalar()
    with store.write() as conn:  # a view gone wrong
        conn.execute(update(balances).values(earned=999_999))

    rebuilt = runner.rebuild()

    assert rebuilt == event_count(app)
    assert_views_equal_a_fresh_replay(app, store)
    with store.read() as conn:
        after = conn.execute(select(func.count()).select_from(registry.AUDIT.tables[0])).scalar()
    assert after == trail


def test_views_of_another_form_are_folded_again_when_opened(
    app: TimeBank, store: ViewStore
) -> None:
    busy_community(app)
    ProjectionRunner(app, store).catch_up()
    with store.write() as conn:
        conn.execute(
            update(view_positions)
            .where(view_positions.c.name == VIEWS)
            .values(schema_version=SCHEMA_VERSION - 1)
        )
        conn.execute(service_logs.delete())  # what an older form would not have
        # An index of the older form, under the name this form gives another one.
        conn.exec_driver_sql("DROP INDEX view_service_logs_logged_by")
        conn.exec_driver_sql(
            "CREATE INDEX view_service_logs_logged_by ON view_service_logs (logged_by)"
        )

    assert store.prepare()  # the views start again from nothing
    assert store.positions()[VIEWS] == 0
    with store.read() as conn:
        indexes = {
            i["name"]: i["column_names"] for i in inspect(conn).get_indexes(service_logs.name)
        }
    assert indexes["view_service_logs_logged_by"] == [
        "logged_by",
        "status",
        "recorded_at",
        "log_id",
    ]
    ProjectionRunner(app, store).catch_up()

    assert_views_equal_a_fresh_replay(app, store)


@pytest.mark.parametrize("enabled", [True, False], ids=["collector-on", "collector-off"])
def test_a_catch_up_folds_with_the_collector_paused_and_leaves_it_as_it_found_it(
    app: TimeBank, store: ViewStore, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    busy_community(app)
    seen: list[bool] = []
    balances_projection = registry.VIEWS[3]
    original = type(balances_projection).fold

    def watched(self: Any, batch: Batch) -> None:
        seen.append(gc.isenabled())
        original(self, batch)

    monkeypatch.setattr(type(balances_projection), "fold", watched)
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        ProjectionRunner(app, store, batch_size=20).catch_up()
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert seen
    assert not any(seen)


def test_the_views_of_a_sqlite_ledger_live_in_its_file(tmp_path: Path) -> None:
    app = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        store = ViewStore.open(app)
        try:
            store.prepare()
            busy_community(app)
            ProjectionRunner(app, store).catch_up()
            assert store.has_table("view_statement_lines")
        finally:
            store.close()
    finally:
        app.close()
    assert {p.name for p in tmp_path.iterdir()} <= {
        "ledger.db",
        "ledger.db-wal",
        "ledger.db-shm",
        "ledger.db.views-writer",
        "ledger.db.serving",
    }


def test_a_sqlite_ledgers_views_reach_its_file_soon_after_each_batch(tmp_path: Path) -> None:
    """The batch's commit leaves the write-ahead log to a thread of its own, which copies
    it into the file: what the file alone holds (read past the log) catches up."""
    path = tmp_path / "ledger.db"
    app = open_ledger(f"sqlite:///{path}")
    try:
        store = ViewStore.open(app)
        try:
            store.prepare()
            busy_community(app)
            ProjectionRunner(app, store).catch_up()
            folded = store.position()
            deadline = time.monotonic() + 10
            while _position_in_the_file_alone(path) != folded:
                assert time.monotonic() < deadline, "the views never reached the file"
                time.sleep(0.01)
        finally:
            store.close()
    finally:
        app.close()


def _position_in_the_file_alone(path: Path) -> int | None:
    """The views' position as the database file holds it, without its write-ahead log."""
    with closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True)) as conn:
        try:
            row = conn.execute(
                "SELECT min(position) FROM view_positions WHERE name IN ('views', 'audit')"
            ).fetchone()
        except sqlite3.DatabaseError:  # the tables are not in the file yet
            return None
    return None if row is None else row[0]
