"""Reads of service logs, redemptions, transfers and credentials' records."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Row,
    Select,
    String,
    and_,
    bindparam,
    select,
    true,
    tuple_,
    union,
)

from projections.base import ID, Instant
from projections.members import members
from projections.queries.base import ReaderBase
from projections.queries.records import (
    CredentialRecord,
    CursorError,
    LogRecord,
    Page,
    RedemptionRecord,
    TransferRecord,
)
from projections.records import credentials, redemptions, transfers
from projections.service_logs import service_logs
from projections.teams import teams
from projections.visibility import (
    Viewer,
    coordinated,
    coordinated_and_principals,
    parties_clause,
    principals,
)
from timebank.errors import NotFoundError, PermissionDeniedError
from timebank.service_logs import ServiceStatus


class LogReads(ReaderBase):
    """Reads of what members did and spent."""

    # Service logs -------------------------------------------------------------------------

    def service_logs(
        self,
        viewer: Viewer,
        *,
        status: str | None = None,
        team_id: UUID | None = None,
        volunteer_id: UUID | None = None,
        served_from: date | None = None,
        served_until: date | None = None,
        after: UUID | None = None,
        limit: int = 100,
    ) -> Page[LogRecord]:
        """The logs the reader may see (their own, those of members they act for, their
        teams' for coordinators, all for auditors and admins), in the order recorded;
        `served_from` and `served_until` bound their service dates (both days included)."""
        c = service_logs.c
        day = self.today()
        with self._read() as conn:
            day_teams, acting_for = coordinated_and_principals(conn, viewer, day)
            people = [] if viewer.sees_everything else sorted({viewer.id, *acting_for})
            teams_led = [] if viewer.sees_everything else sorted(day_teams)
            values: dict[str, Any] = {
                "status": status,
                "team_id": team_id,
                "volunteer_id": volunteer_id,
                "served_from": served_from,
                "served_until": served_until,
                "limit": limit + 1,
                **{f"person_{i}": person for i, person in enumerate(people)},
                **{f"team_{i}": team for i, team in enumerate(teams_led)},
            }
            if after is not None:
                visible = parties_clause(
                    viewer,
                    day_teams,
                    acting_for,
                    people=(c.volunteer_id, c.logged_by),
                    team=c.team_id,
                )
                start = conn.execute(
                    select(c.recorded_at).where(c.log_id == after, visible)
                ).scalar()
                if start is None:
                    raise CursorError()
                values |= {"after_at": start, "after_id": after}
            form = _ListForm(
                viewer.sees_everything,
                len(people),
                len(teams_led),
                status is not None,
                team_id is not None,
                volunteer_id is not None,
                served_from is not None,
                served_until is not None,
                after is not None,
            )
            rows = conn.execute(_list_query(form), values).all()
        names: dict[str | None, str] = {}
        logs = []
        for row in rows[:limit]:
            if row.volunteer_name not in names:
                names[row.volunteer_name] = self._open(row.volunteer_name)
            logs.append(self._log(row, names[row.volunteer_name], row.team_name or ""))
        return Page(logs, logs[-1].id if len(rows) > limit else None)

    def service_log(self, viewer: Viewer, log_id: UUID) -> LogRecord:
        with self._read() as conn:
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
            [log] = self._logs(conn, [row])
        return log

    # Redemptions, transfers, credentials -------------------------------------------------------

    def redemptions(
        self,
        viewer: Viewer,
        *,
        status: str | None = None,
        member_id: UUID | None = None,
        limit: int = 100,
    ) -> list[RedemptionRecord]:
        """The redemptions the reader may see (their own and those of members they act
        for, their teams' for coordinators, all for auditors and admins), oldest first."""
        c = redemptions.c
        day = self.today()
        with self._read() as conn:
            visible = parties_clause(
                viewer,
                coordinated(conn, viewer, day),
                principals(conn, viewer, day),
                people=(c.member_id, c.requested_by),
                team=c.team_id,
            )
            query = select(redemptions).where(visible)
            if status is not None:
                query = query.where(c.status == status)
            if member_id is not None:
                query = query.where(c.member_id == member_id)
            rows = conn.execute(query.order_by(c.requested_at, c.redemption_id).limit(limit)).all()
        return [self._redemption(row) for row in rows]

    def _redemption(self, row: Row[Any]) -> RedemptionRecord:
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

    def redemption(self, viewer: Viewer, redemption_id: UUID) -> RedemptionRecord:
        """Seen by its member (and their agent), whoever asked for it, the coordinators of
        the delivering team, auditors and admins."""
        with self._read() as conn:
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
        return self._redemption(row)

    def transfer(self, viewer: Viewer, transfer_id: UUID) -> TransferRecord:
        """Seen by its giver and receiver (and their agents), auditors and admins."""
        with self._read() as conn:
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
        with self._read() as conn:
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


class _ListForm(NamedTuple):
    """The form a request for a list of logs takes: which filters it has, and how many
    people and teams the reader's logs are of."""

    everything: bool  # the reader sees every log
    people: int  # the reader and the members they act for
    teams: int  # the teams they coordinate today
    status: bool
    team_id: bool
    volunteer_id: bool
    served_from: bool
    served_until: bool
    after: bool


@lru_cache(maxsize=256)  # readers acting for many members each make a form of their own
def _list_query(form: _ListForm) -> Select[Any]:
    """A page of the logs a reader sees, with each log's volunteer's stored name and team's
    name, built once for each form a request takes; its values are bound as it runs
    (`person_0`, ... and `team_0`, ... for the reader's people and teams, the filters,
    `after_at` and `after_id`, `limit`).

    The reader's logs are read as a union of index ranges (`_anchors`), and then whole
    with their names for the page only."""
    c = service_logs.c
    filters: list[ColumnElement[bool]] = []
    if form.status:
        filters.append(c.status == bindparam("status", type_=String))
    if form.team_id:
        filters.append(c.team_id == bindparam("team_id", type_=ID))
    if form.volunteer_id:
        filters.append(c.volunteer_id == bindparam("volunteer_id", type_=ID))
    if form.served_from:
        filters.append(c.service_date >= bindparam("served_from", type_=Date))
    if form.served_until:
        filters.append(c.service_date <= bindparam("served_until", type_=Date))
    if form.after:
        start = tuple_(bindparam("after_at", type_=Instant), bindparam("after_id", type_=ID))
        filters.append(tuple_(c.recorded_at, c.log_id) > start)
    limit = bindparam("limit", type_=Integer)
    branches = [
        select(c.recorded_at, c.log_id)
        .where(anchor, *filters)
        .order_by(c.recorded_at, c.log_id)
        .limit(limit)
        .subquery()
        for anchor in _anchors(form)
    ]
    merged = union(*(select(b.c.recorded_at, b.c.log_id) for b in branches)).subquery()
    first = select(merged.c.log_id).order_by(merged.c.recorded_at, merged.c.log_id).limit(limit)
    return (
        select(
            service_logs,
            members.c.name.label("volunteer_name"),
            teams.c.name.label("team_name"),
        )
        .outerjoin(members, members.c.member_id == c.volunteer_id)
        .outerjoin(teams, teams.c.team_id == c.team_id)
        .where(c.log_id.in_(first))
        .order_by(c.recorded_at, c.log_id)
    )


def _anchors(form: _ListForm) -> list[ColumnElement[bool]]:
    """The reader's logs as a union of index ranges, each already in recorded order: one
    per way a log may concern them (they served or logged it, or a member they act for
    did, or it is of a team they coordinate), rather than one OR the database would answer
    by reading every log in order. Without a status, each range is split by status, since
    the indexes lead with the party and then the status."""
    c = service_logs.c
    if form.everything:
        if form.team_id:
            anchors = [c.team_id == bindparam("team_id", type_=ID)]
        elif form.volunteer_id:
            anchors = [c.volunteer_id == bindparam("volunteer_id", type_=ID)]
        else:
            return [true()]
    else:
        people = [bindparam(f"person_{i}", type_=ID) for i in range(form.people)]
        anchors = [
            *(c.volunteer_id == person for person in people),
            *(c.logged_by == person for person in people),
            *(c.team_id == bindparam(f"team_{i}", type_=ID) for i in range(form.teams)),
        ]
    if form.status:
        return anchors
    return [and_(anchor, c.status == each.value) for anchor in anchors for each in ServiceStatus]
