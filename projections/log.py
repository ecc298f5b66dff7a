"""Reading the ledger's notification log in pages, in bounded memory."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from timebank.application import TimeBank

PAGE_SIZE = 500


def read_events(app: TimeBank, *, after: int = 0) -> Iterator[DomainEventProtocol[UUID]]:
    """Every stored event after a position, in log order, a page at a time."""
    start = after + 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=PAGE_SIZE)
        for notification in page:
            yield app.mapper.to_domain_event(notification)
        if len(page) < PAGE_SIZE:
            return
        start = page[-1].id + 1
