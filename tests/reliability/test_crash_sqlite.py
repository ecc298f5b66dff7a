"""Crash safety on SQLite: a SIGKILLed server loses no acknowledged write and doubles none."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from tests.reliability.harness import (
    INITIAL_MINUTES,
    Client,
    Journal,
    Load,
    Processes,
    api_server,
    as_replayed,
    build_community,
    check_statements_and_logs,
    expected_minutes,
    replayed_balances,
    run_cli,
    server_env,
    settle_every_write,
    verify_over_http,
    wait_for_served_balances,
)

pytestmark = pytest.mark.slow  # real server processes, SIGKILLed and restarted

SEED = 20261123
ROUNDS = 4
CLIENTS = 6


def test_a_sigkilled_sqlite_server_keeps_every_write_exactly_once(
    processes: Processes, tmp_path: Path
) -> None:
    """Six clients log, approve, redeem and give with Idempotency-Keys while the server is
    SIGKILLed four times (each after a random number of acknowledged writes) and started
    again. Then: every acknowledged write answers its retry as it did, every other one is
    recorded by its retry exactly once, the books match the writes, the server's
    projections match a fresh replay of the file, and the ledger verifies."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = server_env(url)
    server = api_server(processes, "api", env)
    server.start()
    server.wait_healthy()
    community = build_community(server.base, CLIENTS, INITIAL_MINUTES)

    rng = random.Random(SEED)
    journal, stop = Journal(), threading.Event()
    clients = [
        Client(f"c{n}", server.base, community, volunteer, SEED + n, journal, stop)
        for n, volunteer in enumerate(community.volunteers)
    ]
    with Load(clients, journal, stop) as load:
        for _ in range(ROUNDS):
            load.wait_for_acknowledgements(rng.randint(10, 40))
            server.kill()
            server.start()
            server.wait_healthy()
        load.wait_for_acknowledgements(rng.randint(10, 40))

    tally = settle_every_write(journal, [server.base])
    print(f"writes: {tally}")
    assert tally.unacknowledged > 0, "no kill cut a write off: the test proved nothing"

    expected = expected_minutes(community, journal.writes)
    assert replayed_balances(url) == as_replayed(expected)
    wait_for_served_balances(server.base, expected)
    check_statements_and_logs(server.base, community, journal)
    verify_over_http(server.base)

    server.kill()  # and once more, then check the file from the command line
    verified = run_cli(["verify"], env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert replayed_balances(url) == as_replayed(expected)
