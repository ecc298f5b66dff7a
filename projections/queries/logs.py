"""Reads of service logs, redemptions, transfers and credentials' records."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, and_, select, true, tuple_, union

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
from projections.visibility import (
    Viewer,
    coordinated,
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
            day_teams = coordinated(conn, viewer, day)
            acting_for = principals(conn, viewer, day)
            filters: list[ColumnElement[bool]] = []
            if status is not None:
                filters.append(c.status == status)
            if team_id is not None:
                filters.append(c.team_id == team_id)
            if volunteer_id is not None:
                filters.append(c.volunteer_id == volunteer_id)
            if served_from is not None:
                filters.append(c.service_date >= served_from)
            if served_until is not None:
                filters.append(c.service_date <= served_until)
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
                filters.append(tuple_(c.recorded_at, c.log_id) > tuple_(start, after))
            branches = [
                select(c.recorded_at, c.log_id)
                .where(anchor, *filters)
                .order_by(c.recorded_at, c.log_id)
                .limit(limit + 1)
                .subquery()
                for anchor in _anchors(
                    viewer,
                    day_teams,
                    acting_for,
                    status=status,
                    team_id=team_id,
                    volunteer_id=volunteer_id,
                )
            ]
            merged = union(*(select(b.c.recorded_at, b.c.log_id) for b in branches)).subquery()
            first = (
                select(merged.c.log_id)
                .order_by(merged.c.recorded_at, merged.c.log_id)
                .limit(limit + 1)
            )
            rows = conn.execute(
                select(service_logs).where(c.log_id.in_(first)).order_by(c.recorded_at, c.log_id)
            ).all()
            logs = self._logs(conn, rows[:limit])
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


def _anchors(
    viewer: Viewer,
    day_teams: frozenset[UUID],
    acting_for: frozenset[UUID],
    *,
    status: str | None,
    team_id: UUID | None,
    volunteer_id: UUID | None,
) -> list[ColumnElement[bool]]:
    """The reader's logs as a union of index ranges, each already in recorded order: one
    per way a log may concern them (they served or logged it, or a member they act for
    did, or it is of a team they coordinate), rather than one OR the database would answer
    by reading every log in order. Without a status, each range is split by status, since
    the indexes lead with the party and then the status."""
    c = service_logs.c
    if viewer.sees_everything:
        if team_id is not None:
            anchors = [c.team_id == team_id]
        elif volunteer_id is not None:
            anchors = [c.volunteer_id == volunteer_id]
        else:
            return [true()]
    else:
        people = sorted({viewer.id, *acting_for})
        anchors = [
            *(c.volunteer_id == person for person in people),
            *(c.logged_by == person for person in people),
            *(c.team_id == team for team in sorted(day_teams)),
        ]
    if status is not None:
        return anchors
    return [and_(anchor, c.status == each.value) for anchor in anchors for each in ServiceStatus]
