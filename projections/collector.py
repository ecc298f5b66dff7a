"""The cyclic garbage collector, paused while a projection folds events."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    """Pauses from several threads at once (the runner's thread folding a page while a
    request verifies): the collector stays off until the last of them ends, and is then
    as the first found it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._was_enabled = False

    def begin(self) -> None:
        with self._lock:
            if self._count == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._count += 1

    def end(self) -> None:
        with self._lock:
            self._count -= 1
            if self._count == 0 and self._was_enabled:
                gc.enable()


_PAUSES = _Pauses()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Cyclic garbage collection off for the block, then as it was.

    Folding a page of events makes few garbage cycles: what a page builds either lives on
    in the views or is freed by reference counting once the page is done. The collector's
    passes meanwhile are wasted work, and worse: each page's objects, alive while it is
    folded, get promoted to the oldest generation, whose growth then sets off full passes
    over everything the process holds (BENCHMARKS.md: catch-up, rebuild and verify). A long
    block that does leave cycles behind (verify folds the whole log into a scratch copy)
    collects the young generations itself now and then. The pause is process-wide: in a
    server, cycles that requests leave meanwhile wait for the block to end.
    """
    _PAUSES.begin()
    try:
        yield
    finally:
        _PAUSES.end()


def settle_after_start() -> None:
    """Once a server has started: collect the garbage of starting once, then leave what
    is alive now (the modules, the app and its routes, most of the objects the process
    will ever hold) out of every later collection (`gc.freeze`). A full collection
    otherwise walks all of them on the event loop's thread every few seconds under load,
    and each such pause lands on whichever requests are in flight (their p99)."""
    gc.collect()
    gc.freeze()
