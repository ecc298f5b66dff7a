"""Reads of service logs, redemptions, transfers and credentials' records."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Row, select, tuple_

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
            if served_from is not None:
                query = query.where(c.service_date >= served_from)
            if served_until is not None:
                query = query.where(c.service_date <= served_until)
            if after is not None:
                start = conn.execute(
                    select(c.recorded_at).where(c.log_id == after, visible)
                ).scalar()
                if start is None:
                    raise CursorError()
                query = query.where(tuple_(c.recorded_at, c.log_id) > tuple_(start, after))
            rows = conn.execute(query.order_by(c.recorded_at, c.log_id).limit(limit + 1)).all()
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
