"""What every group of reads shares: the store, the calendar, and the rule for one record."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Self
from uuid import UUID

from sqlalchemy import Connection, Row, Select, bindparam, func, select

from projections.base import ID
from projections.members import members
from projections.policies import policy_versions
from projections.queries.records import LogRecord
from projections.store import ViewStore, caller_positions, view_positions
from projections.teams import teams
from projections.visibility import (
    Viewer,
    coordinated,
    may_read_record,
    principals,
)
from timebank.errors import PermissionDeniedError
from timebank.policies import Rules


@dataclass(frozen=True)
class Freshness:
    """What one request's reads must include: the last write of the process serving it
    and the caller's own last write, whichever process served that (read-your-writes)."""

    caller: UUID
    written: int  # the furthest log position this process's commands saved
    wait: Callable[[int], None]  # until the views include a position; raises if too late

    def missing(self, conn: Connection) -> int | None:
        """The position this snapshot of the views lacks, if any (one query)."""
        views, written_by_caller = conn.execute(_positions(), {"caller": self.caller}).one()
        needed = max(self.written, written_by_caller or 0)
        return needed if (views or 0) < needed else None


@cache
def _positions() -> Select[Any]:
    """How far every view stands (the least of them) and how far the caller last wrote
    (bound: `caller`): built once, as every read of the API begins with it."""
    caller = (
        select(caller_positions.c.position)
        .where(caller_positions.c.caller == bindparam("caller", type_=ID))
        .scalar_subquery()
    )
    return select(func.min(view_positions.c.position), caller)


class ReaderBase:
    """Reads over one store's views, for readers on the community's calendar (`today`)."""

    def __init__(self, store: ViewStore, today: Callable[[], date]) -> None:
        self.store = store
        self.today = today
        self._open = store.sealer.opened
        self._open_optional = store.sealer.open
        self._fresh: Freshness | None = None

    def fresh_for(self, freshness: Freshness) -> Self:
        """This reader for one request: its reads see at least what `freshness` names.
        The check is the first query of the read's own snapshot, in the thread that reads,
        so a request that is fresh already (nearly all) pays one small query and no wait."""
        reader = copy.copy(self)
        reader._fresh = freshness
        return reader

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A snapshot of the views, fresh enough for this reader's request."""
        fresh = self._fresh
        if fresh is None:
            with self.store.read() as conn:
                yield conn
            return
        with self.store.read() as conn:
            missing = fresh.missing(conn)
            if missing is None:
                self._fresh = None  # later snapshots of this request are newer still
                yield conn
                return
        fresh.wait(missing)  # outside any transaction: the next snapshot will include it
        self._fresh = None
        with self.store.read() as conn:
            yield conn

    def rules_on(self, day: date, conn: Connection | None = None) -> Rules:
        """The community's rules in force on `day` (the ledger's defaults before its first
        command stored any): the last version adopted whose day has come."""
        if conn is None:
            with self._read() as reading:
                return self.rules_on(day, reading)
        v = policy_versions.c
        stored = conn.execute(
            select(v.rules)
            .where(v.effective_on <= day)
            .order_by(v.effective_on.desc(), v.version.desc())
            .limit(1)
        ).scalar()
        return Rules() if stored is None else Rules.of(json.loads(stored))

    def _member_exists(self, conn: Connection, member_id: UUID) -> bool:
        query = select(members.c.member_id).where(members.c.member_id == member_id)
        return conn.execute(query).first() is not None

    def _names(self, conn: Connection, ids: Iterable[UUID | None]) -> dict[UUID, str]:
        """Members' names by id (those the caller may name: the rule is the caller's)."""
        wanted = list({ident for ident in ids if ident is not None})
        found: dict[UUID, str] = {}
        for start in range(0, len(wanted), 500):
            query = select(members.c.member_id, members.c.name).where(
                members.c.member_id.in_(wanted[start : start + 500])
            )
            for ident, name in conn.execute(query):
                found[ident] = self._open(name)
        return found

    def _team_names(self, conn: Connection, ids: Iterable[UUID | None]) -> dict[UUID, str]:
        wanted = list({ident for ident in ids if ident is not None})
        if not wanted:
            return {}
        query = select(teams.c.team_id, teams.c.name).where(teams.c.team_id.in_(wanted))
        return dict(conn.execute(query).all())

    def _logs(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[LogRecord]:
        """Log rows as records, naming their volunteers and teams."""
        names = self._names(conn, (row.volunteer_id for row in rows))
        team_names = self._team_names(conn, (row.team_id for row in rows))
        return [
            self._log(row, names.get(row.volunteer_id, ""), team_names.get(row.team_id, ""))
            for row in rows
        ]

    def _log(self, row: Row[Any], volunteer_name: str, team_name: str) -> LogRecord:
        opened = self._open_optional
        return LogRecord(
            id=row.log_id,
            volunteer_id=row.volunteer_id,
            team_id=row.team_id,
            service_date=row.service_date,
            minutes=row.minutes,
            approved_minutes=row.approved_minutes,
            status=row.status,
            activity=self._open(row.activity),
            beneficiary=opened(row.beneficiary),
            note=opened(row.note),
            reason=opened(row.reason),
            logged_by=row.logged_by,
            certified_by_recorder=row.certified_by_recorder,
            recorded_at=row.recorded_at,
            updated_at=row.reviewed_at or row.recorded_at,
            source=row.source,
            volunteer_name=volunteer_name,
            team_name=team_name,
            activity_id=row.activity_id,
            pairing_id=row.pairing_id,
        )

    def _require_record(
        self,
        conn: Connection,
        viewer: Viewer,
        subject: str,
        *,
        people: Iterable[UUID | None],
        team: UUID | None,
    ) -> None:
        day = self.today()
        if viewer.sees_everything or viewer.id in set(people):
            return
        allowed = may_read_record(
            viewer,
            coordinated(conn, viewer, day) if team is not None else frozenset(),
            principals(conn, viewer, day),
            people=people,
            team=team,
        )
        if not allowed:
            raise PermissionDeniedError(viewer.id, f"read {subject}", "it does not concern them")
