"""The library's own floor for reading a log: select notifications a page at a time, decode."""

from __future__ import annotations

import time
from uuid import UUID

from eventsourcing.application import Application

PAGE = 1000


def scan_and_decode(app: Application[UUID], *, after: int = 0) -> tuple[int, float]:
    """Read and decode every event after a position; return (events, seconds)."""
    start_time = time.perf_counter()
    events, start = 0, after + 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=PAGE)
        for notification in page:
            app.mapper.to_domain_event(notification)
        events += len(page)
        if len(page) < PAGE:
            break
        start = page[-1].id + 1
    return events, time.perf_counter() - start_time


def head(app: Application[UUID]) -> int:
    """The last position in the log (0 when empty)."""
    return app.recorder.max_notification_id() or 0
