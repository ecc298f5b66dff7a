"""How many of one API process's blocking calls run Python at once.

Reads and commands block (SQL, the event store), so each runs in a worker thread and a slow
one never holds up the event loop. Python, though, runs one thread at a time, and every
SQLite or PostgreSQL call hands the interpreter lock to another thread and must wait to get
it back. With sixteen requests in sixteen threads on two cores, a request spends more of its
time in those hand-overs than in its own work: under load, a statement page cost about
twice the CPU it costs alone.

So only a few blocking calls run at once (`width_for`); the others wait for their turn on
the event loop, in order of arrival, which costs nothing while they wait. A call that has run for
`PATIENCE` without finishing (a long query, a wait for the views' writer, a lock) stops
counting, and the next call starts beside it: a slow read never stalls the others, and a
query that spends its time inside the database (which runs without the lock) still overlaps
with the rest.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from weakref import WeakKeyDictionary

from starlette.concurrency import run_in_threadpool

PATIENCE = 0.02  # seconds

P = ParamSpec("P")
T = TypeVar("T")

# One gate per event loop: asyncio's primitives belong to the loop that first uses them.
_gates: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = WeakKeyDictionary()


def width_for(dialect: str) -> int:
    """How many calls run at once: one on SQLite, whose queries run inside this process;
    two on PostgreSQL, where a call spends part of its time waiting for the server's answer
    and another can use the interpreter meanwhile (the better of one, two and unlimited,
    measured under load at 16 connections on each store)."""
    return 2 if dialect == "postgresql" else 1


def take_turns(width: int) -> None:
    """Let `width` blocking calls of the running event loop run at once (when it starts)."""
    _gates[asyncio.get_running_loop()] = asyncio.Semaphore(width)


async def in_a_worker_thread(call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`call(*args, **kwargs)` in a worker thread, when its turn comes (see above)."""
    loop = asyncio.get_running_loop()
    turns = _gates.get(loop)
    if turns is None:  # a loop that did not say: one at a time
        turns = _gates[loop] = asyncio.Semaphore(1)
    await turns.acquire()
    counted = True

    def stop_counting() -> None:
        nonlocal counted
        if counted:
            counted = False
            turns.release()

    slow = loop.call_later(PATIENCE, stop_counting)
    try:
        return await run_in_threadpool(functools.partial(call, *args, **kwargs))
    finally:
        slow.cancel()
        stop_counting()
