"""Reads of a member: profile, balance, statement, and finding members."""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
)

from projections.balances import balances, statement_lines
from projections.base import ID
from projections.members import agents, member_roles, members
from projections.queries.base import ReaderBase
from projections.queries.records import (
    Agent,
    Balance,
    Expiring,
    FoundMember,
    Me,
    MemberName,
    MemberTeam,
    Page,
    Profile,
    StatementLine,
)
from projections.service_logs import service_logs
from projections.teams import acceptances, memberships, teams
from projections.visibility import (
    Viewer,
    coordinated,
    covers,
    may_read_member,
    require_member,
)
from timebank.errors import NotFoundError, PermissionDeniedError
from timebank.lots import expiring
from timebank.members import normalised_code
from timebank.stars import star_level

# The statement lines whose reference is a service log (projections.balances).
SERVICE_KINDS = frozenset({"earned", "earning_reversed"})


class MemberReads(ReaderBase):
    """Reads of members."""

    # Members ------------------------------------------------------------------------

    def profile(self, viewer: Viewer, member_id: UUID) -> Profile:
        """Who they are, their teams today with their role, their minutes for life."""
        day = self.today()
        with self._read() as conn:
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
            ladder = self.rules_on(day, conn).star_ladder_hours
        lifetime = int(earned or 0)
        rungs = [hours * 60 for hours in ladder if hours * 60 > lifetime]
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
            star_level=star_level(lifetime, ladder),
            to_next_star_minutes=rungs[0] - lifetime if rungs else None,
            anonymous=row.anonymous,
            agents=[Agent(a.agent_id, a.since, a.until) for a in agent_rows],
            code=row.code,
        )

    def balance(self, viewer: Viewer, member_id: UUID) -> Balance:
        """Pending, earned, redeemed, held, received, given, expired, balance and
        available, and what of the balance will expire when."""
        day = self.today()
        with self._read() as conn:
            require_member(conn, viewer, member_id, day)
            # One round trip: the balance and the minutes pending.
            row = conn.execute(_balance_row(), {"member_id": member_id}).first()
            if row is not None:
                pending = row.pending
            elif self._member_exists(conn, member_id):  # no account yet
                pending = conn.execute(
                    select(_pending_minutes()), {"member_id": member_id}
                ).scalar()
            else:
                raise NotFoundError("member", member_id)
        if row is None:
            return Balance(member_id, int(pending or 0), 0, 0, 0, 0, 0, 0, 0)
        earned, redeemed, held = int(row.earned), int(row.redeemed), int(row.held)
        received, given, expired = int(row.received), int(row.given), int(row.expired)
        balance = earned - redeemed + received - given - expired
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
            expired,
            [Expiring(day, minutes) for day, minutes in expiring(json.loads(row.lots))],
        )

    def statement(
        self, viewer: Viewer, member_id: UUID, *, after: int, limit: int
    ) -> Page[StatementLine]:
        """Every posting that changed the balance, in log order, with the balance after it,
        and what it was about by name: the service's day, activity and team, or whom
        minutes were given to or received from."""
        day = self.today()
        with self._read() as conn:
            require_member(conn, viewer, member_id, day)
            if not self._member_exists(conn, member_id):
                raise NotFoundError("member", member_id)
            rows = conn.execute(
                _statement_page(), {"member_id": member_id, "after": after, "limit": limit + 1}
            ).all()
            shown = rows[:limit]
            others = {
                line.counterparty: UUID(line.counterparty.partition(":")[2])
                for line in shown
                if line.counterparty.startswith("member:")
            }
            names = self._names(conn, others.values())
        lines = []
        opened = self._open
        for row in shown:
            other = others.get(row.counterparty)
            lines.append(
                StatementLine(
                    member_id=member_id,
                    position=row.position,
                    recorded_at=row.recorded_at,
                    kind=row.kind,
                    reference_id=row.reference_id,
                    counterparty=row.counterparty,
                    minutes=row.minutes,
                    balance_minutes=row.balance_minutes,
                    service_date=row.service_date,
                    activity=None if row.activity is None else opened(row.activity),
                    team_id=row.team_id,
                    team_name=row.team_name,
                    counterparty_name=None if other is None else names.get(other),
                )
            )
        return Page(lines, lines[-1].position if len(rows) > limit else None)

    def me(self, viewer: Viewer) -> Me:
        """The signed-in member's profile, teams, roles and minutes, in one read."""
        return Me(self.profile(viewer, viewer.id), self.balance(viewer, viewer.id))

    def find_by_code(self, code: str) -> FoundMember:
        """The member whose card carries this code (any member may look one up, to give
        them minutes): their id and name, nothing more."""
        wanted = normalised_code(code)
        with self._read() as conn:
            rows = conn.execute(
                select(members.c.member_id, members.c.name, members.c.code).where(
                    members.c.code == wanted
                )
            ).all()
        if len(rows) != 1:
            raise NotFoundError("member code", wanted)
        ident, name, found = rows[0]
        return FoundMember(ident, self._open(name), found)

    def search_team_members(
        self, viewer: Viewer, team_id: UUID, *, name: str | None = None
    ) -> list[FoundMember]:
        """A team's current members whose name holds the text (all without one), by name:
        for the team's coordinators, auditors and admins (names are sealed when the ledger
        encrypts, so the filter runs here, over one team's roster)."""
        day = self.today()
        with self._read() as conn:
            if not self._team_exists(conn, team_id):
                raise NotFoundError("team", team_id)
            if not (viewer.sees_everything or team_id in coordinated(conn, viewer, day)):
                raise PermissionDeniedError(
                    viewer.id, f"search the members of team {team_id}", "not its coordinator"
                )
            query = (
                select(members.c.member_id, members.c.name, members.c.code)
                .join(memberships, memberships.c.member_id == members.c.member_id)
                .where(memberships.c.team_id == team_id, memberships.c.until.is_(None))
                .distinct()
            )
            rows = conn.execute(query).all()
        wanted = unicodedata.normalize("NFC", name.strip()).casefold() if name else ""
        found = [
            FoundMember(ident, opened, code)
            for ident, sealed, code in rows
            if wanted in (opened := self._open(sealed)).casefold()
        ]
        return sorted(found, key=lambda m: (m.name, str(m.id)))

    def _team_exists(self, conn: Connection, team_id: UUID) -> bool:
        query = select(teams.c.team_id).where(teams.c.team_id == team_id)
        return conn.execute(query).first() is not None

    # Looking members and teams up (the operator's terminal) ----------------------------------

    def member_names(self, *, team_id: UUID | None = None) -> list[MemberName]:
        """Every member (or every member a team ever had), with their name."""
        with self._read() as conn:
            query = select(members.c.member_id, members.c.name)
            if team_id is not None:
                query = query.where(
                    members.c.member_id.in_(
                        select(memberships.c.member_id).where(memberships.c.team_id == team_id)
                    )
                )
            return [MemberName(row[0], self._open(row[1])) for row in conn.execute(query)]

    def team_names(self) -> list[MemberName]:
        with self._read() as conn:
            return [
                MemberName(row.team_id, row.name)
                for row in conn.execute(select(teams.c.team_id, teams.c.name))
            ]

    def admins(self) -> list[MemberName]:
        with self._read() as conn:
            query = (
                select(members.c.member_id, members.c.name)
                .join(member_roles, member_roles.c.member_id == members.c.member_id)
                .where(member_roles.c.role == "admin")
            )
            return [MemberName(row[0], self._open(row[1])) for row in conn.execute(query)]

    def family(self, viewer: Viewer, *, name: str = "") -> list[MemberName]:
        """The members the reader acts for and those who act for them today (家属代办),
        whose name holds the text, by name: whom a member gives minutes to, found by name
        within what they may see."""
        day = self.today()
        with self._read() as conn:
            acting = select(agents.c.member_id, agents.c.agent_id).where(
                or_(agents.c.member_id == viewer.id, agents.c.agent_id == viewer.id),
                agents.c.since <= day,
                or_(agents.c.until.is_(None), agents.c.until > day),
            )
            close = {other for pair in conn.execute(acting) for other in pair if other != viewer.id}
            rows = conn.execute(
                select(members.c.member_id, members.c.name).where(members.c.member_id.in_(close))
            ).all()
        wanted = unicodedata.normalize("NFC", name.strip()).casefold()
        found = [
            MemberName(ident, opened)
            for ident, sealed in rows
            if wanted in (opened := self._open(sealed)).casefold()
        ]
        return sorted(found, key=lambda m: (m.name, str(m.id)))

    def may_read_member(self, viewer: Viewer, member_id: UUID) -> bool:
        with self._read() as conn:
            return may_read_member(conn, viewer, member_id, self.today())


