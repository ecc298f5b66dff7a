"""Product bugs the multi-process tests ran into, each shown on its own."""

from __future__ import annotations

import threading
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql
from sqlalchemy.exc import SQLAlchemyError

from projections.auditor import verify
from projections.queries import Reader
from projections.runner import ProjectionRunner
from projections.store import ViewStore
from tests.reliability.harness import open_store
from tests.support import TODAY, build_community, fixed_clock, postgres_test_url
from timebank.members import Member

T = TypeVar("T")


@pytest.mark.postgres
def test_processes_starting_together_on_an_empty_postgres_schema_all_start(
    postgres_url: str,
) -> None:
    """Six ledgers open on a fresh schema (their event tables exist), then open their views
    at once, as `serve --workers 6` or several hosts starting together do: every one of
    them must start (one writes, the others read). Tried three times, on the schema made
    afresh."""
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
    failures: list[PersistenceError | SQLAlchemyError] = []

    stores: list[ViewStore] = []

    def start_runner(ledger_index: int) -> None:
        start.wait(timeout=30)
        try:
            store = ViewStore.open(ledgers[ledger_index], pool_size=1)
            stores.append(store)
            store.prepare()
            ProjectionRunner(ledgers[ledger_index], store).claim()
        except (PersistenceError, SQLAlchemyError) as error:  # what the process dies of
            failures.append(error)

    threads = [threading.Thread(target=start_runner, args=(n,)) for n in range(count)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a runner did not start within 60 s"
    finally:
        for store in stores:
            store.close()
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
        # Two connections (and as many again): the writer's advisory lock keeps one for as
        # long as it writes, and verify keeps a snapshot of the views open on a second
        # while it reads positions on a third. With one (and one again), verify waited 30 s
        # for a connection and failed, on main as well.
        store = ViewStore.open(ledger, pool_size=2)
        store.prepare()
        runner = ProjectionRunner(ledger, store)
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

        known = {m.id for m in Reader(store, ledger.today).member_names()}
        assert newcomer.id in known, "the runner skipped an event"
        report = verify(ledger, store)
        store.close()
        assert report.ok, report.problems
    finally:
        ledger.close()
