"""Reading the ledger's notification log in pages, in bounded memory."""

from __future__ import annotations

from collections.abc import Iterator

from eventsourcing.domain import AggregateEvent
from eventsourcing.persistence import Notification

from timebank.application import TimeBank

PAGE_SIZE = 1000


def notifications(app: TimeBank, *, after: int = 0) -> Iterator[Notification]:
    """Every stored event after a position, raw, in log order, a page at a time."""
    start = after + 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=PAGE_SIZE)
        yield from page
        if len(page) < PAGE_SIZE:
            return
        start = page[-1].id + 1


def read_events(app: TimeBank, *, after: int = 0) -> Iterator[AggregateEvent]:
    """Every stored event after a position, decoded, in log order."""
    for notification in notifications(app, after=after):
        event = app.mapper.to_domain_event(notification)
        if isinstance(event, AggregateEvent):  # every event in the ledger's log is
            yield event
