"""The read side's one way in: every read the API, the pages and the CLI make.

Each read takes the reader (a `Viewer`), applies the one rule of who may read what
(`projections.visibility`), runs SQL over the view tables in one snapshot, and returns
plain frozen data. No runner, lock or in-memory copy of history is involved: a read is a
few indexed queries, and two reads never wait for each other.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from sqlalchemy import Connection, Row, and_, func, or_, select, tuple_

from projections.audit import AuditEntry, audit_trail, entry_of_row
from projections.balances import balances, statement_lines, system_accounts
from projections.members import agents, member_roles, members
from projections.periods import Period
from projections.rankings import team_tallies, volunteer_tallies
from projections.records import credentials, redemptions, transfers
from projections.service_logs import service_logs
from projections.stars import DEFAULT_LADDER_HOURS, star_level
from projections.store import ViewStore
from projections.teams import acceptances, memberships, teams
from projections.visibility import (
    ANONYMOUS,
    Viewer,
    communities,
    coordinated,
    covers,
    may_read_member,
    may_read_record,
    parties_clause,
    principals,
    require_auditor,
    require_member,
)
from timebank.errors import NotFoundError, PermissionDeniedError

T = TypeVar("T")


class CursorError(ValueError):
    """An `after` names nothing the list knows (a page cannot start there)."""

    def __init__(self, field: str = "after") -> None:
        super().__init__(f"{field}: names no item of this list; start again without it")
        self.field = field
        self.message = "names no item of this list; start again without it"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_after: Any | None


# What reads return ---------------------------------------------------------------------


@dataclass(frozen=True)
class MemberTeam:
    team_id: UUID
    name: str
    community: str
    role: str
    since: date
    accepted: bool


@dataclass(frozen=True)
class Agent:
    agent_id: UUID
    since: date
    until: date | None


@dataclass(frozen=True)
class Profile:
    id: UUID
    name: str
    roles: list[str]
    registered_at: datetime
    teams: list[MemberTeam]
    lifetime_minutes: int
    star_level: int
    anonymous: bool
    agents: list[Agent] = field(default_factory=list)


@dataclass(frozen=True)
class Balance:
    member_id: UUID
    pending_minutes: int
    earned_minutes: int
    redeemed_minutes: int
    held_minutes: int
    received_minutes: int
    given_minutes: int
    balance_minutes: int
    available_minutes: int


@dataclass(frozen=True)
class StatementLine:
    member_id: UUID
    position: int
    recorded_at: datetime
    kind: str
    reference_id: UUID
    counterparty: str
    minutes: int
    balance_minutes: int


@dataclass(frozen=True)
class LogRecord:
    id: UUID
    volunteer_id: UUID
    team_id: UUID
    service_date: date
    minutes: int
    approved_minutes: int | None
    status: str
    activity: str
    beneficiary: str | None
    note: str | None
    reason: str | None
    logged_by: UUID
    certified_by_recorder: bool | None
    recorded_at: datetime
    updated_at: datetime
    source: str | None


@dataclass(frozen=True)
class Membership:
    member_id: UUID
    role: str
    since: date
    until: date | None
    accepted: bool


@dataclass(frozen=True)
class TeamRecord:
    id: UUID
    name: str
    community: str
    founded_on: date | None
    members: list[Membership]


@dataclass(frozen=True)
class TeamRank:
    rank: int
    team_id: UUID
    name: str
    community: str
    minutes: int
    volunteers: int
    person_times: int
    sessions: int


@dataclass(frozen=True)
class VolunteerRank:
    rank: int
    member_id: UUID | None  # None: the reader may not see who it is
    name: str
    minutes: int
    person_times: int
    sessions: int


@dataclass(frozen=True)
class RedemptionRecord:
    id: UUID
    member_id: UUID
    team_id: UUID
    service: str
    minutes: int
    status: str
    reason: str | None
    requested_by: UUID
    consent: str
    consented_by: UUID | None
    requested_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class TransferRecord:
    id: UUID
    from_member_id: UUID
    to_member_id: UUID
    minutes: int
    note: str | None
    made_by: UUID
    consent: str
    consented_by: UUID | None
    made_at: datetime


@dataclass(frozen=True)
class CredentialRecord:
    id: UUID
    member_id: UUID
    kind: str
    status: str
    reason: str | None
    issued_by: UUID
    issued_by_other: bool
    issued_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MemberName:
    id: UUID
    name: str


class Reader:
    """Reads over one store's views, for readers on the community's calendar (`today`)."""

    def __init__(
        self,
        store: ViewStore,
        today: Callable[[], date],
        *,
        ladder: Sequence[int] = DEFAULT_LADDER_HOURS,
    ) -> None:
        self.store = store
        self.today = today
        self.ladder = tuple(ladder)
        self._open = store.sealer.opened
        self._open_optional = store.sealer.open

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

    def _member_exists(self, conn: Connection, member_id: UUID) -> bool:
        query = select(members.c.member_id).where(members.c.member_id == member_id)
        return conn.execute(query).first() is not None

    # Service logs -------------------------------------------------------------------------

    def service_logs(
        self,
        viewer: Viewer,
        *,
        status: str | None = None,
        team_id: UUID | None = None,
        volunteer_id: UUID | None = None,
        after: UUID | None = None,
        limit: int = 100,
    ) -> Page[LogRecord]:
        """The logs the reader may see (their own, those of members they act for, their
        teams' for coordinators, all for auditors and admins), in the order recorded."""
        c = service_logs.c
        day = self.today()
        with self.store.read() as conn:
            visible = parties_clause(
                viewer,
                coordinated(conn, viewer, day),
                principals(conn, viewer, day),
                people=(c.volunteer_id, c.logged_by),
                team=c.team_id,
            )
            query = select(service_logs).where(visible)
            if status is not None:
                query = query.where(c.status == status)
            if team_id is not None:
                query = query.where(c.team_id == team_id)
            if volunteer_id is not None:
                query = query.where(c.volunteer_id == volunteer_id)
            if after is not None:
                start = conn.execute(
                    select(c.recorded_at).where(c.log_id == after, visible)
                ).scalar()
                if start is None:
                    raise CursorError()
                query = query.where(tuple_(c.recorded_at, c.log_id) > tuple_(start, after))
            rows = conn.execute(query.order_by(c.recorded_at, c.log_id).limit(limit + 1)).all()
        logs = [self._log(row) for row in rows[:limit]]
        return Page(logs, logs[-1].id if len(rows) > limit else None)

    def service_log(self, viewer: Viewer, log_id: UUID) -> LogRecord:
        with self.store.read() as conn:
            row = conn.execute(select(service_logs).where(service_logs.c.log_id == log_id)).first()
            if row is None:
                raise NotFoundError("service log", log_id)
            self._require_record(
                conn,
                viewer,
                f"service log {log_id}",
                people=(row.volunteer_id, row.logged_by),
                team=row.team_id,
            )
        return self._log(row)

    def _log(self, row: Row[Any]) -> LogRecord:
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

    # Redemptions, transfers, credentials -------------------------------------------------------

    def redemption(self, viewer: Viewer, redemption_id: UUID) -> RedemptionRecord:
        """Seen by its member (and their agent), whoever asked for it, the coordinators of
        the delivering team, auditors and admins."""
        with self.store.read() as conn:
            row = conn.execute(
                select(redemptions).where(redemptions.c.redemption_id == redemption_id)
            ).first()
            if row is None:
                raise NotFoundError("redemption", redemption_id)
            self._require_record(
                conn,
                viewer,
                f"redemption {redemption_id}",
                people=(row.member_id, row.requested_by),
                team=row.team_id,
            )
        return RedemptionRecord(
            row.redemption_id,
            row.member_id,
            row.team_id,
            row.service,
            row.minutes,
            row.status,
            self._open_optional(row.reason),
            row.requested_by,
            row.consent,
            row.consented_by,
            row.requested_at,
            row.updated_at,
        )

    def transfer(self, viewer: Viewer, transfer_id: UUID) -> TransferRecord:
        """Seen by its giver and receiver (and their agents), auditors and admins."""
        with self.store.read() as conn:
            row = conn.execute(
                select(transfers).where(transfers.c.transfer_id == transfer_id)
            ).first()
            if row is None:
                raise NotFoundError("transfer", transfer_id)
            self._require_record(
                conn,
                viewer,
                f"transfer {transfer_id}",
                people=(row.from_member_id, row.to_member_id, row.made_by),
                team=None,
            )
        return TransferRecord(
            row.transfer_id,
            row.from_member_id,
            row.to_member_id,
            row.minutes,
            self._open_optional(row.note),
            row.made_by,
            row.consent,
            row.consented_by,
            row.made_at,
        )

    def credential(self, viewer: Viewer, credential_id: UUID) -> CredentialRecord:
        """A credential's record (never the token) is seen by its member, auditors, admins."""
        with self.store.read() as conn:
            row = conn.execute(
                select(credentials).where(credentials.c.credential_id == credential_id)
            ).first()
        if row is None:
            raise NotFoundError("credential", credential_id)
        if not (viewer.sees_everything or viewer.id == row.member_id):
            raise PermissionDeniedError(
                viewer.id, f"read credential {credential_id}", "it is another member's"
            )
        return CredentialRecord(
            row.credential_id,
            row.member_id,
            row.kind,
            row.status,
            self._open_optional(row.reason),
            row.issued_by,
            row.issued_by != row.member_id,
            row.issued_at,
            row.updated_at,
        )

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
        with self.store.read() as conn:
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
        with self.store.read() as conn:
            row = conn.execute(select(teams).where(teams.c.team_id == team_id)).first()
            if row is None:
                raise NotFoundError("team", team_id)
            rosters = self._rosters(conn, viewer, day, [team_id])
        return TeamRecord(row.team_id, row.name, row.community, row.founded_on, rosters[team_id])

    def team_exists(self, team_id: UUID) -> bool:
        with self.store.read() as conn:
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

    # Rankings ---------------------------------------------------------------------------

    def team_rankings(
        self,
        viewer: Viewer,
        period: Period,
        *,
        community: str | None = None,
        after: UUID | None = None,
        limit: int = 100,
    ) -> Page[TeamRank]:
        """Every team in scope, those with no minutes included, ranked by minutes; ties
        share a rank (1, 2, 2, 4) and are listed by name."""
        t, tally = teams.c, team_tallies.c
        with self.store.read() as conn:
            query = select(
                t.team_id,
                t.name,
                t.community,
                func.coalesce(tally.minutes, 0),
                func.coalesce(tally.volunteers, 0),
                func.coalesce(tally.person_times, 0),
                func.coalesce(tally.sessions, 0),
            ).outerjoin(
                team_tallies,
                and_(tally.team_id == t.team_id, tally.period == period.name),
            )
            if community is not None:
                query = query.where(t.community == community)
            rows = conn.execute(query).all()
        ordered = sorted(rows, key=lambda r: (-r[3], r[1], str(r[0])))
        ranked = [
            TeamRank(rank, r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), int(r[6]))
            for rank, r in zip(_competition_ranks([r[3] for r in ordered]), ordered, strict=True)
        ]
        return _page(
            ranked,
            key=lambda r: (-r.minutes, r.name, str(r.team_id)),
            cursor_of=lambda r: r.team_id,
            after=after,
            limit=limit,
        )

    def volunteer_rankings(
        self,
        viewer: Viewer,
        period: Period,
        *,
        team_id: UUID | None = None,
        community: str | None = None,
        after: UUID | None = None,
        limit: int = 100,
    ) -> Page[VolunteerRank]:
        """Everyone who has belonged to a team in scope, those with no minutes included.
        Names are shown to readers who serve in a community the member serves in, unless
        the member chose to appear anonymously (匿名志愿者, without an id); the member,
        their agent, their coordinators, auditors and admins always see them."""
        day = self.today()
        with self.store.read() as conn:
            scope_query = select(teams.c.team_id)
            if team_id is not None:
                scope_query = scope_query.where(teams.c.team_id == team_id)
            if community is not None:
                scope_query = scope_query.where(teams.c.community == community)
            scope = list(conn.execute(scope_query).scalars())
            if (
                team_id is not None
                and not scope
                and (
                    conn.execute(select(teams.c.team_id).where(teams.c.team_id == team_id)).first()
                    is None
                )
            ):
                raise NotFoundError("team", team_id)
            tallies: dict[UUID, list[int]] = {}
            v = volunteer_tallies.c
            for chunk in _chunks(scope):
                query = (
                    select(
                        v.volunteer_id,
                        func.sum(v.minutes),
                        func.sum(v.person_times),
                        func.sum(v.sessions),
                    )
                    .where(v.period == period.name, v.team_id.in_(chunk))
                    .group_by(v.volunteer_id)
                )
                for volunteer, minutes, times, sessions in conn.execute(query):
                    row = tallies.setdefault(volunteer, [0, 0, 0])
                    row[0] += int(minutes)
                    row[1] += int(times)
                    row[2] += int(sessions)
            for chunk in _chunks(scope):
                query = (
                    select(memberships.c.member_id)
                    .where(memberships.c.team_id.in_(chunk))
                    .distinct()
                )
                for member_id in conn.execute(query).scalars():
                    tallies.setdefault(member_id, [0, 0, 0])
            people: dict[UUID, tuple[str, bool]] = {}
            for chunk in _chunks(list(tallies)):
                query = select(members.c.member_id, members.c.name, members.c.anonymous).where(
                    members.c.member_id.in_(chunk)
                )
                for found in conn.execute(query):
                    people[found.member_id] = (self._open(found.name), bool(found.anonymous))
            shown = self._names_shown(conn, viewer, day, people)
        ordered = sorted(
            (m for m in tallies if m in people),
            key=lambda m: (-tallies[m][0], people[m][0], str(m)),
        )
        ranks = _competition_ranks([tallies[m][0] for m in ordered])
        ranked = [
            (
                member_id,
                VolunteerRank(
                    rank,
                    member_id if member_id in shown else None,
                    people[member_id][0] if member_id in shown else ANONYMOUS,
                    *tallies[member_id],
                ),
            )
            for rank, member_id in zip(ranks, ordered, strict=True)
        ]

        def cursor_of(entry: tuple[UUID, VolunteerRank]) -> UUID:
            """The row's id, or for a hidden member an id only this reader's pages know."""
            member_id = entry[0]
            return member_id if member_id in shown else _pseudonym(viewer.id, member_id)

        page = _page(
            ranked,
            key=lambda e: (-e[1].minutes, people[e[0]][0], str(e[0])),
            cursor_of=cursor_of,
            after=after,
            limit=limit,
        )
        return Page([rank for _, rank in page.items], page.next_after)

    def _names_shown(
        self, conn: Connection, viewer: Viewer, day: date, people: dict[UUID, tuple[str, bool]]
    ) -> set[UUID]:
        """Of these members, those whose names the reader sees (see the module's rule)."""
        if viewer.sees_everything:
            return set(people)
        mine = communities(conn, viewer.id, day)
        readable = {viewer.id} | set(principals(conn, viewer, day))
        teams_led = coordinated(conn, viewer, day)
        if teams_led:
            query = (
                select(memberships.c.member_id)
                .join(
                    acceptances,
                    and_(
                        acceptances.c.team_id == memberships.c.team_id,
                        acceptances.c.member_id == memberships.c.member_id,
                    ),
                )
                .where(memberships.c.team_id.in_(teams_led), covers(day))
            )
            readable |= set(conn.execute(query).scalars())
        served: dict[UUID, set[str]] = {}
        if mine:
            for chunk in _chunks(list(people)):
                query = (
                    select(memberships.c.member_id, teams.c.community)
                    .join(teams, teams.c.team_id == memberships.c.team_id)
                    .where(memberships.c.member_id.in_(chunk), teams.c.community.in_(mine))
                )
                for member_id, where in conn.execute(query):
                    served.setdefault(member_id, set()).add(where)
        return {
            member_id
            for member_id, (_, anonymous) in people.items()
            if member_id in readable or (not anonymous and member_id in served)
        }

    # Auditing -----------------------------------------------------------------------------

    def audit_events(self, viewer: Viewer, *, after: int, limit: int) -> Page[AuditEntry]:
        """The audit trail in log order: each event's data and its chained hash."""
        require_auditor(viewer)
        entries = self.audit_entries(after=after, limit=limit + 1)
        shown = entries[:limit]
        return Page(shown, shown[-1].position if len(entries) > limit else None)

    def audit_entries(self, *, after: int, limit: int) -> list[AuditEntry]:
        return audit_entries(self.store, after=after, limit=limit)

    def system_accounts(self) -> dict[str, int]:
        with self.store.read() as conn:
            return {row.account: int(row.minutes) for row in conn.execute(select(system_accounts))}

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


