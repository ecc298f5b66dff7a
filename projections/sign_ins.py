"""Refused sign-ins, for admins: a bounded table beside the views, shared by every process.

Not a view of the events (a refused sign-in changes nothing in the ledger, and a rebuild
or verify leaves the table alone). Only the newest `KEPT` rows are kept, so a flood of
wrong tokens cannot fill the database. No token, digest or part of one is written: the
time, the client's address, why, and the credential when the token was a real one
(revoked, or past its lifetime).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text, delete, func, select

from projections.base import ID, METADATA
from projections.store import ViewStore

KEPT = 10_000
"""The most refused sign-ins kept: the oldest go first."""

sign_in_failures = Table(
    "timebank_sign_in_failures",
    METADATA,
    Column("id", Integer().with_variant(BigInteger, "postgresql"), primary_key=True),
    Column("at", Text, nullable=False),
    Column("address", String(64), nullable=False),
    Column("reason", String(20), nullable=False),
    Column("credential_id", ID),
)


@dataclass(frozen=True)
class SignInFailure:
    at: datetime
    address: str
    reason: str  # unknown (unknown or revoked), expired, limited (went over the limit)
    credential_id: UUID | None


def record_failure(store: ViewStore, failure: SignInFailure) -> None:
    """Keep one refused sign-in, and let the oldest go beyond `KEPT`."""
    with store.engine.begin() as conn:
        conn.execute(
            sign_in_failures.insert().values(
                at=failure.at.isoformat(),
                address=failure.address[:64],
                reason=failure.reason,
                credential_id=failure.credential_id,
            )
        )
        newest = conn.execute(select(func.max(sign_in_failures.c.id))).scalar() or 0
        if newest > KEPT and newest % 100 == 0:  # trimmed now and then, not every time
            conn.execute(delete(sign_in_failures).where(sign_in_failures.c.id <= newest - KEPT))


def recent_failures(store: ViewStore, *, limit: int) -> list[SignInFailure]:
    """The newest refused sign-ins first."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(sign_in_failures).order_by(sign_in_failures.c.id.desc()).limit(limit)
        ).all()
    return [
        SignInFailure(datetime.fromisoformat(row.at), row.address, row.reason, row.credential_id)
        for row in rows
    ]
