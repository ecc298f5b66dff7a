"""Reads of teams and their rosters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from sqlalchemy import Connection, and_, or_, select, tuple_

from projections.queries.base import ReaderBase
from projections.queries.records import CursorError, Membership, Page, TeamRecord
from projections.teams import acceptances, memberships, teams
from projections.visibility import (
    Viewer,
    coordinated,
)
from timebank.errors import NotFoundError


class TeamReads(ReaderBase):
    """Reads of teams."""

    # Teams ------------------------------------------------------------------------------

    def teams(
        self,
        viewer: Viewer,
        *,
        community: str | None = None,
        after: UUID | None = None,
        limit: int = 100,
    ) -> Page[TeamRecord]:
        """Teams by name, each with its current members for its coordinators, auditors
        and admins, and with the reader's own membership for anyone else."""
        t = teams.c
        day = self.today()
        with self._read() as conn:
            query = select(teams)
            if community is not None:
                query = query.where(t.community == community)
            if after is not None:
                start = conn.execute(select(t.name).where(t.team_id == after)).scalar()
                if start is None:
                    raise CursorError()
                query = query.where(tuple_(t.name, t.team_id) > tuple_(start, after))
            rows = conn.execute(query.order_by(t.name, t.team_id).limit(limit + 1)).all()
            shown = rows[:limit]
            rosters = self._rosters(conn, viewer, day, [row.team_id for row in shown])
        records = [
            TeamRecord(row.team_id, row.name, row.community, row.founded_on, rosters[row.team_id])
            for row in shown
        ]
        return Page(records, records[-1].id if len(rows) > limit else None)

    def team(self, viewer: Viewer, team_id: UUID) -> TeamRecord:
        day = self.today()
        with self._read() as conn:
            row = conn.execute(select(teams).where(teams.c.team_id == team_id)).first()
            if row is None:
                raise NotFoundError("team", team_id)
            rosters = self._rosters(conn, viewer, day, [team_id])
        return TeamRecord(row.team_id, row.name, row.community, row.founded_on, rosters[team_id])

    def team_exists(self, team_id: UUID) -> bool:
        with self._read() as conn:
            query = select(teams.c.team_id).where(teams.c.team_id == team_id)
            return conn.execute(query).first() is not None

    def _rosters(
        self, conn: Connection, viewer: Viewer, day: date, team_ids: Sequence[UUID]
    ) -> dict[UUID, list[Membership]]:
        rosters: dict[UUID, list[Membership]] = {team_id: [] for team_id in team_ids}
        if not team_ids:
            return rosters
        mine = coordinated(conn, viewer, day)
        m = memberships.c
        query = (
            select(
                m.team_id,
                m.member_id,
                m.role,
                m.since,
                m.until,
                acceptances.c.member_id.is_not(None).label("accepted"),
            )
            .outerjoin(
                acceptances,
                and_(acceptances.c.team_id == m.team_id, acceptances.c.member_id == m.member_id),
            )
            .where(m.team_id.in_(team_ids), m.until.is_(None))
            .order_by(m.team_id, m.seq)
        )
        if not viewer.sees_everything:
            query = query.where(or_(m.team_id.in_(mine), m.member_id == viewer.id))
        for row in conn.execute(query):
            rosters[row.team_id].append(
                Membership(row.member_id, row.role, row.since, row.until, bool(row.accepted))
            )
        return rosters
