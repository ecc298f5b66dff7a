"""Races across API processes: one member's minutes spent through two servers at once."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.reliability.harness import (
    REQUEST_SECONDS,
    Community,
    Divergences,
    Processes,
    Write,
    api_server,
    as_replayed,
    bearer,
    build_community,
    expected_minutes,
    replayed_balances,
    server_env,
    verify_over_http,
    wait_for_served_balances,
)

pytestmark = pytest.mark.slow  # two real API processes

SEED = 4096
FUNDS = 600
CLIENTS_PER_SERVER = 4
ATTEMPTS = 10  # per client


def spend(
    base: str, community: Community, seed: int, start: threading.Barrier, name: str
) -> tuple[list[Write], list[Write]]:
    """Redemptions and gifts of the one volunteer's minutes, each with a key of its own; a
    503 (nothing changed) is retried with the same key. Returns the spends that went
    through and those refused; anything but 201 or 409 insufficient_minutes fails."""
    rng = random.Random(seed)
    me, team, elder = community.volunteers[0], community.team, community.elder
    done: list[Write] = []
    refused: list[Write] = []
    with httpx.Client(base_url=base, timeout=REQUEST_SECONDS) as client:
        start.wait(timeout=60)
        for n in range(ATTEMPTS):
            minutes = rng.randint(10, 50)
            write = (
                Write(
                    "redeem",
                    f"{name}-{n}",
                    me.token,
                    "/redemptions",
                    {"team_id": team, "service": "bath", "minutes": minutes},
                    me.id,
                    minutes,
                )
                if rng.random() < 0.5
                else Write(
                    "transfer",
                    f"{name}-{n}",
                    me.token,
                    "/transfers",
                    {"to_member_id": elder.id, "minutes": minutes},
                    me.id,
                    minutes,
                )
            )
            headers = {**bearer(me.token), "Idempotency-Key": write.key}
            for _ in range(20):  # bounded retries of "busy"
                response = client.post(write.path, json=write.body, headers=headers)
                if response.status_code != 503:
                    break
            if response.status_code == 409:
                assert response.json()["error"]["code"] == "insufficient_minutes", response.text
                refused.append(write)
            else:
                assert response.status_code == 201, response.text
                done.append(write)
    return done, refused


@pytest.mark.postgres
def test_two_api_processes_never_overdraw_a_member(processes: Processes, postgres_url: str) -> None:
    """Two `timebank serve` processes on one PostgreSQL store; eight clients (four per
    process) redeem and give away one volunteer's 600 minutes at once, asking for about
    four times as much. Exactly the affordable spends go through: every refusal is 409
    insufficient_minutes for more than what was left, the books match the spends that
    succeeded, the volunteer never went below zero, and both processes serve the replay."""
    env = server_env(postgres_url, TIMEBANK_POSTGRES_POOL_SIZE="6")
    servers = [api_server(processes, f"api{n}", env) for n in range(2)]
    for server in servers:  # one after the other: the first creates the tables
        server.start()
        server.wait_healthy()
    community = build_community(servers[0].base, 1, FUNDS)

    clients = 2 * CLIENTS_PER_SERVER
    start = threading.Barrier(clients)
    with ThreadPoolExecutor(clients) as pool:
        futures = [
            pool.submit(spend, servers[n % 2].base, community, SEED + n, start, f"c{n}")
            for n in range(clients)
        ]
        results = [future.result(timeout=120) for future in futures]
    done = [w for d, _ in results for w in d]
    refused = [w for _, r in results for w in r]

    left = FUNDS - sum(w.minutes for w in done)
    assert refused, "the clients never ran out: no race for the last minutes"
    assert left >= 0, f"overdrawn by {-left} minutes"
    assert all(w.minutes > left for w in refused), "a spend was refused that was affordable"
    expected = expected_minutes(community, done, initial=FUNDS)
    assert expected[community.volunteers[0].id]["available_minutes"] == left
    assert replayed_balances(postgres_url) == as_replayed(expected)

    divergences = Divergences()
    for server in servers:
        with divergences.check(f"balances served by {server.name}"):
            wait_for_served_balances(server.base, expected)
    with divergences.check("GET /audit/verify"):  # no overdraft at any moment, among others
        verify_over_http(servers[1].base)
    divergences.raise_any()
