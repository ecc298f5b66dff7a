"""Reads of a member: profile, balance, statement, and finding members."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import and_, func, select

from projections.balances import balances, statement_lines
from projections.members import agents, member_roles, members
from projections.queries.base import ReaderBase
from projections.queries.records import (
    Agent,
    Balance,
    MemberName,
    MemberTeam,
    Page,
    Profile,
    StatementLine,
)
from projections.service_logs import service_logs
from projections.stars import star_level
from projections.teams import acceptances, memberships, teams
from projections.visibility import (
    Viewer,
    covers,
    may_read_member,
    require_member,
)
from timebank.errors import NotFoundError


class MemberReads(ReaderBase):
    """Reads of members."""

    # Members ------------------------------------------------------------------------

    def profile(self, viewer: Viewer, member_id: UUID) -> Profile:
        """Who they are, their teams today with their role, their minutes for life."""
        day = self.today()
        with self.store.read() as conn:
            require_member(conn, viewer, member_id, day)
            row = conn.execute(select(members).where(members.c.member_id == member_id)).first()
            if row is None:
                raise NotFoundError("member", member_id)
            roles = sorted(
                conn.execute(
                    select(member_roles.c.role).where(member_roles.c.member_id == member_id)
                ).scalars()
            )
            team_rows = conn.execute(
                select(
                    teams.c.team_id,
                    teams.c.name,
                    teams.c.community,
                    memberships.c.role,
                    memberships.c.since,
                    acceptances.c.member_id.is_not(None).label("accepted"),
                )
                .join(memberships, memberships.c.team_id == teams.c.team_id)
                .outerjoin(
                    acceptances,
                    and_(
                        acceptances.c.team_id == teams.c.team_id,
                        acceptances.c.member_id == member_id,
                    ),
                )
                .where(memberships.c.member_id == member_id, covers(day))
            ).all()
            earned = conn.execute(
                select(balances.c.earned).where(balances.c.member_id == member_id)
            ).scalar()
            agent_rows = conn.execute(
                select(agents).where(agents.c.member_id == member_id).order_by(agents.c.since)
            ).all()
        lifetime = int(earned or 0)
        return Profile(
            id=member_id,
            name=self._open(row.name),
            roles=roles,
            registered_at=row.registered_at,
            teams=sorted(
                (
                    MemberTeam(t.team_id, t.name, t.community, t.role, t.since, bool(t.accepted))
                    for t in team_rows
                ),
                key=lambda t: (t.name, str(t.team_id)),
            ),
            lifetime_minutes=lifetime,
            star_level=star_level(lifetime, self.ladder),
            anonymous=row.anonymous,
            agents=[Agent(a.agent_id, a.since, a.until) for a in agent_rows],
        )

    def balance(self, viewer: Viewer, member_id: UUID) -> Balance:
        """Pending, earned, redeemed, held, received, given, balance and available."""
        day = self.today()
        with self.store.read() as conn:
            require_member(conn, viewer, member_id, day)
            row = conn.execute(select(balances).where(balances.c.member_id == member_id)).first()
            if row is None and not self._member_exists(conn, member_id):
                raise NotFoundError("member", member_id)
            pending = conn.execute(
                select(func.coalesce(func.sum(service_logs.c.minutes), 0)).where(
                    service_logs.c.volunteer_id == member_id, service_logs.c.status == "pending"
                )
            ).scalar()
        counters = [0] * 5 if row is None else [int(v) for v in row[2:7]]
        earned, redeemed, held, received, given = counters
        balance = earned - redeemed + received - given
        return Balance(
            member_id,
            int(pending or 0),
            earned,
            redeemed,
            held,
            received,
            given,
            balance,
            balance - held,
        )

    def statement(
        self, viewer: Viewer, member_id: UUID, *, after: int, limit: int
    ) -> Page[StatementLine]:
        """Every posting that changed the balance, in log order, with the balance after it."""
        day = self.today()
        with self.store.read() as conn:
            require_member(conn, viewer, member_id, day)
            if not self._member_exists(conn, member_id):
                raise NotFoundError("member", member_id)
            rows = conn.execute(
                select(statement_lines)
                .where(statement_lines.c.member_id == member_id, statement_lines.c.position > after)
                .order_by(statement_lines.c.position)
                .limit(limit + 1)
            ).all()
        lines = [StatementLine(*row) for row in rows[:limit]]
        return Page(lines, lines[-1].position if len(rows) > limit else None)

    # Looking members and teams up (the operator's terminal) ----------------------------------

    def member_names(self, *, team_id: UUID | None = None) -> list[MemberName]:
        """Every member (or every member a team ever had), with their name."""
        with self.store.read() as conn:
            query = select(members.c.member_id, members.c.name)
            if team_id is not None:
                query = query.where(
                    members.c.member_id.in_(
                        select(memberships.c.member_id).where(memberships.c.team_id == team_id)
                    )
                )
            return [MemberName(row[0], self._open(row[1])) for row in conn.execute(query)]

    def team_names(self) -> list[MemberName]:
        with self.store.read() as conn:
            return [
                MemberName(row.team_id, row.name)
                for row in conn.execute(select(teams.c.team_id, teams.c.name))
            ]

    def admins(self) -> list[MemberName]:
        with self.store.read() as conn:
            query = (
                select(members.c.member_id, members.c.name)
                .join(member_roles, member_roles.c.member_id == members.c.member_id)
                .where(member_roles.c.role == "admin")
            )
            return [MemberName(row[0], self._open(row[1])) for row in conn.execute(query)]

    def may_read_member(self, viewer: Viewer, member_id: UUID) -> bool:
        with self.store.read() as conn:
            return may_read_member(conn, viewer, member_id, self.today())
