"""Many spenders racing for the same minutes: exactly the affordable number succeed."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from tests.support import build_community, open_ledger, replayed
from tests.workers import spend
from timebank import TimeBank
from timebank.errors import InsufficientMinutesError

STORED = 600  # minutes the spender owns
PRICE = 25  # minutes per redemption or gift
AFFORDABLE = STORED // PRICE


def test_threads_spend_exactly_the_minutes_that_exist(app: TimeBank) -> None:
    community = build_community(app)
    community.earn(community.li, STORED)
    threads, attempts_each = 8, 10  # 80 attempts of 25 minutes against 600
    start = threading.Barrier(threads)

    def spender(worker: int) -> tuple[int, int]:
        start.wait(timeout=30)
        succeeded = refused = 0
        for attempt in range(attempts_each):
            try:
                if (worker + attempt) % 2:
                    app.transfer(actor_id=community.li, to_member_id=community.wang, minutes=PRICE)
                else:
                    app.request_redemption(
                        actor_id=community.li,
                        team_id=community.care_team,
                        service="care",
                        minutes=PRICE,
                    )
                succeeded += 1
            except InsufficientMinutesError:
                refused += 1
        return succeeded, refused

    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(spender, range(threads)))

    assert sum(s for s, _ in outcomes) == AFFORDABLE
    assert sum(r for _, r in outcomes) == threads * attempts_each - AFFORDABLE
    spent = app.get_account(community.li)
    gifts = app.get_account(community.wang).received_minutes
    assert spent.available_minutes == 0
    assert spent.held_minutes + gifts == STORED
    balances = replayed(app)
    assert balances.total() == 0
    assert balances.members[community.li].available == 0
    assert balances.members[community.li].held == spent.held_minutes


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_processes_spend_exactly_the_minutes_that_exist(
    store: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> None:
    if store == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('race') / 'timebank.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    app = open_ledger(url)
    try:
        community = build_community(app)
        community.earn(community.li, STORED)
        processes, attempts_each = 3, 14  # 42 attempts of 25 minutes against 600
        context = multiprocessing.get_context("spawn")
        with (
            context.Manager() as manager,
            ProcessPoolExecutor(processes, mp_context=context) as pool,
        ):
            start = manager.Barrier(processes)
            futures = [
                pool.submit(
                    spend,
                    url,
                    spender=str(community.li),
                    receiver=str(community.wang),
                    team=str(community.care_team),
                    attempts=attempts_each,
                    minutes=PRICE,
                    start=start,
                )
                for _ in range(processes)
            ]
            succeeded = sum(f.result(timeout=120) for f in futures)
        assert succeeded == AFFORDABLE
        account = app.get_account(community.li)
        assert account.available_minutes == 0
        assert account.balance_minutes >= 0
        balances = replayed(app)
        assert balances.total() == 0
        assert balances.members[community.li].available == 0
    finally:
        app.close()
