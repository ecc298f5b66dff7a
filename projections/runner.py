"""The thin shell that feeds the read models: pull events, fold them, store the views.

The runner pulls the notification log in pages (the library's SQLite recorder has no push
subscription, and a pull loop serves PostgreSQL as well), folds each page into every
projection that has not yet seen it, and stores the changed rows together with each
projection's tracking record in one transaction. On SQLite that transaction commits on a
thread of its own while the next page is folded (`ViewStore.write_behind`); positions move
once it lands. If anything fails in the middle of a page, or a commit fails, the in-memory
state is thrown away and reloaded from the last stored batch, so no event is ever applied
twice.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.domain import AggregateEvent
from eventsourcing.persistence import IntegrityError, Notification

from projections import audit, balances, directory
from projections.collector import collector_paused
from projections.store import (
    RowKey,
    Storing,
    ViewStore,
    Writes,
    open_view_store,
    row_key_text,
)
from projections.text import id_text, instant_text
from timebank.application import TimeBank

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000


class Projection(ABC):
    """One read model: its fold state, how it loads and how it writes its rows."""

    name: str
    # Set by `load` when the stored rows were written by an older version of the ledger in
    # a form this one no longer writes: the runner folds the view again.
    outdated = False

    @abstractmethod
    def reset(self) -> None:
        """Start from nothing (before a rebuild or a reload)."""

    @abstractmethod
    def load(self, rows: Iterable[tuple[str, str]]) -> None:
        """Restore the state from its stored rows."""

    def reload(self, rows: Iterable[tuple[str, str]]) -> None:
        """Start from nothing and load the stored rows."""
        self.reset()
        self.outdated = False
        self.load(rows)

    @abstractmethod
    def apply(self, notification: Notification, event: AggregateEvent, writes: Writes) -> None:
        """Fold one event, and note in `writes` which rows it changed."""

    @abstractmethod
    def encode(self, key: RowKey) -> str | None:
        """A changed row as stored (JSON), or None when the row is gone."""

    def stored_key(self, key: RowKey) -> str:
        """A row's key as stored."""
        return row_key_text(key)


class DirectoryProjection(Projection):
    name = "directory"

    def __init__(self) -> None:
        self.state = directory.Directory()

    def reset(self) -> None:
        self.state = directory.Directory()

    def load(self, rows: Iterable[tuple[str, str]]) -> None:
        logs: list[directory.LogRow] = []
        for key, value in rows:
            kind, _, ident = key.partition(":")
            data = orjson.loads(value)
            if kind == "log":
                stamp, _, ident = ident.rpartition(":")
                self.outdated |= not stamp  # `log:<id>`, as stored before `_log_key`
                logs.append(_log_from_json(self.state, UUID(ident), data))
            elif kind == "member":
                self.state.members[UUID(ident)] = directory.MemberRow(
                    UUID(ident),
                    data["name"],
                    data["roles"],
                    _date(data["birth_date"]),
                    datetime.fromisoformat(data["registered_at"]),
                    data.get("anonymous", False),
                    [
                        (UUID(a), date.fromisoformat(since), _date(until))
                        for a, since, until in data.get("agents", ())
                    ],
                )
            elif kind == "team":
                self.state.teams[UUID(ident)] = directory.TeamRow(
                    UUID(ident),
                    data["name"],
                    data["community"],
                    datetime.fromisoformat(data["formed_at"]),
                    _date(data.get("founded_on")),
                )
            elif kind == "memberships":
                self.state.memberships[UUID(ident)] = []
                for m, role, since, until, *accepted in data:
                    self.state.add_membership(
                        directory.MembershipRow(
                            UUID(ident),
                            UUID(m),
                            role,
                            date.fromisoformat(since),
                            _date(until),
                            accepted[0] if accepted else True,
                        )
                    )
        for row in sorted(logs, key=lambda x: (x.recorded_at, str(x.id))):
            self.state.logs[row.id] = row

    def apply(self, notification: Notification, event: AggregateEvent, writes: Writes) -> None:
        directory.apply(self.state, event)
        ident = event.originator_id
        if ident in self.state.logs:  # most events are a service log's
            writes.dirty.add(("log", ident))
        elif ident in self.state.members:
            writes.dirty.add(("member", ident))
        elif ident in self.state.teams:
            writes.dirty.update((("team", ident), ("memberships", ident)))

    def row_keys(self) -> Iterator[RowKey]:
        """The key of every row the state stores."""
        for ident in self.state.members:
            yield "member", ident
        for ident in self.state.teams:
            yield "team", ident
            yield "memberships", ident
        for ident in self.state.logs:
            yield "log", ident

    def encode(self, key: RowKey) -> str | None:
        return _dumps(self.row_value(key))

    def stored_key(self, key: RowKey) -> str:
        kind, ident = key
        if kind == "log":
            return _log_key(self.state.logs[cast(UUID, ident)])
        return row_key_text(key)

    def row_value(self, key: RowKey) -> Any:
        """A row as the value its JSON holds (ids and dates not yet turned into text)."""
        kind, ident = key[0], cast(UUID, key[1])  # every row here is about one id
        if kind == "member":
            m = self.state.members[ident]
            return {
                "name": m.name,
                "roles": m.roles,
                "birth_date": m.birth_date,
                "registered_at": m.registered_at,
                "anonymous": m.anonymous,
                "agents": [list(agent) for agent in m.agents],
            }
        if kind == "team":
            t = self.state.teams[ident]
            return {
                "name": t.name,
                "community": t.community,
                "formed_at": t.formed_at,
                "founded_on": t.founded_on,
            }
        if kind == "memberships":
            rows = self.state.memberships[ident]
            return [[r.member_id, r.role, r.since, r.until, r.accepted] for r in rows]
        row = self.state.logs[ident]
        return {slot: getattr(row, slot) for slot in _LOG_FIELDS}


