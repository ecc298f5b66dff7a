"""Every version of the community's rules, as adopted: for the rules page, and for reads
that depend on the rules of a day (the star ladder)."""

from __future__ import annotations

import json
from typing import ClassVar

from sqlalchemy import Column, Date, Integer, Table, Text

from projections.base import ID, METADATA, Batch, Instant
from timebank.policies import Policies

policy_versions = Table(
    "view_policy_versions",
    METADATA,
    Column("version", Integer, primary_key=True),
    Column("effective_on", Date, nullable=False),
    Column("rules", Text, nullable=False),  # JSON, as the event stores them
    Column("adopted_by", ID, nullable=False),
    Column("adopted_at", Instant, nullable=False),
    Column("reason", Text, nullable=False),
)


class PoliciesProjection:
    name: ClassVar[str] = "policies"
    tables: ClassVar[tuple[Table, ...]] = (policy_versions,)

    def fold(self, batch: Batch) -> None:
        batch.insert(
            policy_versions,
            [
                {
                    "version": event.version,
                    "effective_on": event.effective_on,
                    "rules": json.dumps(event.rules, sort_keys=True, ensure_ascii=False),
                    "adopted_by": event.actor_id,
                    "adopted_at": event.timestamp,
                    "reason": event.reason,
                }
                for logged in batch.of(Policies.Adopted)
                if isinstance(event := logged.event, Policies.Adopted)
            ],
        )
