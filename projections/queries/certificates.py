"""Reads of certificates: a member's list, one certificate with the logs it covers, the
public verification of a code, and the logs a new certificate would cover.

A certificate is valid, superseded (a log it covers was reversed after it was issued: the
reversal's instant is given), or revoked (with its day and reason); revoked wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Row, select

from projections.certificates import certificate_logs, certificates
from projections.queries.base import ReaderBase
from projections.service_logs import service_logs
from projections.teams import teams
from projections.visibility import Viewer, may_read_member, require_member
from timebank.certificates import normalised_code
from timebank.errors import NotFoundError, PermissionDeniedError

VALID, SUPERSEDED, REVOKED = "valid", "superseded", "revoked"


@dataclass(frozen=True)
class CoveredLogRecord:
    log_id: UUID
    service_date: date
    minutes: int
    team_id: UUID
    team_name: str
    activity: str
    status: str  # the log's status now: "reversed" once taken back


@dataclass(frozen=True)
class CertificateRecord:
    id: UUID
    number: str
    code: str
    organisation: str
    volunteer_id: UUID
    volunteer_name: str
    period_from: date
    period_until: date
    team_id: UUID | None
    team_name: str | None
    community: str | None
    total_minutes: int
    issued_by: UUID
    issued_by_name: str
    issued_on: date
    status: str
    superseded_at: datetime | None
    revoked_on: date | None
    revoke_reason: str | None
    logs: tuple[CoveredLogRecord, ...]


@dataclass(frozen=True)
class Verification:
    """What a certificate states and what became of it: nothing else about anyone."""

    status: str
    number: str
    organisation: str
    volunteer_name: str
    period_from: date
    period_until: date
    total_minutes: int
    issued_on: date
    superseded_at: datetime | None
    revoked_on: date | None
    revoke_reason: str | None


class CertificateReads(ReaderBase):
    """Reads of certificates."""

    def certificates_of(self, viewer: Viewer, member_id: UUID) -> list[CertificateRecord]:
        """A member's certificates, newest first; read by whoever reads their statement."""
        with self._read() as conn:
            require_member(conn, viewer, member_id, self.today())
            if not self._member_exists(conn, member_id):
                raise NotFoundError("member", member_id)
            rows = conn.execute(
                select(certificates)
                .where(certificates.c.volunteer_id == member_id)
                .order_by(certificates.c.position.desc())
            ).all()
            return self._certificates(conn, rows)

    def certificate(self, viewer: Viewer, certificate_id: UUID) -> CertificateRecord:
        """One certificate: for whoever reads the volunteer's statement, and its issuer."""
        with self._read() as conn:
            row = conn.execute(
                select(certificates).where(certificates.c.certificate_id == certificate_id)
            ).first()
            if row is None:
                raise NotFoundError("certificate", certificate_id)
            if viewer.id != row.issued_by and not may_read_member(
                conn, viewer, row.volunteer_id, self.today()
            ):
                raise PermissionDeniedError(
                    viewer.id, f"read certificate {row.number}", "it does not concern them"
                )
            [record] = self._certificates(conn, [row])
        return record

    def certificate_by_number(self, viewer: Viewer, number: str) -> CertificateRecord:
        with self._read() as conn:
            found = conn.execute(
                select(certificates.c.certificate_id).where(
                    certificates.c.number == number.strip().upper()
                )
            ).scalar()
        if found is None:
            raise NotFoundError("certificate", number)
        return self.certificate(viewer, found)

    def verify_certificate(self, code: str) -> Verification:
        """Public: what the certificate of this code states, and whether it still holds.
        An unknown code is NotFoundError."""
        found = self.verification(code)
        if found is None:
            raise NotFoundError("certificate", code)
        return found

    def verification(self, code: str) -> Verification | None:
        """`verify_certificate`, with None for an unknown code."""
        with self._read() as conn:
            row = conn.execute(
                select(certificates).where(certificates.c.code == normalised_code(code))
            ).first()
            if row is None:
                return None
            superseded = self._superseded(conn, [row.certificate_id])
        status, when = _status(row, superseded.get(row.certificate_id))
        return Verification(
            status=status,
            number=row.number,
            organisation=row.organisation,
            volunteer_name=self._open(row.volunteer_name),
            period_from=row.period_from,
            period_until=row.period_until,
            total_minutes=row.total_minutes,
            issued_on=row.issued_on,
            superseded_at=when,
            revoked_on=row.revoked_on,
            revoke_reason=self._open_optional(row.revoke_reason),
        )

    def certifiable_logs(
        self,
        volunteer_id: UUID,
        period_from: date,
        period_until: date,
        *,
        team_id: UUID | None = None,
        community: str | None = None,
    ) -> list[UUID]:
        """The volunteer's approved logs served in the period (of the team or community):
        what a certificate of it would cover (the ledger checks each again)."""
        c = service_logs.c
        query = select(c.log_id).where(
            c.volunteer_id == volunteer_id,
            c.status == "approved",
            c.service_date >= period_from,
            c.service_date <= period_until,
        )
        if team_id is not None:
            query = query.where(c.team_id == team_id)
        if community is not None:
            query = query.join(teams, teams.c.team_id == c.team_id).where(
                teams.c.community == community
            )
        with self._read() as conn:
            return list(conn.execute(query.order_by(c.service_date, c.log_id)).scalars())

    def _superseded(self, conn: Connection, ids: Sequence[UUID]) -> dict[UUID, datetime]:
        """When the first covered log of each certificate was reversed, for those with one."""
        if not ids:
            return {}
        covered, logs = certificate_logs.c, service_logs.c
        query = (
            select(covered.certificate_id, logs.reviewed_at)
            .join(service_logs, logs.log_id == covered.log_id)
            .where(covered.certificate_id.in_(list(ids)), logs.status == "reversed")
        )
        found: dict[UUID, datetime] = {}
        for certificate_id, reversed_at in conn.execute(query):
            earlier = found.get(certificate_id)
            found[certificate_id] = reversed_at if earlier is None else min(earlier, reversed_at)
        return found

    def _certificates(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[CertificateRecord]:
        ids = [row.certificate_id for row in rows]
        superseded = self._superseded(conn, ids)
        covered: dict[UUID, list[Row[Any]]] = {}
        if ids:
            c, logs = certificate_logs.c, service_logs.c
            query = (
                select(c.certificate_id, c.log_id, c.service_date, c.minutes, c.team_id)
                .add_columns(c.activity, logs.status)
                .join(service_logs, logs.log_id == c.log_id)
                .where(c.certificate_id.in_(ids))
                .order_by(c.service_date, c.log_id)
            )
            for found in conn.execute(query):
                covered.setdefault(found.certificate_id, []).append(found)
        names = self._names(conn, (row.issued_by for row in rows))
        team_names = self._team_names(
            conn, (log.team_id for logs in covered.values() for log in logs)
        )
        records = []
        for row in rows:
            status, when = _status(row, superseded.get(row.certificate_id))
            records.append(
                CertificateRecord(
                    id=row.certificate_id,
                    number=row.number,
                    code=row.code,
                    organisation=row.organisation,
                    volunteer_id=row.volunteer_id,
                    volunteer_name=self._open(row.volunteer_name),
                    period_from=row.period_from,
                    period_until=row.period_until,
                    team_id=row.team_id,
                    team_name=row.team_name,
                    community=row.community,
                    total_minutes=row.total_minutes,
                    issued_by=row.issued_by,
                    issued_by_name=names.get(row.issued_by, ""),
                    issued_on=row.issued_on,
                    status=status,
                    superseded_at=when,
                    revoked_on=row.revoked_on,
                    revoke_reason=self._open_optional(row.revoke_reason),
                    logs=tuple(
                        CoveredLogRecord(
                            log_id=log.log_id,
                            service_date=log.service_date,
                            minutes=log.minutes,
                            team_id=log.team_id,
                            team_name=team_names.get(log.team_id, ""),
                            activity=self._open(log.activity),
                            status=log.status,
                        )
                        for log in covered.get(row.certificate_id, [])
                    ),
                )
            )
        return records


def _status(row: Row[Any], superseded_at: datetime | None) -> tuple[str, datetime | None]:
    if row.revoked_on is not None:
        return REVOKED, superseded_at
    if superseded_at is not None:
        return SUPERSEDED, superseded_at
    return VALID, None
