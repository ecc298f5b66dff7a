"""Literal events folded into the real read models, in a scratch store, and read back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import AggregateEvent

from projections import registry
from projections.base import Batch, Logged, Sealer
from projections.periods import Period
from projections.queries import Reader, TeamRank, VolunteerRank
from projections.store import ViewStore, scratch_store
from projections.visibility import Viewer, coordinated
from timebank.application import SYSTEM_ACTOR_ID

EVERYONE = Viewer(SYSTEM_ACTOR_ID, sees_everything=True)
TODAY = date(2026, 11, 20)


class Folded:
    """The views of some events, read as an auditor would (every name shown)."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store
        self.reader = Reader(store, lambda: TODAY)

    def team_rankings(self, period: Period, **scope: Any) -> list[TeamRank]:
        return self.reader.team_rankings(EVERYONE, period, limit=10_000, **scope).items

    def volunteer_rankings(self, period: Period, **scope: Any) -> list[VolunteerRank]:
        return self.reader.volunteer_rankings(EVERYONE, period, limit=10_000, **scope).items

    def coordinated(self, member_id: UUID, day: date) -> frozenset[UUID]:
        with self.store.read() as conn:
            return coordinated(conn, Viewer(member_id, sees_everything=False), day)


_OPEN: list[ViewStore] = []


def fold(events: Iterable[AggregateEvent]) -> Folded:
    """Fold the events, in order, into empty views (one batch per event, as positions)."""
    store = scratch_store(Sealer(None))
    _OPEN.append(store)
    store.prepare()
    for position, event in enumerate(events, start=1):
        with store.write() as conn:
            batch = Batch(conn, store.sealer, None, [Logged(position, event, None)])  # type: ignore[arg-type]
            for projection in registry.VIEWS:
                projection.fold(batch)
    return Folded(store)


@contextmanager
def closing_folds() -> Iterator[None]:
    try:
        yield
    finally:
        while _OPEN:
            _OPEN.pop().close()
