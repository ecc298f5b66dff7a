"""Crash safety on PostgreSQL: API processes and the projection process SIGKILLed under load."""

from __future__ import annotations

import random
import threading
from uuid import UUID

import pytest

from tests.reliability.harness import (
    INITIAL_MINUTES,
    JSON,
    Client,
    Community,
    Divergences,
    Journal,
    Load,
    Processes,
    Service,
    api_server,
    as_replayed,
    build_community,
    check_statements_and_logs,
    check_stored_views,
    expected_minutes,
    open_store,
    open_views,
    replayed_balances,
    server_env,
    settle_every_write,
    verify_over_http,
    wait_for_served_balances,
    wait_for_stored_views,
)

pytestmark = pytest.mark.slow  # real server processes, SIGKILLed and restarted

SEED = 8613
ROUNDS = 3
CLIENTS = 6


@pytest.mark.postgres
def test_sigkilled_api_and_projection_processes_lose_and_double_nothing(
    processes: Processes, postgres_url: str
) -> None:
    """Two API processes and a `timebank project` process on one PostgreSQL store. Six
    clients (three per API process) write with Idempotency-Keys while, three times after a
    random number of acknowledged writes, one or both API processes are SIGKILLed and
    started again, and in one of those rounds the projection process too. Then the same
    checks as on SQLite, through both API processes; and with the API processes gone, the
    projection process alone stores the views of a new event, and they match a replay.

    Only a divergence of the projections may fail this test as expected (the reload race);
    a lost or doubled write, an overdraft or a dead process fails it outright."""
    env = server_env(postgres_url, TIMEBANK_POSTGRES_POOL_SIZE="4")
    projector = Service(processes, "project", ["project"], env)
    apis = [api_server(processes, f"api{n}", env) for n in range(2)]
    # The first process creates the tables; processes starting together on an empty schema
    # race to create them (test_runner_races.py), which is not what this test is about.
    apis[0].start()
    apis[0].wait_healthy()
    projector.start()
    divergences = Divergences()
    apis[1].start_healthy(divergences)
    community = build_community(apis[0].base, CLIENTS, INITIAL_MINUTES)

    journal = _write_while_killing(community, apis, projector, divergences)
    assert projector.starts == 2
    assert projector.running(), projector.tail()

    tally = settle_every_write(journal, [api.base for api in apis])
    print(f"writes: {tally}")
    assert tally.unacknowledged > 0, "no kill cut a write off: the test proved nothing"
    expected = expected_minutes(community, journal.writes)
    assert replayed_balances(postgres_url) == as_replayed(expected)

    for api in apis:
        with divergences.check(f"balances served by {api.name}"):
            wait_for_served_balances(api.base, expected)
    with divergences.check("statements and logs"):
        check_statements_and_logs(apis[1].base, community, journal)
    with divergences.check("GET /audit/verify"):
        verify_over_http(apis[0].base)

    for api in apis:  # now only the projection process follows the log
        api.kill()
    with divergences.check("views stored by the projection process"):
        _projector_alone_stores_a_new_event(postgres_url, community, expected)
    assert projector.stop() == 0, projector.tail()
    assert "stopped on SIGTERM" in projector.tail()
    divergences.raise_any()


def _write_while_killing(
    community: Community, apis: list[Service], projector: Service, divergences: Divergences
) -> Journal:
    """Six clients, three per API process; three rounds, each after a random number of
    acknowledged writes: SIGKILL one or both API processes (and, in one round, the
    projection process) and start them again."""
    rng = random.Random(SEED)
    projector_round = rng.randrange(ROUNDS)
    journal, stop = Journal(), threading.Event()
    clients = [
        Client(f"c{n}", apis[n % 2].base, community, volunteer, SEED + n, journal, stop)
        for n, volunteer in enumerate(community.volunteers)
    ]
    with Load(clients, journal, stop) as load:
        for round_ in range(ROUNDS):
            load.wait_for_acknowledgements(rng.randint(10, 30))
            victims: list[Service] = rng.sample(apis, rng.randint(1, len(apis)))
            if round_ == projector_round:
                assert projector.running(), projector.tail()
                victims.append(projector)
            for victim in victims:
                victim.kill()
            for victim in victims:
                if victim is projector:
                    victim.start()
                else:
                    victim.start_healthy(divergences)
        load.wait_for_acknowledgements(rng.randint(10, 30))
    return journal


def _projector_alone_stores_a_new_event(
    url: str, community: Community, expected: dict[str, JSON]
) -> None:
    """A gift recorded from this process, with no API process left: the projection process
    stores its views, and they are the replay's."""
    ledger = open_store(url)
    try:
        giver, elder = community.volunteers[0], community.elder
        ledger.transfer(actor_id=UUID(giver.id), to_member_id=UUID(elder.id), minutes=1)
        for member, change in ((giver.id, -1), (elder.id, 1)):
            expected[member]["balance_minutes"] += change
            expected[member]["available_minutes"] += change
        assert replayed_balances(url) == as_replayed(expected)
        store = open_views(ledger)
        try:
            wait_for_stored_views(store, ledger.recorder.max_notification_id() or 0)
            check_stored_views(ledger, store, as_replayed(expected))
        finally:
            store.close()
    finally:
        ledger.close()
