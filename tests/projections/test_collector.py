"""The collector's pause, from several threads at once."""

from __future__ import annotations

import gc
import threading

from projections.collector import collector_paused

DEADLINE = 10.0  # seconds: the other thread's steps take microseconds


def test_the_collector_stays_paused_until_the_last_overlapping_pause_ends(
    collector_enabled: bool,
) -> None:
    """A request's verify may start while the runner's thread folds a page and end after
    it (or before): the collector must not come back on in the middle of either."""
    entered, leave, left = threading.Event(), threading.Event(), threading.Event()

    def other() -> None:
        with collector_paused():
            entered.set()
            leave.wait(DEADLINE)
        left.set()

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert entered.wait(DEADLINE)
        with collector_paused():
            leave.set()  # the first pause ends inside the second
            assert left.wait(DEADLINE)
            assert not gc.isenabled()
        assert gc.isenabled() is collector_enabled
    finally:
        leave.set()
        thread.join(DEADLINE)


def test_nested_pauses_restore_the_collector_once_the_outer_one_ends(
    collector_enabled: bool,
) -> None:
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled() is collector_enabled
