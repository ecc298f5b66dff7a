"""The library floor: a bare eventsourcing aggregate, one event per command, same store."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import ClassVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import Environment

from timebank.storage import explicit_env


class Tally(Aggregate):
    """The least an aggregate can be: one integer, one event."""

    def __init__(self) -> None:
        self.count = 0

    @event("Counted")
    def count_one(self, by: int) -> None:
        self.count += by


class Floor(Application[UUID]):
    """Its own application, with the ledger's cache settings, so only the domain differs."""

    name = "BenchFloor"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "10000"}

    def construct_env(self, name: str, env: Mapping[str, str] | None = None) -> Environment:
        """Like the ledger: the store the run chose, whatever the shell's environment holds."""
        return explicit_env(type(self), env)


def open_floor(persistence: Mapping[str, str], aggregates: int) -> tuple[Floor, list[UUID]]:
    """The floor application and a few aggregates to command in turn (created untimed)."""
    app = Floor(dict(persistence))
    tallies = [Tally() for _ in range(aggregates)]
    app.save(*tallies)
    return app, [t.id for t in tallies]


def run_floor(app: Floor, ids: Sequence[UUID], commands: int) -> tuple[int, float]:
    """Time get -> one event -> save, `commands` times; return (commands, seconds)."""
    start = time.perf_counter()
    for i in range(commands):
        tally: Tally = app.repository.get(ids[i % len(ids)])
        tally.count_one(by=1)
        app.save(tally)
    return commands, time.perf_counter() - start
