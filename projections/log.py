"""Reading the ledger's notification log in pages, in bounded memory."""

from __future__ import annotations

from collections.abc import Iterator

from eventsourcing.domain import AggregateEvent

from timebank.application import TimeBank

PAGE_SIZE = 500


def read_events(app: TimeBank, *, after: int = 0) -> Iterator[AggregateEvent]:
    """Every stored event after a position, in log order, a page at a time."""
    start = after + 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=PAGE_SIZE)
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            if isinstance(event, AggregateEvent):  # every event in the ledger's log is
                yield event
        if len(page) < PAGE_SIZE:
            return
        start = page[-1].id + 1
