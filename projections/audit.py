"""The audit trail: every stored event in log order, each hash chained to the one before.

The hash is taken over a canonical plaintext form of the event (position, topic, aggregate
id and version, and its decoded data as sorted JSON), not over the stored bytes, so the
chain survives a change of compression or encryption key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import AggregateEvent
from eventsourcing.persistence import Mapper, Notification

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    position: int
    topic: str
    aggregate_id: str
    aggregate_version: int
    actor_id: str | None
    recorded_at: str | None
    data: dict[str, Any]
    hash: str

    @property
    def type(self) -> str:
        """The event's type: its topic without the `timebank:` prefix."""
        return self.topic.partition(":")[2] or self.topic


def decode_data(mapper: Mapper[UUID], notification: Notification) -> dict[str, Any]:
    """The event's data as plain JSON values; raises if the stored state cannot be read."""
    state = notification.state
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    decoded = mapper.transcoder.decode(state)
    if not isinstance(decoded, dict):
        raise TypeError(f"event state is a {type(decoded).__name__}, not an object")
    return {key: _jsonable(value) for key, value in decoded.items()}


def event_data(
    mapper: Mapper[UUID], notification: Notification, event: AggregateEvent
) -> dict[str, Any]:
    """The same data as `decode_data`, taken from the already decoded event when no
    upcasting can have changed it (saves reading the stored state twice)."""
    if getattr(type(event), "class_version", 1) != 1:
        return decode_data(mapper, notification)
    return {
        key: _jsonable(value) for key, value in vars(event).items() if key not in _ADDED_BY_MAPPER
    }


_ADDED_BY_MAPPER = frozenset({"originator_id", "originator_version"})


def chain(previous_hash: str, notification: Notification, data: dict[str, Any]) -> str:
    """The next link: SHA-256 of the previous hash and the event's canonical form."""
    return chain_of(
        previous_hash,
        position=notification.id,
        topic=notification.topic,
        aggregate_id=str(notification.originator_id),
        aggregate_version=notification.originator_version,
        data=data,
    )


def chain_of(
    previous_hash: str,
    *,
    position: int,
    topic: str,
    aggregate_id: str,
    aggregate_version: int,
    data: dict[str, Any],
) -> str:
    """The same link from plain values, as an exported line holds them."""
    canonical = json.dumps(
        {
            "position": position,
            "topic": topic,
            "aggregate_id": aggregate_id,
            "aggregate_version": aggregate_version,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{previous_hash}\n{canonical}".encode()).hexdigest()


def entry(previous_hash: str, notification: Notification, data: dict[str, Any]) -> AuditEntry:
    actor = data.get("actor_id")
    recorded = data.get("timestamp")
    return AuditEntry(
        position=notification.id,
        topic=notification.topic,
        aggregate_id=str(notification.originator_id),
        aggregate_version=notification.originator_version,
        actor_id=actor if isinstance(actor, str) else None,
        recorded_at=recorded if isinstance(recorded, str) else None,
        data=data,
        hash=chain(previous_hash, notification, data),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
