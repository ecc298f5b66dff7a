"""Reads of the community's rules: every version adopted, and the one in force."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import select

from projections.policies import policy_versions
from projections.queries.base import ReaderBase
from timebank.policies import Rules


@dataclass(frozen=True)
class PolicyRecord:
    version: int
    effective_on: date
    rules: Rules
    adopted_by: UUID
    adopted_at: datetime
    reason: str


class PolicyReads(ReaderBase):
    """The rules are public to every member: they decide everyone's minutes."""

    def policy_versions(self) -> list[PolicyRecord]:
        """Every version adopted, oldest first."""
        v = policy_versions.c
        with self._read() as conn:
            rows = conn.execute(select(policy_versions).order_by(v.version)).all()
        return [
            PolicyRecord(
                row.version,
                row.effective_on,
                Rules.of(json.loads(row.rules)),
                row.adopted_by,
                row.adopted_at,
                row.reason,
            )
            for row in rows
        ]
