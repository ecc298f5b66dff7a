"""Service logs as listed and reviewed: who served, when, how long, what, and what became of it.

Activities, beneficiaries, notes and reasons are personal text, sealed when the ledger
encrypts; `session` groups a log with the others of the same session (场次) for the
rankings: the activity a coordinator recorded it in, or for a log made on its own, the
others of the same activity text on the same day (the text itself, or a keyed digest of it
when sealed).
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Boolean, Column, Date, Index, Integer, String, Table, Text

from projections.base import ID, METADATA, SEALED, Batch, Entities, Instant, Sealer
from timebank.service_logs import ServiceLog

service_logs = Table(
    "view_service_logs",
    METADATA,
    Column("log_id", ID, primary_key=True),
    Column("volunteer_id", ID, nullable=False),
    Column("team_id", ID, nullable=False),
    Column("service_date", Date, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("activity", Text, nullable=False, info=SEALED),
    Column("session", Text, nullable=False),
    Column("beneficiary", Text, info=SEALED),
    Column("note", Text, info=SEALED),
    Column("logged_by", ID, nullable=False),
    Column("recorded_at", Instant, nullable=False),
    Column("source", Text),
    Column("status", String(10), nullable=False),
    Column("approved_minutes", Integer),
    Column("reason", Text, info=SEALED),
    Column("reviewed_by", ID),
    Column("reviewed_at", Instant),
    Column("certified_by_recorder", Boolean),
    Column("activity_id", ID),  # the activity (场次) it was part of, if any
    Column("pairing_id", ID, index=True),  # the care pairing (结对) it was a visit of
    # Lists page by (recorded_at, log_id): the order logs were recorded in. A reader's list
    # is a union of ranges of these indexes, one per party and status (see
    # projections/queries/logs.py): a coordinator who imported thousands of approved logs
    # finds the few pending ones they logged without reading the others.
    Index("view_service_logs_recorded", "recorded_at", "log_id"),
    Index("view_service_logs_team", "team_id", "status", "recorded_at", "log_id"),
    Index("view_service_logs_volunteer", "volunteer_id", "status", "recorded_at", "log_id"),
    Index("view_service_logs_logged_by", "logged_by", "status", "recorded_at", "log_id"),
    # A list by status (a coordinator's pending queue): the few pending logs in order,
    # rather than every log in order until enough are found.
    Index("view_service_logs_status", "status", "recorded_at", "log_id"),
)


class ServiceLogsProjection:
    name: ClassVar[str] = "service_logs"
    tables: ClassVar[tuple[Table, ...]] = (service_logs,)

    def fold(self, batch: Batch) -> None:
        rows = Entities(service_logs, "log_id")
        seal = batch.sealer.seal
        for logged in batch.of(ServiceLog.Event):
            event, ident = logged.event, logged.event.originator_id
            match event:
                case ServiceLog.Logged():
                    rows.create(
                        {
                            "log_id": ident,
                            "volunteer_id": event.volunteer_id,
                            "team_id": event.team_id,
                            "service_date": event.service_date,
                            "minutes": event.minutes,
                            "activity": seal(event.activity),
                            "session": session_of(event, batch.sealer),
                            "beneficiary": seal(event.beneficiary),
                            "note": seal(event.note),
                            "logged_by": event.actor_id,
                            "recorded_at": event.timestamp,
                            "source": event.source,
                            "status": "pending",
                            "approved_minutes": None,
                            "reason": None,
                            "reviewed_by": None,
                            "reviewed_at": None,
                            "certified_by_recorder": None,
                            "activity_id": event.activity_id,
                            "pairing_id": event.pairing_id,
                        }
                    )
                case ServiceLog.Approved(
                    minutes=minutes, reason=reason, certified_by_recorder=certified
                ):
                    rows.change(
                        ident,
                        status="approved",
                        approved_minutes=minutes,
                        reason=seal(reason),
                        reviewed_by=event.actor_id,
                        reviewed_at=event.timestamp,
                        certified_by_recorder=certified,
                    )
                case ServiceLog.Rejected(reason=reason) | ServiceLog.Reversed(reason=reason):
                    status = "rejected" if isinstance(event, ServiceLog.Rejected) else "reversed"
                    rows.change(
                        ident,
                        status=status,
                        reason=seal(reason),
                        reviewed_by=event.actor_id,
                        reviewed_at=event.timestamp,
                    )
        batch.created[service_logs.name] = rows.created  # for the rankings, folded next
        rows.flush(batch.conn)


def session_of(event: ServiceLog.Logged, sealer: Sealer) -> str:
    """The session a log counts in: its recorded activity, or its day's activity text."""
    if event.activity_id is not None:
        return f"activity:{event.activity_id}"
    return sealer.digest(event.activity)
