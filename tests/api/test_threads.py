"""The API's blocking calls take turns in worker threads, and a slow one stops counting."""

from __future__ import annotations

import asyncio
import threading

import pytest

from api import threads
from api.threads import in_a_worker_thread


def test_blocking_calls_take_turns_while_they_are_quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """With patience longer than the test, the second call starts only when the first ends."""
    monkeypatch.setattr(threads, "PATIENCE", 60.0)
    first_in, first_may_end = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> str:
        order.append("first began")
        first_in.set()
        assert first_may_end.wait(timeout=30)
        order.append("first ended")
        return "first"

    def second() -> str:
        order.append("second began")
        return "second"

    async def scenario() -> list[str]:
        one = asyncio.create_task(in_a_worker_thread(first))
        await asyncio.to_thread(first_in.wait, 30)
        two = asyncio.create_task(in_a_worker_thread(second))
        for _ in range(20):  # every turn of the loop the second call could have begun in
            await asyncio.sleep(0)
        assert order == ["first began"]
        first_may_end.set()
        return [await one, await two]

    assert asyncio.run(scenario()) == ["first", "second"]
    assert order == ["first began", "first ended", "second began"]


def test_a_slow_call_lets_the_next_one_start_beside_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "PATIENCE", 0.01)
    release = threading.Event()

    def slow() -> str:
        assert release.wait(timeout=30)
        return "slow"

    async def scenario() -> tuple[str, str]:
        stuck = asyncio.create_task(in_a_worker_thread(slow))
        quick = await asyncio.wait_for(in_a_worker_thread(lambda: "quick"), timeout=30)
        assert not stuck.done()
        release.set()
        return quick, await stuck

    assert asyncio.run(scenario()) == ("quick", "slow")


def test_a_failure_frees_the_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "PATIENCE", 60.0)

    def fails() -> None:
        raise ValueError("refused")

    async def scenario() -> str:
        with pytest.raises(ValueError, match="refused"):
            await in_a_worker_thread(fails)
        return await asyncio.wait_for(in_a_worker_thread(lambda: "next"), timeout=30)

    assert asyncio.run(scenario()) == "next"


def test_a_wider_gate_lets_that_many_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL two calls run at once: each waits on the server part of its time."""
    monkeypatch.setattr(threads, "PATIENCE", 60.0)
    both_in = threading.Barrier(2, timeout=30)

    def meet() -> str:
        both_in.wait()  # broken (and raising) unless the other call runs at the same time
        return "met"

    async def scenario() -> list[str]:
        threads.take_turns(threads.width_for("postgresql"))
        return list(await asyncio.gather(in_a_worker_thread(meet), in_a_worker_thread(meet)))

    assert asyncio.run(scenario()) == ["met", "met"]
