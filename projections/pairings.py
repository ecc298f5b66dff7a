"""Care pairings (结对): who visits whom, since when, and until when."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Column, Date, Index, Table, Text

from projections.base import ID, METADATA, SEALED, Batch, Entities, Instant
from timebank.pairings import Pairing

pairings = Table(
    "view_pairings",
    METADATA,
    Column("pairing_id", ID, primary_key=True),
    Column("team_id", ID, nullable=False),
    Column("beneficiary_id", ID, nullable=False),
    Column("volunteer_id", ID),  # None: the whole team visits
    Column("since", Date, nullable=False),
    Column("until", Date),
    Column("note", Text, info=SEALED),
    Column("reason", Text, info=SEALED),
    Column("formed_by", ID, nullable=False),
    Column("formed_at", Instant, nullable=False),
    Index("view_pairings_team", "team_id", "since"),
)


class PairingsProjection:
    name: ClassVar[str] = "pairings"
    tables: ClassVar[tuple[Table, ...]] = (pairings,)

    def fold(self, batch: Batch) -> None:
        seal = batch.sealer.seal
        rows = Entities(pairings, "pairing_id")
        for logged in batch.of(Pairing.Event):
            event, ident = logged.event, logged.event.originator_id
            match event:
                case Pairing.Formed():
                    rows.create(
                        {
                            "pairing_id": ident,
                            "team_id": event.team_id,
                            "beneficiary_id": event.beneficiary_id,
                            "volunteer_id": event.volunteer_id,
                            "since": event.since,
                            "until": None,
                            "note": seal(event.note),
                            "reason": None,
                            "formed_by": event.actor_id,
                            "formed_at": event.timestamp,
                        }
                    )
                case Pairing.Ended(effective_date=day, reason=reason):
                    rows.change(ident, until=day, reason=seal(reason))
        rows.flush(batch.conn)