@cache
def _statement_page() -> Select[Any]:
    """A page of a member's statement lines with what each service line was about (its
    day, activity and team): one query, built once, its values bound as it runs."""
    line, log = statement_lines.c, service_logs.c
    about_a_service = and_(line.kind.in_(sorted(SERVICE_KINDS)), log.log_id == line.reference_id)
    return (
        select(
            line.position,
            line.recorded_at,
            line.kind,
            line.reference_id,
            line.counterparty,
            line.minutes,
            line.balance_minutes,
            log.service_date,
            log.activity,
            log.team_id,
            teams.c.name.label("team_name"),
        )
        .select_from(
            statement_lines.outerjoin(service_logs, about_a_service).outerjoin(
                teams, teams.c.team_id == log.team_id
            )
        )
        .where(
            line.member_id == bindparam("member_id", type_=ID),
            line.position > bindparam("after", type_=BigInteger),
        )
        .order_by(line.position)
        .limit(bindparam("limit", type_=Integer))
    )


@cache
def _pending_minutes() -> ScalarSelect[Any]:
    """The minutes of a member's service logs awaiting review (bound: `member_id`)."""
    log = service_logs.c
    return (
        select(func.coalesce(func.sum(log.minutes), 0))
        .where(log.volunteer_id == bindparam("member_id", type_=ID), log.status == "pending")
        .scalar_subquery()
    )


@cache
def _balance_row() -> Select[Any]:
    """A member's balance row with the minutes pending (bound: `member_id`): built once."""
    return select(balances, _pending_minutes().label("pending")).where(
        balances.c.member_id == bindparam("member_id", type_=ID)
    )