class BalancesProjection(Projection):
    name = "balances"

    def __init__(self) -> None:
        self.state = balances.Balances()

    def reset(self) -> None:
        self.state = balances.Balances()

    def load(self, rows: Iterable[tuple[str, str]]) -> None:
        for key, value in rows:
            kind, _, ident = key.partition(":")
            data = orjson.loads(value)
            if kind == "member":
                self.state.members[UUID(ident)] = balances.MemberMinutes(*data)
            elif kind == "system":
                self.state.system.update(data)
            elif kind == "account":
                self.state.account_owner[UUID(ident)] = UUID(data)
            elif kind == "pending":
                self.state.pending_logs[UUID(ident)] = (UUID(data[0]), data[1])

    def apply(self, notification: Notification, event: AggregateEvent, writes: Writes) -> None:
        ident = event.originator_id
        was_pending = self.state.pending_logs.get(ident)
        known_account = ident in self.state.account_owner
        balances.apply(self.state, event)
        if ident in self.state.account_owner:
            owner = self.state.account_owner[ident]
            if not known_account:  # an account's owner is written once, when it opens
                writes.dirty.add(("account", ident))
            writes.dirty.update((("member", owner), _SYSTEM))
            line = balances.statement_row(self.state, notification.id, event)
            if line is not None:
                writes.statement.append(line)
        elif ident in self.state.pending_logs:
            volunteer, _ = self.state.pending_logs[ident]
            writes.dirty.update((("pending", ident), ("member", volunteer)))
        elif was_pending is not None:  # reviewed: no longer pending
            writes.dirty.add(("member", was_pending[0]))
            pending = ("pending", ident)
            if pending in writes.dirty:  # logged in this batch: its row was never stored
                writes.dirty.remove(pending)
            else:
                writes.dirty.add(pending)

    def encode(self, key: RowKey) -> str | None:
        kind, ident = key
        if ident is None:
            return _dumps(self.state.system)
        if kind == "member":
            m = self.state.members[ident]
            return _dumps([m.pending, m.earned, m.redeemed, m.held, m.received, m.given])
        if kind == "account":
            return _dumps(self.state.account_owner[ident])
        pending = self.state.pending_logs.get(ident)
        return None if pending is None else _dumps(list(pending))


