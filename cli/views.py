"""The ledger and its views, opened for one command at the operator's terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from api.settings import Settings
from cli.progress import progress_bar
from projections.queries import Reader
from projections.runner import ProjectionRunner
from projections.store import ViewStore
from timebank.application import TimeBank

CATCH_UP_WAIT = 60.0  # seconds a command waits for a server that writes the views


@dataclass(frozen=True)
class Opened:
    ledger: TimeBank
    store: ViewStore
    runner: ProjectionRunner
    reader: Reader


@contextmanager
def opened(settings: Settings | None = None) -> Iterator[Opened]:
    """The ledger, its views current with every event stored so far, and their reader.

    When no server writes the views, the command folds what is new itself (with a
    progress bar on a terminal) and lets go of the writing; otherwise it waits for the
    server's writer to get there."""
    settings = settings or Settings()
    ledger = settings.open_ledger()
    store = ViewStore.open(ledger, pool_size=2)
    try:
        store.prepare()
        runner = ProjectionRunner(ledger, store)
        head = ledger.recorder.max_notification_id() or 0
        if runner.claim():
            with progress_bar("catching up", max(head - runner.position, 0)) as advance:
                runner.catch_up(progress=advance)
            store.locks.release_writer()
            runner.is_writer = False
        elif not runner.wait_for(head, timeout=CATCH_UP_WAIT):
            raise RuntimeError("the server writing this store's views did not catch up")
        yield Opened(ledger, store, runner, Reader(store, ledger.today))
    finally:
        store.close()
        ledger.close()
