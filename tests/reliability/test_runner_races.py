"""Three product bugs the multi-process tests ran into, each shown on its own."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from projections.audit import AuditEntry
from projections.auditor import verify
from projections.balances import StatementLine
from projections.runner import ProjectionRunner
from projections.store import Storing, ViewStore, Writes, open_view_store
from tests.reliability.harness import open_store
from tests.support import (
    TODAY,
    build_community,
    fixed_clock,
    open_ledger,
    postgres_test_url,
    replayed,
)
from timebank.members import Member

T = TypeVar("T")


class BatchStoredBetweenReads:
    """A view store through which a runner sees another process store a batch while it
    reads a view's rows, as may happen at any moment when several processes keep the
    views of one store."""

    def __init__(self, store: ViewStore, another_batch: Callable[[], None]) -> None:
        self.store = store
        self.another_batch = another_batch
        self.batches = 3  # how many batches the other process stores meanwhile

    def tracked(self, projection: str) -> int:
        return self.store.tracked(projection)

    def read(
        self, projection: str, consume: Callable[[Iterator[tuple[str, str]]], T]
    ) -> tuple[T, int]:
        def interrupted(rows: Iterator[tuple[str, str]]) -> T:
            return consume(self._with_a_batch_stored_after_the_first(rows))

        return self.store.read(projection, interrupted)

    def _with_a_batch_stored_after_the_first(
        self, rows: Iterator[tuple[str, str]]
    ) -> Iterator[tuple[str, str]]:
        for index, row in enumerate(rows):
            yield row
            if index == 0 and self.batches:
                self.batches -= 1
                self.another_batch()

    def write(self, batch: dict[str, Writes]) -> None:
        self.store.write(batch)

    def write_behind(self, batch: dict[str, Writes]) -> Storing:
        return self.store.write_behind(batch)

    def drop(self, projection: str) -> None:
        self.store.drop(projection)

    def statement(self, member_id: UUID, *, after: int, limit: int) -> list[StatementLine]:
        return self.store.statement(member_id, after=after, limit=limit)

    def audit(self, *, after: int, limit: int) -> list[AuditEntry]:
        return self.store.audit(after=after, limit=limit)

    def statement_summary(self, *, up_to: int) -> dict[UUID, tuple[int, int]]:
        return self.store.statement_summary(up_to=up_to)

    def close(self) -> None:
        self.store.close()


def test_a_runner_that_reloads_while_another_stores_a_batch_keeps_its_views_right(
    tmp_path: Path,
) -> None:
    """A runner (re)loads its views, as it does when it starts and whenever another
    process stored a batch first; meanwhile another process's runner stores a batch. The
    first runner must go on from a consistent view and position: its balances, and the
    views it stores, must agree with a replay of the log."""
    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        community = build_community(ledger)
        other = ProjectionRunner(ledger)  # another process's runner, on the same store
        other.catch_up()

        def another_batch() -> None:
            community.earn(community.li, 60)
            other.catch_up()

        racing = BatchStoredBetweenReads(open_view_store(ledger), another_batch)
        runner = ProjectionRunner(ledger, store=racing)  # loads each view, then its position
        assert racing.batches == 0, "the other process stored no batch meanwhile"
        community.earn(community.wang, 30)
        runner.catch_up()

        assert runner.balances.state.members == replayed(ledger).members
        report = verify(ledger, open_view_store(ledger))
        assert report.ok, report.problems
    finally:
        ledger.close()


@pytest.mark.postgres
def test_processes_starting_together_on_an_empty_postgres_schema_all_start(
    postgres_url: str,
) -> None:
    """Six ledgers open on a fresh schema (their event tables exist), then start their
    projection runners at once, as `serve --workers 6` or several hosts starting together
    do: every one of them must start. Tried three times, on the schema made afresh."""
    base = postgres_test_url()
    assert base is not None
    schema = sql.Identifier(parse_qs(urlsplit(postgres_url).query)["schema"][0])
    for attempt in range(3):
        if attempt:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(schema))
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
        _start_runners_together(postgres_url, count=6)


def _start_runners_together(url: str, count: int) -> None:
    ledgers = [open_store(url) for _ in range(count)]  # one after the other
    start = threading.Barrier(count)
    failures: list[PersistenceError] = []

    def start_runner(ledger_index: int) -> None:
        start.wait(timeout=30)
        try:
            ProjectionRunner(ledgers[ledger_index])
        except PersistenceError as error:  # what the process would have died of
            failures.append(error)

    threads = [threading.Thread(target=start_runner, args=(n,)) for n in range(count)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a runner did not start within 60 s"
    finally:
        for ledger in ledgers:
            ledger.close()
    assert not failures, f"{len(failures)} of {count} processes would have died: {failures[0]!r}"


@pytest.mark.postgres
def test_a_runner_tailing_the_log_sees_an_event_committed_after_a_later_one(
    postgres_url: str,
) -> None:
    """A save is in flight (its event has a position, it is not committed yet) while
    another save commits and a runner reads the log. Either the second save waits for the
    first (what the library's EXCLUSIVE table lock is for) or the runner would step over
    the first event for ever: it must end up having applied every stored event. (With
    POSTGRES_ENABLE_DB_FUNCTIONS on, whose insert function takes no table lock in 9.5.6,
    this failed: the product leaves it off.)"""
    # Three connections: the save held open, the gift, the runner.
    ledger = open_store(postgres_url, connections=3, clock=fixed_clock)
    try:
        community = build_community(ledger)
        community.earn(community.li, 120)
        runner = ProjectionRunner(ledger)
        runner.catch_up()
        recorder = ledger.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)

        newcomer = Member.register(
            actor_id=community.admin, name="Newcomer", birth_date=None, roles=[], today=TODAY
        )
        in_flight = [ledger.mapper.to_stored_event(e) for e in newcomer.collect_events()]
        gift = threading.Thread(
            target=ledger.transfer,
            kwargs={"actor_id": community.li, "to_member_id": community.grandma, "minutes": 30},
        )
        with recorder.datastore.get_connection() as conn:
            with conn.transaction(), conn.cursor() as cursor:
                # The library's insert, as the product configures it, held open.
                recorder._insert_stored_events(cursor, in_flight)
                gift.start()
                gift.join(timeout=3)  # stored already, unless it waits for the first save
                runner.catch_up()  # a runner tailing the log meanwhile
            gift.join(timeout=30)
            assert not gift.is_alive()
        runner.catch_up()

        assert newcomer.id in runner.directory.state.members, "the runner skipped an event"
        report = verify(ledger, runner.store)
        assert report.ok, report.problems
    finally:
        ledger.close()
