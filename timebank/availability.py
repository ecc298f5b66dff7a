"""Failing fast while the PostgreSQL server cannot be reached, and noticing when it is back.

The library retries an operation that lost its connection ten times, and each try waits
for a pooled connection as long as the connect timeout: a request during an outage would
take ten connect timeouts to fail. A gate in front of the store's connections remembers
that the last attempt failed; until a second has passed, asking for a connection fails at
once (the library's retries then cost a fraction of a second), and after that one attempt
is let through to see whether the server is back. The first that succeeds opens the gate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError

TRIAL_INTERVAL = 1.0
"""Seconds between the attempts that find out whether an unreachable store is back."""


class StoreUnavailableError(OperationalError):
    """The store could not be reached a moment ago; nothing was tried, nothing changed."""


class StoreGate:
    """Whether the store was reachable at the last attempt, shared by a process's threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._down_since: float | None = None
        self._last_trial = 0.0
        self._guard = threading.Lock()

    @property
    def is_down(self) -> bool:
        return self._down_since is not None

    def refusing(self) -> bool:
        """Down, and not yet time to try again: a request can be answered 503 at once."""
        with self._guard:
            return (
                self._down_since is not None and self._clock() - self._last_trial < TRIAL_INTERVAL
            )

    def admits(self) -> bool:
        """Up; or down and due a trial, which this caller then makes (and nobody else
        until the next interval)."""
        with self._guard:
            if self._down_since is None:
                return True
            now = self._clock()
            if now - self._last_trial < TRIAL_INTERVAL:
                return False
            self._last_trial = now
            return True

    def failed(self) -> None:
        with self._guard:
            now = self._clock()
            if self._down_since is None:
                self._down_since = now
            self._last_trial = now

    def succeeded(self) -> None:
        with self._guard:
            self._down_since = None


def guard_connections(datastore: Any, gate: StoreGate) -> None:
    """Put `gate` in front of a PostgreSQL datastore's `get_connection`, through which every
    read and write of the library's recorders goes."""
    connect: Callable[[], AbstractContextManager[Any]] = datastore.get_connection

    @contextmanager
    def get_connection() -> Iterator[Any]:
        if not gate.admits():
            raise StoreUnavailableError("the store could not be reached a moment ago")
        try:
            with connect() as conn:
                yield conn
        except (InterfaceError, OperationalError):
            # A lock timeout is an OperationalError too, but never lasts past its
            # transaction: only a failed connection closes the gate.
            if _connection_lost(datastore):
                gate.failed()
            raise
        gate.succeeded()

    datastore.get_connection = get_connection


def _connection_lost(datastore: Any) -> bool:
    """Whether the server answers at all: asked on a connection of its own, briefly."""
    pool = getattr(datastore, "pool", None)
    kwargs = dict(getattr(pool, "kwargs", None) or {})
    if not kwargs:
        return True  # nothing to ask with
    kwargs.pop("row_factory", None)
    kwargs["connect_timeout"] = min(int(kwargs.get("connect_timeout") or 2), 2)
    try:
        import psycopg  # noqa: PLC0415 -- only a PostgreSQL datastore comes here

        with psycopg.connect(**kwargs) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return True
    return False
