"""The thin shell that feeds the read models: pull a page of the log, fold, store, repeat.

Exactly one runner writes a store's views at a time (the writer: see `projections.locks`).
It reads the notification log a page at a time (the library's SQLite recorder has no push
subscription, and a pull loop serves PostgreSQL as well), decodes each page once, and
folds it into every read model in one write transaction that also moves the views'
positions from where it read them. A batch is stored once or not at all; a killed runner
leaves the views as its last stored batch left them, and the next writer goes on from
there. Other processes only read the tables.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from uuid import UUID

from eventsourcing.domain import AggregateEvent
from eventsourcing.persistence import Mapper, Notification, PersistenceError
from sqlalchemy.exc import SQLAlchemyError

from projections import registry
from projections.base import Batch, Logged, Projection
from projections.collector import collector_paused
from projections.store import AUDIT, VIEWS, ViewStore
from timebank.application import TimeBank

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 4000
"""Events per page and write transaction. A page's cost is mostly per event, but each also
reads and writes back the tallies and accounts it touches and commits once: larger pages
share that among more events. Following the log, a page holds what arrived since the
last poll, which is far fewer."""
GROUPS: tuple[tuple[str, tuple[Projection, ...]], ...] = (
    (VIEWS, registry.VIEWS),
    (AUDIT, (registry.AUDIT,)),
)
"""The views and the audit trail keep positions of their own: a rebuild folds the views
again while the audit trail, the evidence verify compares the events with, stays."""
VIEWS_ONLY = GROUPS[:1]
AUDIT_ONLY = GROUPS[1:]


class NotTheWriterError(RuntimeError):
    """Another process writes this store's views."""


class ProjectionRunner:
    """Keeps a store's views current with the ledger's log, while this process is their
    writer; otherwise waits for the writer to bring them where a read needs them."""

    def __init__(
        self,
        app: TimeBank,
        store: ViewStore,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        groups: tuple[tuple[str, tuple[Projection, ...]], ...] = GROUPS,
    ) -> None:
        self.app = app
        self.store = store
        self.batch_size = batch_size
        self.groups = groups
        self._writing = threading.Lock()  # one catch-up at a time in this process
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.is_writer = False

    # Writing -----------------------------------------------------------------------

    def claim(self) -> bool:
        """Become the writer of the views if no other process is; True if this is it."""
        self.is_writer = self.store.locks.try_writer()
        return self.is_writer

    def catch_up(
        self,
        *,
        limit: int | None = None,
        until: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Fold every event stored so far (at most `limit` of them, none past position
        `until`) into the views; return how many were read. Only the writer folds."""
        if not self.is_writer and not self.claim():
            raise NotTheWriterError("another process writes these views")
        applied = 0
        with self._writing:
            while limit is None or applied < limit:
                size = self.batch_size if limit is None else min(self.batch_size, limit - applied)
                read = self._fold_page(size, until)
                applied += read
                if read and progress is not None:
                    progress(read)
                if read < size:
                    break
        return applied

    def _fold_page(self, size: int, until: int | None) -> int:
        # See `collector_paused`: folding makes no garbage cycles. The page is read and
        # folded in a call of its own, so that its objects are freed before the collector
        # resumes: a pass that found them still alive would walk every one of them.
        with collector_paused():
            return self._read_and_fold(size, until)

    def _read_and_fold(self, size: int, until: int | None) -> int:
        positions = self.store.positions()
        start = min(positions[name] for name, _ in self.groups) + 1
        page = self.app.recorder.select_notifications(start=start, limit=size, stop=until)
        if not page:
            return 0
        logged = _decoded(self.app, page)
        fold_page(
            self.store, self.app.mapper, logged, self.groups, positions=positions, last=page[-1].id
        )
        return len(page)

    def rebuild(self, *, progress: Callable[[int], None] | None = None) -> int:
        """Empty the views (never the audit trail) and fold the whole log into them again.
        The caller holds the store alone (`StoreLocks.try_alone`)."""
        with self._writing, self.store.write() as conn:
            self.store.reset_views(conn)
        return self.catch_up(progress=progress)

    # Reading ----------------------------------------------------------------------------

    @property
    def position(self) -> int:
        return self.store.position()

    def wait_for(self, position: int, *, timeout: float = 10.0) -> bool:
        """Read-your-writes: return once the views include the event at `position`; the
        writer folds it at once, another process waits (bounded) for the writer, or becomes
        the writer if nobody is. False if the views did not get there in time."""
        if position <= 0:
            return True
        if self.position >= position:
            return True
        if self.is_writer or self.claim():  # nobody writes (any more): this process does
            self.catch_up()
            return True
        deadline = time.monotonic() + timeout
        pause = 0.002
        while self.position < position:
            if time.monotonic() > deadline:
                return False
            time.sleep(pause)  # the writer's batch is being stored: look again shortly
            pause = min(pause * 2, 0.05)
        return True

    # Following --------------------------------------------------------------------------

    def start(self, interval: float = 0.05) -> None:
        """Follow the log in a background thread until `stop()`: as the writer, or waiting
        to become it if the writer's process goes."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._follow, args=(interval,), name="projections", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self.is_writer:
            self.store.locks.release_writer()
            self.is_writer = False

    def _after_outage(self) -> None:
        """The writer's place may have gone with a lost connection (see `StoreLocks`)."""
        if self.is_writer:
            try:
                self.is_writer = self.store.locks.reassert_writer()
            except (PersistenceError, SQLAlchemyError):
                self.is_writer = False  # asked again at the next poll, by `claim`

    def _follow(self, interval: float) -> None:
        failing = False
        while not self._stopping.is_set():
            caught = 0
            try:
                if self.is_writer or self.claim():
                    caught = self.catch_up(limit=self.batch_size)
            except (PersistenceError, SQLAlchemyError) as error:
                # The store is out of reach (or busy): said once, tried again each second.
                if not failing:
                    log.warning("projection runner cannot reach the store (%s); retrying", error)
                failing = True
                self._stopping.wait(1.0)
                continue
            except Exception:  # the follower must outlive a bad moment; it logs and retries
                log.exception("projection runner failed; retrying")
            else:
                if failing:
                    log.warning("projection runner reaches the store again")
                    self._after_outage()
                failing = False
            if caught < self.batch_size:
                self._stopping.wait(interval if self.is_writer else max(interval, 1.0))


def fold_page(
    store: ViewStore,
    mapper: Mapper[UUID],
    logged: Sequence[Logged],
    groups: tuple[tuple[str, tuple[Projection, ...]], ...],
    *,
    positions: dict[str, int],
    last: int,
) -> None:
    """Fold one page's events (up to position `last`) into each group of read models past
    its position, and move the positions on: one transaction, stored whole or not at all."""
    with store.write() as conn:
        for name, projections in groups:
            at = positions[name]
            if last <= at:
                continue
            batch = Batch(
                conn, store.sealer, mapper, [entry for entry in logged if entry.position > at]
            )
            for projection in projections:
                projection.fold(batch)
            store.move(conn, name, at, last)


def _decoded(app: TimeBank, page: Sequence[Notification]) -> list[Logged]:
    logged = []
    for notification in page:
        event = app.mapper.to_domain_event(notification)
        if isinstance(event, AggregateEvent):  # every event in the ledger's log is
            logged.append(Logged(notification.id, event, notification))
    return logged
