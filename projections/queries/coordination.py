"""Reads of a coordinator's work: activities (场次) with their attendees, and care pairings
(结对) with their visits: which elders nobody has visited lately."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Row, and_, func, or_, select, tuple_

from projections.activities import activities, attendees
from projections.pairings import pairings
from projections.periods import ALL_TIME, Period
from projections.queries.base import ReaderBase
from projections.queries.records import (
    ActivityRecord,
    AttendeeRecord,
    CursorError,
    Page,
    PairingRecord,
)
from projections.service_logs import service_logs
from projections.teams import teams
from projections.visibility import Viewer, coordinated
from timebank.errors import NotFoundError, PermissionDeniedError


class CoordinationReads(ReaderBase):
    """Reads of activities and pairings."""

    # Activities ----------------------------------------------------------------------------

    def activities(
        self,
        viewer: Viewer,
        *,
        team_id: UUID | None = None,
        after: UUID | None = None,
        limit: int = 100,
    ) -> Page[ActivityRecord]:
        """The activities of the teams the reader coordinates (every team's for auditors
        and admins), latest first (by day; within a day, the last recorded first)."""
        a = activities.c
        with self._read() as conn:
            query = select(activities)
            if not viewer.sees_everything:
                query = query.where(a.team_id.in_(coordinated(conn, viewer, self.today())))
            if team_id is not None:
                query = query.where(a.team_id == team_id)
            if after is not None:
                start = conn.execute(
                    select(a.service_date, a.position).where(a.activity_id == after)
                ).first()
                if start is None:
                    raise CursorError()
                query = query.where(tuple_(a.service_date, a.position) < tuple_(*start))
            rows = conn.execute(
                query.order_by(a.service_date.desc(), a.position.desc()).limit(limit + 1)
            ).all()
            records = self._activities(conn, rows[:limit])
        return Page(records, records[-1].id if len(rows) > limit else None)

    def activity(self, viewer: Viewer, activity_id: UUID) -> ActivityRecord:
        with self._read() as conn:
            row = conn.execute(
                select(activities).where(activities.c.activity_id == activity_id)
            ).first()
            if row is None:
                raise NotFoundError("activity", activity_id)
            [record] = self._activities(conn, [row])
        attended = {a.member_id for a in record.attendees}
        if not (
            viewer.sees_everything or viewer.id in attended or record.team_id in self._led(viewer)
        ):
            raise PermissionDeniedError(
                viewer.id, f"read activity {activity_id}", "it does not concern them"
            )
        return record

    def _led(self, viewer: Viewer) -> frozenset[UUID]:
        with self._read() as conn:
            return coordinated(conn, viewer, self.today())

    def _activities(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[ActivityRecord]:
        ids = [row.activity_id for row in rows]
        present = conn.execute(
            select(attendees, service_logs.c.status)
            .join(service_logs, service_logs.c.log_id == attendees.c.service_log_id)
            .where(attendees.c.activity_id.in_(ids))
        ).all()
        names = self._names(conn, (p.member_id for p in present))
        team_names = self._team_names(conn, (row.team_id for row in rows))
        by_activity: dict[UUID, list[AttendeeRecord]] = {}
        for p in present:
            by_activity.setdefault(p.activity_id, []).append(
                AttendeeRecord(
                    p.member_id, names.get(p.member_id, ""), p.minutes, p.service_log_id, p.status
                )
            )
        opened = self._open_optional
        return [
            ActivityRecord(
                id=row.activity_id,
                team_id=row.team_id,
                team_name=team_names.get(row.team_id, ""),
                service_date=row.service_date,
                activity=self._open(row.activity),
                place=opened(row.place),
                beneficiaries=opened(row.beneficiaries),
                recorded_by=row.recorded_by,
                recorded_at=row.recorded_at,
                attendees=sorted(
                    by_activity.get(row.activity_id, []),
                    key=lambda a: (a.name, str(a.member_id)),
                ),
            )
            for row in rows
        ]

    # Pairings -------------------------------------------------------------------------------

    def pairings(
        self,
        viewer: Viewer,
        *,
        team_id: UUID | None = None,
        community: str | None = None,
        active_on: date | None = None,
        period: Period = ALL_TIME,
        pairing_id: UUID | None = None,
    ) -> list[PairingRecord]:
        """The pairings the reader may see (those of the teams they coordinate, or their
        own as volunteer or elder; all for auditors and admins), with the last visit and
        the visits and minutes in the period; by team, then the elder's name."""
        day = self.today()
        p = pairings.c
        with self._read() as conn:
            query = select(pairings, teams.c.name.label("team_name"), teams.c.community).join(
                teams, teams.c.team_id == p.team_id
            )
            if not viewer.sees_everything:
                led = coordinated(conn, viewer, day)
                query = query.where(
                    or_(
                        p.team_id.in_(led),
                        p.volunteer_id == viewer.id,
                        p.beneficiary_id == viewer.id,
                    )
                )
            if pairing_id is not None:
                query = query.where(p.pairing_id == pairing_id)
            if team_id is not None:
                query = query.where(p.team_id == team_id)
            if community is not None:
                query = query.where(teams.c.community == community)
            if active_on is not None:
                query = query.where(
                    p.since <= active_on, or_(p.until.is_(None), p.until > active_on)
                )
            rows = conn.execute(query).all()
            ids = [row.pairing_id for row in rows]
            last = self._last_visits(conn, ids)
            visits = self._visits(conn, ids, period)
            names = self._names(
                conn, [r.beneficiary_id for r in rows] + [r.volunteer_id for r in rows]
            )
        records = [
            PairingRecord(
                id=row.pairing_id,
                team_id=row.team_id,
                team_name=row.team_name,
                community=row.community,
                beneficiary_id=row.beneficiary_id,
                beneficiary_name=names.get(row.beneficiary_id, ""),
                volunteer_id=row.volunteer_id,
                volunteer_name=None if row.volunteer_id is None else names.get(row.volunteer_id),
                since=row.since,
                until=row.until,
                note=self._open_optional(row.note),
                last_visit=last.get(row.pairing_id),
                visits=visits.get(row.pairing_id, (0, 0))[0],
                minutes=visits.get(row.pairing_id, (0, 0))[1],
            )
            for row in rows
        ]
        return sorted(records, key=lambda r: (r.team_name, r.beneficiary_name, str(r.id)))

    def pairing(self, viewer: Viewer, pairing_id: UUID) -> PairingRecord:
        """One pairing, with every visit (those the reader may see: as in `pairings`)."""
        found = self.pairings(viewer, pairing_id=pairing_id)
        if found:
            return found[0]
        with self._read() as conn:
            known = conn.execute(
                select(pairings.c.pairing_id).where(pairings.c.pairing_id == pairing_id)
            ).first()
        if known is None:
            raise NotFoundError("pairing", pairing_id)
        raise PermissionDeniedError(
            viewer.id, f"read pairing {pairing_id}", "it does not concern them"
        )

    def care_gaps(
        self,
        viewer: Viewer,
        *,
        days: int,
        team_id: UUID | None = None,
        community: str | None = None,
    ) -> list[PairingRecord]:
        """The grid worker's daily question: the pairings in force today whose elder
        nobody has visited in the last `days` days (or ever), longest waiting first."""
        today = self.today()
        since = today - timedelta(days=days)
        active = self.pairings(viewer, team_id=team_id, community=community, active_on=today)
        waiting = [p for p in active if p.last_visit is None or p.last_visit <= since]
        return sorted(
            waiting, key=lambda p: (p.last_visit or p.since, p.team_name, p.beneficiary_name)
        )

    def _last_visits(self, conn: Connection, ids: list[UUID]) -> dict[UUID, date]:
        """Per pairing, the last day of service logged as its visit (rejected logs are no
        visits; those awaiting review are)."""
        c = service_logs.c
        found: dict[UUID, date] = {}
        for start in range(0, len(ids), 500):
            query = (
                select(c.pairing_id, func.max(c.service_date))
                .where(
                    c.pairing_id.in_(ids[start : start + 500]),
                    c.status.in_(("pending", "approved")),
                )
                .group_by(c.pairing_id)
            )
            for pairing, day in conn.execute(query):
                found[pairing] = day
        return found

    def _visits(
        self, conn: Connection, ids: list[UUID], period: Period
    ) -> dict[UUID, tuple[int, int]]:
        """Per pairing, approved visits in the period and their minutes."""
        c = service_logs.c
        found: dict[UUID, tuple[int, int]] = {}
        for start in range(0, len(ids), 500):
            query = select(
                c.pairing_id, func.count(), func.coalesce(func.sum(c.approved_minutes), 0)
            ).where(c.pairing_id.in_(ids[start : start + 500]), c.status == "approved")
            if period.first is not None and period.last is not None:
                query = query.where(
                    and_(c.service_date >= period.first, c.service_date <= period.last)
                )
            for pairing, count, minutes in conn.execute(query.group_by(c.pairing_id)):
                found[pairing] = (int(count), int(minutes))
        return found
