"""Freshness: how soon a write shows in the read models, and how fast a balance is read."""

from __future__ import annotations

import queue
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from uuid import UUID

from bench.ledger import Community
from projections.queries import Reader
from projections.runner import ProjectionRunner
from projections.visibility import Viewer
from timebank.application import SYSTEM_ACTOR_ID

EVERYONE = Viewer(SYSTEM_ACTOR_ID, sees_everything=True)

POLL_SECONDS = 0.0005


@dataclass(frozen=True)
class Write:
    log_id: UUID
    volunteer: UUID
    earned_after: int  # the volunteer's earned minutes once this approval is visible
    acknowledged: float  # perf_counter when approve_service returned


@dataclass
class Lags:
    seconds: list[float] = field(default_factory=list)
    writes: int = 0
    rate: float = 0.0  # log+approve pairs per second achieved


def projection_lag(c: Community, reader: Reader, *, rate: float, seconds: float) -> Lags:
    """A writer logs and approves service at a steady rate; the reader waits until each
    approval shows both in the balances and in the service logs the rankings count.
    Lag is the time from the approval's acknowledgement to that moment."""
    app = c.app
    earned = {v: reader.balance(EVERYONE, v).earned_minutes for v in c.volunteers}
    done: queue.Queue[Write | None] = queue.Queue()

    def writer() -> tuple[int, float]:
        """Log and approve on schedule; return (pairs written, seconds taken)."""
        start = time.perf_counter()
        i = 0
        try:
            while (now := time.perf_counter()) - start < seconds:
                due = start + i / rate
                if due > now:
                    time.sleep(due - now)
                volunteer = c.volunteer(i)
                log = app.log_service(
                    actor_id=volunteer,
                    team_id=c.team,
                    service_date=c.service_date(),
                    minutes=30,
                    activity="care",
                )
                app.approve_service(actor_id=c.coordinator, service_log_id=log.id)
                earned[volunteer] += 30
                done.put(Write(log.id, volunteer, earned[volunteer], time.perf_counter()))
                i += 1
        finally:
            done.put(None)
        return i, time.perf_counter() - start

    lags = Lags()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-writer") as pool:
        future = pool.submit(writer)
        while (write := done.get()) is not None:
            deadline = time.perf_counter() + 30
            while not _visible(reader, write):
                if time.perf_counter() > deadline:
                    msg = f"approval of {write.log_id} not visible after 30 s"
                    raise TimeoutError(msg)
                time.sleep(POLL_SECONDS)
            lags.seconds.append(time.perf_counter() - write.acknowledged)
        lags.writes, taken = future.result()  # re-raises whatever stopped the writer
    lags.rate = lags.writes / taken if taken else 0.0
    return lags


def _visible(reader: Reader, write: Write) -> bool:
    if reader.balance(EVERYONE, write.volunteer).earned_minutes < write.earned_after:
        return False
    return reader.service_log(EVERYONE, write.log_id).status == "approved"


def balance_reads(reader: Reader, member: UUID, reads: int) -> list[float]:
    """Seconds per read of one member's balance, as the API reads it: SQL over the views."""
    timings: list[float] = []
    clock = time.perf_counter
    for _ in range(reads):
        start = clock()
        reader.balance(EVERYONE, member)
        timings.append(clock() - start)
    return timings


__all__ = ["ProjectionRunner", "balance_reads", "projection_lag"]