def audit_entries(store: ViewStore, *, after: int, limit: int) -> list[AuditEntry]:
    """Audit entries after a position, their data opened (for verify and export, which
    apply no reader's rule: they are the auditor's own tools)."""
    with store.read() as conn:
        rows = conn.execute(
            select(audit_trail)
            .where(audit_trail.c.position > after)
            .order_by(audit_trail.c.position)
            .limit(limit)
        ).all()
    return [entry_of_row(row, store.sealer.opened(row.data)) for row in rows]


def _competition_ranks(minutes_in_order: list[int]) -> list[int]:
    """Standard competition ranking: equal minutes share a rank, the next rank skips."""
    ranks: list[int] = []
    for index, minutes in enumerate(minutes_in_order):
        tied = index > 0 and minutes == minutes_in_order[index - 1]
        ranks.append(ranks[-1] if tied else index + 1)
    return ranks


def _page(
    rows: list[T],
    *,
    key: Callable[[T], Any],
    cursor_of: Callable[[T], Any],
    after: Any | None,
    limit: int,
) -> Page[T]:
    """The first `limit` rows in key order after the row whose cursor is `after`."""
    start = None
    if after is not None:
        found = next((row for row in rows if cursor_of(row) == after), None)
        if found is None:
            raise CursorError()
        start = key(found)
    following = (row for row in rows if start is None or key(row) > start)
    chosen = heapq.nsmallest(limit + 1, following, key=key)
    shown = chosen[:limit]
    return Page(shown, cursor_of(shown[-1]) if len(chosen) > limit else None)


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_PSEUDONYMS = uuid5(NAMESPACE_URL, "timebank:ranking-cursor")


def _pseudonym(viewer_id: UUID, member_id: UUID) -> UUID:
    return uuid5(_PSEUDONYMS, f"{viewer_id}:{member_id}")


__all__ = ["Reader", "Viewer", "may_read_member"]
