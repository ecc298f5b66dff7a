"""Certificates as issued and revoked, and the logs each covers: for the volunteer's list,
the PDF and public verification.

Whether a certificate is superseded (a covered log reversed after it was issued) is not
stored here: a read joins the covered logs with their status in `view_service_logs`, so a
reversal folded later is seen by the next read, whatever order the batches came in.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Column, Date, Index, Integer, String, Table, Text

from projections.base import ID, METADATA, SEALED, Batch, Entities, Instant
from timebank.certificates import Certificate

certificates = Table(
    "view_certificates",
    METADATA,
    Column("certificate_id", ID, primary_key=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("code", String(20), nullable=False, unique=True),
    Column("organisation", Text, nullable=False),
    Column("volunteer_id", ID, nullable=False, index=True),
    Column("volunteer_name", Text, nullable=False, info=SEALED),
    Column("period_from", Date, nullable=False),
    Column("period_until", Date, nullable=False),
    Column("team_id", ID),
    Column("team_name", Text),
    Column("community", Text),
    Column("total_minutes", Integer, nullable=False),
    Column("issued_by", ID, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("issued_at", Instant, nullable=False),
    Column("position", Integer, nullable=False),  # where in the log it was issued
    Column("revoked_by", ID),
    Column("revoked_on", Date),
    Column("revoke_reason", Text, info=SEALED),
)

certificate_logs = Table(
    "view_certificate_logs",
    METADATA,
    Column("certificate_id", ID, primary_key=True),
    Column("log_id", ID, primary_key=True),
    Column("service_date", Date, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("team_id", ID, nullable=False),
    Column("activity", Text, nullable=False, info=SEALED),
    Index("view_certificate_logs_log", "log_id"),
)


class CertificatesProjection:
    name: ClassVar[str] = "certificates"
    tables: ClassVar[tuple[Table, ...]] = (certificates, certificate_logs)

    def fold(self, batch: Batch) -> None:
        rows = Entities(certificates, "certificate_id")
        covered: list[dict[str, object]] = []
        seal = batch.sealer.seal
        for logged in batch.of(Certificate.Event):
            event, ident = logged.event, logged.event.originator_id
            match event:
                case Certificate.Issued():
                    rows.create(
                        {
                            "certificate_id": ident,
                            "number": event.number,
                            "code": event.code,
                            "organisation": event.organisation,
                            "volunteer_id": event.volunteer_id,
                            "volunteer_name": seal(event.volunteer_name),
                            "period_from": event.period_from,
                            "period_until": event.period_until,
                            "team_id": event.team_id,
                            "team_name": event.team_name,
                            "community": event.community,
                            "total_minutes": event.total_minutes,
                            "issued_by": event.actor_id,
                            "issued_on": event.issued_on,
                            "issued_at": event.timestamp,
                            "position": logged.position,
                            "revoked_by": None,
                            "revoked_on": None,
                            "revoke_reason": None,
                        }
                    )
                    covered.extend(
                        {
                            "certificate_id": ident,
                            "log_id": log["log_id"],
                            "service_date": log["service_date"],
                            "minutes": log["minutes"],
                            "team_id": log["team_id"],
                            "activity": seal(log["activity"]),
                        }
                        for log in event.logs
                    )
                case Certificate.Revoked(reason=reason, revoked_on=revoked_on):
                    rows.change(
                        ident,
                        revoked_by=event.actor_id,
                        revoked_on=revoked_on,
                        revoke_reason=seal(reason),
                    )
        rows.flush(batch.conn)
        batch.insert(certificate_logs, covered)
