"""The gate in front of the store's connections: shut after a failure, tried each second."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from eventsourcing.persistence import OperationalError

from timebank.availability import (
    TRIAL_INTERVAL,
    StoreGate,
    StoreUnavailableError,
    guard_connections,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_failure_refuses_at_once_until_a_trial_is_due_and_a_success_opens_it() -> None:
    clock = Clock()
    gate = StoreGate(clock)
    assert gate.admits()
    assert not gate.refusing()

    gate.failed()
    assert gate.is_down
    assert gate.refusing()
    assert not gate.admits()

    clock.now += TRIAL_INTERVAL
    assert not gate.refusing()
    assert gate.admits()  # this caller tries the store ...
    assert not gate.admits()  # ... and nobody else until the next interval
    gate.succeeded()
    assert not gate.is_down
    assert gate.admits()


class Datastore:
    """Stands for a PostgreSQL datastore whose server has gone (refused connections)."""

    def __init__(self) -> None:
        self.pool = object()  # no connection settings: the gate's own check fails at once
        self.attempts = 0

    @contextmanager
    def get_connection(self) -> Iterator[None]:
        self.attempts += 1
        raise OperationalError("connection refused")
        yield


def test_a_lost_connection_shuts_the_gate_and_later_calls_fail_without_trying() -> None:
    clock = Clock()
    gate = StoreGate(clock)
    store = Datastore()
    guard_connections(store, gate)

    with pytest.raises(OperationalError), store.get_connection():
        pass
    with pytest.raises(StoreUnavailableError), store.get_connection():
        pass

    assert store.attempts == 1
    assert gate.is_down
