"""Redemptions, transfers and credentials as records a member or coordinator reads back.

A credential's record never holds its token, digest or nonce: only that it was issued,
of which kind, by whom, and whether it was revoked.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Column, Index, Integer, String, Table, Text

from projections.base import ID, METADATA, SEALED, Batch, Entities, Instant
from timebank.credentials import Credential
from timebank.redemptions import Redemption
from timebank.transfers import Transfer

redemptions = Table(
    "view_redemptions",
    METADATA,
    Column("redemption_id", ID, primary_key=True),
    Column("member_id", ID, nullable=False, index=True),
    Column("team_id", ID, nullable=False, index=True),
    Column("service", Text, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("reason", Text, info=SEALED),
    Column("requested_by", ID, nullable=False),
    Column("consent", String(12), nullable=False),
    Column("consented_by", ID),
    Column("credential_id", ID),
    Column("requested_at", Instant, nullable=False),
    Column("updated_at", Instant, nullable=False),
)

transfers = Table(
    "view_transfers",
    METADATA,
    Column("transfer_id", ID, primary_key=True),
    Column("from_member_id", ID, nullable=False, index=True),
    Column("to_member_id", ID, nullable=False, index=True),
    Column("minutes", Integer, nullable=False),
    Column("note", Text, info=SEALED),
    Column("made_by", ID, nullable=False),
    Column("consent", String(12), nullable=False),
    Column("consented_by", ID),
    Column("credential_id", ID),
    Column("made_at", Instant, nullable=False),
)

credentials = Table(
    "view_credentials",
    METADATA,
    Column("credential_id", ID, primary_key=True),
    Column("member_id", ID, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("reason", Text, info=SEALED),
    Column("issued_by", ID, nullable=False),
    Column("issued_at", Instant, nullable=False),
    Column("updated_at", Instant, nullable=False),
    Index("view_credentials_member", "member_id", "issued_at"),
)


class RecordsProjection:
    name: ClassVar[str] = "records"
    tables: ClassVar[tuple[Table, ...]] = (redemptions, transfers, credentials)

    def fold(self, batch: Batch) -> None:
        held = Entities(redemptions, "redemption_id")
        given = Entities(transfers, "transfer_id")
        issued = Entities(credentials, "credential_id")
        seal = batch.sealer.seal
        for logged in batch.of(Redemption.Event, Transfer.Event, Credential.Event):
            event, ident, at = logged.event, logged.event.originator_id, logged.event.timestamp
            match event:
                case Redemption.Requested():
                    held.create(
                        {
                            "redemption_id": ident,
                            "member_id": event.member_id,
                            "team_id": event.team_id,
                            "service": event.service,
                            "minutes": event.minutes,
                            "status": "held",
                            "reason": None,
                            "requested_by": event.actor_id,
                            "consent": event.consent,
                            "consented_by": event.consented_by,
                            "credential_id": event.credential_id,
                            "requested_at": at,
                            "updated_at": at,
                        }
                    )
                case Redemption.Fulfilled():
                    held.change(ident, status="fulfilled", updated_at=at)
                case Redemption.Cancelled(reason=reason):
                    held.change(ident, status="cancelled", reason=seal(reason), updated_at=at)
                case Transfer.Made():
                    given.create(
                        {
                            "transfer_id": ident,
                            "from_member_id": event.from_member_id,
                            "to_member_id": event.to_member_id,
                            "minutes": event.minutes,
                            "note": seal(event.note),
                            "made_by": event.actor_id,
                            "consent": event.consent,
                            "consented_by": event.consented_by,
                            "credential_id": event.credential_id,
                            "made_at": at,
                        }
                    )
                case Credential.Issued(member_id=member_id, kind=kind):
                    issued.create(
                        {
                            "credential_id": ident,
                            "member_id": member_id,
                            "kind": kind,
                            "status": "active",
                            "reason": None,
                            "issued_by": event.actor_id,
                            "issued_at": at,
                            "updated_at": at,
                        }
                    )
                case Credential.Revoked(reason=reason):
                    issued.change(ident, status="revoked", reason=seal(reason), updated_at=at)
        for rows in (held, given, issued):
            rows.flush(batch.conn)
