"""Minutes leave when their lot's day comes: a sweep, in the process that writes the views,
asks the ledger to expire what is due for every member who holds some.

A command that touches an account expires what is due there first anyway; the sweep makes
balances and statements show expired minutes gone without waiting for one.
"""

from __future__ import annotations

import json
import logging
import threading
from uuid import UUID

from sqlalchemy import select

from projections.balances import balances
from projections.runner import ProjectionRunner
from timebank import lots

LOG = logging.getLogger(__name__)


def members_with_minutes_due(runner: ProjectionRunner) -> list[UUID]:
    """The members whose balance holds a lot due by today, as the views stand."""
    today = runner.app.today()
    with runner.store.read() as conn:
        rows = conn.execute(
            select(balances.c.member_id, balances.c.lots).where(balances.c.lots != "{}")
        ).all()
    return [member for member, held in rows if lots.due(json.loads(held), today)]


def sweep(runner: ProjectionRunner) -> int:
    """Expire every lot due by today; returns the minutes expired."""
    return sum(
        runner.app.expire_minutes(member_id=member) for member in members_with_minutes_due(runner)
    )


class ExpirySweeper:
    """Runs `sweep` every `interval` seconds while this process writes the views."""

    def __init__(self, runner: ProjectionRunner, interval: float) -> None:
        self.runner, self.interval = runner, interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="expiry-sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            if not self.runner.is_writer:
                continue
            try:
                expired = sweep(self.runner)
            except Exception:  # a store outage: the next interval tries again
                LOG.exception("minutes due were not expired")
                continue
            if expired:
                LOG.info("%d minutes expired", expired)