class AuditProjection(Projection):
    name = "audit"

    def __init__(self, app: TimeBank, store: ViewStore) -> None:
        self.app = app
        self.store = store
        self.head = audit.GENESIS_HASH

    def reset(self) -> None:
        self.head = audit.GENESIS_HASH

    def load(self, rows: Iterable[tuple[str, str]]) -> None:
        for key, value in rows:
            if key == "head":
                self.head = orjson.loads(value)

    def apply(self, notification: Notification, event: AggregateEvent, writes: Writes) -> None:
        row = audit.row_of_event(self.head, self.app.mapper, notification, event)
        writes.audit.append(row)
        self.head = row[-1]  # its hash, the last column
        writes.dirty.add(_HEAD)

    def encode(self, key: RowKey) -> str | None:
        return _dumps(self.head)


class ProjectionRunner:
    """Keeps the read models of one process current with the ledger's log."""

    def __init__(
        self,
        app: TimeBank,
        *,
        store: ViewStore | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.app = app
        self.store = store or open_view_store(app)
        self.batch_size = batch_size
        self.directory = DirectoryProjection()
        self.balances = BalancesProjection()
        self.audit = AuditProjection(app, self.store)
        self.projections: dict[str, Projection] = {
            p.name: p for p in (self.directory, self.balances, self.audit)
        }
        self.positions: dict[str, int] = {}
        # Readers hold `lock` while they look at the in-memory views. Each event is folded
        # into every projection under it, so readers see whole events and wait at most for
        # one; the log is read and the views are stored outside it. `_writer` lets one
        # catch-up, rebuild or reload run at a time.
        self.lock = threading.RLock()
        self._writer = threading.RLock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # A batch still committing (see `ViewStore.write_behind`), and the positions it
        # reaches; never left over once `catch_up` returns.
        self._storing: tuple[Storing, dict[str, int]] | None = None
        self._reload(self.projections)
        outdated = [name for name, projection in self.projections.items() if projection.outdated]
        if outdated:
            log.warning("views stored by an older version, folding them again: %s", outdated)
            self.rebuild(outdated)

    # Keeping current --------------------------------------------------------------

    @property
    def position(self) -> int:
        """The log position every projection has reached (a quick read, without the lock:
        the positions only move forward, after their batch is stored)."""
        return min(self.positions.values())

    def catch_up(
        self, *, limit: int | None = None, progress: Callable[[int], None] | None = None
    ) -> int:
        """Apply every event stored so far (or at most `limit` of them); return how many,
        once they are stored. `progress` hears how many more events each batch applied."""
        applied = 0
        with self._writer:
            try:
                while limit is None or applied < limit:
                    size = (
                        self.batch_size if limit is None else min(self.batch_size, limit - applied)
                    )
                    start = self._folded() + 1
                    with collector_paused():  # page by page: see `collector_paused`
                        page = self.app.recorder.select_notifications(start=start, limit=size)
                        kept = self._process(page) if page else True
                    applied += len(page)
                    if page and progress is not None:
                        progress(len(page))
                    # The log is read to its end once the last batch is stored: if another
                    # runner stored some of these events first, read on from its views.
                    if len(page) < size and kept and self._settle():
                        break
            finally:
                self._drain()
        return applied

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The stored views stand still (no catch-up) until the block ends; readers go on."""
        with self._writer:
            yield

    def wait_for(self, position: int) -> None:
        """Read-your-writes: make sure the views include the event at `position`."""
        if self.position < position:
            self.catch_up()

    def start(self, interval: float = 0.05) -> None:
        """Follow the log in a background thread until `stop()`."""
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

    def rebuild(
        self,
        names: Sequence[str] | None = None,
        *,
        rechain_audit: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Drop projections (every view by default) with their positions and fold the log
        again. The audit trail is not a view but the evidence verify compares the events
        with: chaining it again from the events as they stand would make a tampered store
        verify. It is rebuilt only when named with `rechain_audit`; `auditor.rebuild_audit_trail`
        checks the chain first."""
        if names is None:
            names = [name for name in self.projections if name != self.audit.name]
        if self.audit.name in names and not rechain_audit:
            raise ValueError("the audit trail is rebuilt through auditor.rebuild_audit_trail")
        chosen = {name: self.projections[name] for name in names}
        with self._writer, self.lock, collector_paused():
            for name in chosen:
                self.store.drop(name)
            self._reload(chosen)
            return self.catch_up(progress=progress)

    # Inside ------------------------------------------------------------------------

    def _process(self, page: Sequence[Notification]) -> bool:
        """Fold a page and start storing it. False if another runner had stored some of
        these events (or the batch before) first: its views are loaded instead, and what
        was folded from this page is dropped with the views it was folded into."""
        batch = {name: Writes() for name in self.projections}
        try:
            self._fold(page, batch, after=self.positions)
            batch = {name: writes for name, writes in batch.items() if writes.position}
            for name, writes in batch.items():
                # Each changed row is written once per batch, however often it changed.
                # Only this writer changes the views, so encoding needs no reader's lock.
                projection = self.projections[name]
                writes.rows = {
                    projection.stored_key(key): projection.encode(key) for key in writes.dirty
                }
        except BaseException:
            # Whatever was folded from this page is not stored: forget it.
            self._reload(self.projections)
            raise
        reached = {name: writes.position for name, writes in batch.items()}
        if not self._settle(beyond=reached):  # the batch before first: positions move in order
            return False
        try:
            storing = self.store.write_behind(batch)
        except IntegrityError as error:
            self._take_stored_views(error, self._held(reached))
            return False
        except BaseException:
            self._reload(self.projections)
            raise
        self._storing = storing, reached
        return True

    def _fold(
        self,
        page: Sequence[Notification],
        batch: dict[str, Writes],
        *,
        after: dict[str, int],
        until: dict[str, int] | None = None,
    ) -> None:
        """Fold a page's events into the views in memory, each projection those past its
        position in `after` (and up to its position in `until`), noting what changed in
        its writes in `batch`."""
        events = [self.app.mapper.to_domain_event(n) for n in page]
        folds = [
            (p, batch[name], after[name], _NO_END if until is None else until[name])
            for name, p in self.projections.items()
        ]
        for notification, event in zip(page, events, strict=True):
            if not isinstance(event, AggregateEvent):
                continue
            position = notification.id
            with self.lock:
                for projection, writes, seen, last in folds:
                    if seen < position <= last:
                        projection.apply(notification, event, writes)
                        writes.position = position

    def _folded(self) -> int:
        """The log position every projection has folded: stored, or still committing."""
        if self._storing is None:
            return self.position
        committing = self._storing[1]
        return min(committing.get(name, at) for name, at in self.positions.items())

    def _held(self, *reached: dict[str, int]) -> dict[str, int]:
        """Where each projection's views in memory stand: stored, or past it by batches
        that reached these positions."""
        return {
            name: max(at, *(positions.get(name, 0) for positions in reached))
            for name, at in self.positions.items()
        }

    def _settle(self, *, beyond: dict[str, int] | None = None) -> bool:
        """Wait for the batch still committing, if any, then move the positions it reached
        (`beyond`: where a page folded since has taken the views in memory).
        False if another runner had stored those events first: its views are taken
        instead. On any other failure nothing of the batch is stored: the views are read
        back, and it raises."""
        if self._storing is None:
            return True
        (storing, positions), self._storing = self._storing, None
        try:
            storing.wait()
        except IntegrityError as error:
            self._take_stored_views(error, self._held(positions, beyond or {}))
            return False
        except BaseException:
            self._reload(self.projections)
            raise
        self.positions.update(positions)
        return True

    def _take_stored_views(self, error: IntegrityError, held: dict[str, int]) -> None:
        """Another runner on this database stored some of these events first (several API
        processes on one PostgreSQL store): go on from its views.

        They are the views in memory here, further on: every runner folds the same log
        the same way. So once the store stands at or past every event folded here (at
        once, or after the other runner's next batch), the events in between are folded
        without storing them. Reading the views back instead took 0.3 s at 48k events, 20 s
        at a million, with readers waiting, and two busy processes met a refusal about
        twice a second. Only if the store stays behind are the views read back. A refusal
        that moved no stored position on was not another runner's doing: the views are
        read back, and it is raised."""
        deadline = time.monotonic() + _OTHER_RUNNER_WAIT
        while True:
            stored = {name: self.store.tracked(name) for name in self.projections}
            if not any(stored[name] > at for name, at in self.positions.items()):
                self._reload(self.projections)
                raise error
            if all(stored[name] >= at for name, at in held.items()):
                self._fold_without_storing(held, stored)
                return
            if time.monotonic() >= deadline:
                self._reload(self.projections)
                return
            time.sleep(_OTHER_RUNNER_POLL)

    def _fold_without_storing(self, held: dict[str, int], stored: dict[str, int]) -> None:
        """Fold each projection on from `held` to `stored`, where the store has its views."""
        start, end = min(held.values()) + 1, max(stored.values())
        try:
            while start <= end:
                page = self.app.recorder.select_notifications(
                    start=start, limit=min(self.batch_size, end - start + 1)
                )
                if not page:
                    break
                scratch = {name: Writes() for name in self.projections}  # stored already
                self._fold(page, scratch, after=held, until=stored)
                start = page[-1].id + 1
        except BaseException:
            self._reload(self.projections)
            raise
        self.positions.update(stored)

    def _drain(self) -> None:
        """Leave no batch committing (when catching up stopped on an error, it may be the
        batch before the one that failed); whatever becomes of it, the store will say."""
        with suppress(IntegrityError):
            self._settle()

    def _reload(self, projections: dict[str, Projection]) -> None:
        """Restore each projection from its stored rows and the position they stand at."""
        with self._writer, self.lock:
            if self._storing is not None:  # whether it lands or not, the store will say
                storing, self._storing = self._storing[0], None
                with suppress(Exception):
                    storing.wait()
            for name, projection in projections.items():
                _, position = self.store.read(name, projection.reload)
                self.positions[name] = position

    def _follow(self, interval: float) -> None:
        while not self._stopping.is_set():
            try:
                caught = self.catch_up(limit=self.batch_size)
            except Exception:  # the follower must outlive a bad moment; it logs and retries
                log.exception("projection runner failed; retrying")
                caught = 0
            if caught < self.batch_size:
                self._stopping.wait(interval)


_OTHER_RUNNER_WAIT = 0.25  # seconds: another runner polls the log every 50 ms by default
_OTHER_RUNNER_POLL = 0.005
_NO_END = sys.maxsize

_LOG_FIELDS = [slot for slot in directory.LogRow.__slots__ if slot != "id"]


def _log_key(row: directory.LogRow) -> str:
    """A service log's stored key, `log:<when it was logged>:<id>`: the instant, in
    microseconds since 1970 written as fixed-width hex, comes first so that new logs go to
    the end of the table's index, side by side. Under random ids alone every batch wrote
    pages all over the index: at a million events most of the cost of storing a batch."""
    micros = (row.recorded_at - _EPOCH) // _MICROSECOND
    return f"log:{micros:016x}:{id_text(row.id)}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SYSTEM: RowKey = ("system", None)
_HEAD: RowKey = ("head", None)


def _dumps(value: Any) -> str:
    """A row as stored: compact JSON, ids and instants as text."""
    return orjson.dumps(value, default=_encode, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()


def canonical_row(value: Any) -> str:
    """A row's value as canonical JSON (sorted keys, no spaces): equal values, equal text."""
    return orjson.dumps(
        value, default=_encode, option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
    ).decode()


def _encode(value: Any) -> Any:
    # Instants and days by `isoformat`, as the ledger writes them: orjson would round a
    # time zone's offset to the minute, and some historical zones' offsets have seconds.
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a view")


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _log_from_json(
    state: directory.Directory, ident: UUID, data: dict[str, Any]
) -> directory.LogRow:
    """A stored log row, sharing what it names with the directory (see `Directory.shared`)."""
    source = data.get("source")
    return directory.LogRow(
        id=ident,
        volunteer_id=state.shared(UUID(data["volunteer_id"])),
        team_id=state.shared(UUID(data["team_id"])),
        service_date=state.shared_day(date.fromisoformat(data["service_date"])),
        minutes=data["minutes"],
        activity=sys.intern(data["activity"]),
        beneficiary=data["beneficiary"],
        note=data["note"],
        logged_by=state.shared(UUID(data["logged_by"])),
        recorded_at=datetime.fromisoformat(data["recorded_at"]),
        status=data["status"],
        approved_minutes=data["approved_minutes"],
        reason=data["reason"],
        reviewed_by=state.shared(UUID(data["reviewed_by"])) if data["reviewed_by"] else None,
        reviewed_at=datetime.fromisoformat(data["reviewed_at"]) if data["reviewed_at"] else None,
        source=None if source is None else sys.intern(source),
        certified_by_recorder=data.get("certified_by_recorder"),
    )
