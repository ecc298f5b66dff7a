"""The audit trail: every stored event in log order, each hash chained to the one before.

The hash is taken over a canonical plaintext form of the event (position, topic, aggregate
id and version, and its decoded data as sorted JSON), not over the stored bytes, so the
chain survives a change of compression or encryption key. Credential secrets are not in
that form: a hash of them stands in their place (see `projections.redaction`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring as _quoted  # as dumps quotes text
from typing import Any, ClassVar, NamedTuple
from uuid import UUID

import orjson
from eventsourcing.domain import AggregateEvent
from eventsourcing.persistence import Mapper, Notification
from sqlalchemy import BigInteger, Column, String, Table, Text, select

from projections.base import METADATA, SEALED, Batch
from projections.redaction import redacted
from projections.text import id_text, instant_text
from timebank.sealing import opened_state
from timebank.upcasting import STORED_CLASS_VERSION

GENESIS_HASH = "0" * 64


class AuditEntry(NamedTuple):
    """One link of the trail, as stored. A named tuple: verify reads the whole trail back,
    and a tuple is made several times faster than a frozen dataclass."""

    position: int
    topic: str
    aggregate_id: str
    aggregate_version: int
    actor_id: str | None
    recorded_at: str | None
    data_json: str  # the event's data as canonical JSON: what the chain hashes and stores
    hash: str

    @property
    def data(self) -> dict[str, Any]:
        """The event's data as plain JSON values (loaded at each call)."""
        loaded: dict[str, Any] = orjson.loads(self.data_json)
        return loaded

    @property
    def type(self) -> str:
        """The event's type: its topic without the `timebank:` prefix."""
        return self.topic.partition(":")[2] or self.topic


def decode_data(mapper: Mapper[UUID], notification: Notification) -> dict[str, Any]:
    """The event's data as plain JSON values; raises if the stored state cannot be read
    (`timebank.sealing.StoredEventError` when its seal does not hold)."""
    state = opened_state(mapper, notification)
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    decoded = mapper.transcoder.decode(state)
    if not isinstance(decoded, dict):
        raise TypeError(f"event state is a {type(decoded).__name__}, not an object")
    data = {key: _jsonable(value) for key, value in decoded.items()}
    return redacted(notification.topic, data)  # no credential secrets in the trail


def event_data(
    mapper: Mapper[UUID], notification: Notification, event: AggregateEvent
) -> dict[str, Any]:
    """The same data as `decode_data`, taken from the already decoded event unless an
    upcaster changed it (see `timebank.upcasting`): saves reading the stored state twice."""
    state = vars(event)
    if STORED_CLASS_VERSION in state:
        return decode_data(mapper, notification)
    data = {key: _jsonable(value) for key, value in state.items() if key not in _ADDED_BY_MAPPER}
    class_version = getattr(type(event), "class_version", 1)
    if class_version != 1:
        data["class_version"] = class_version  # stored with the state; the mapper takes it
    return redacted(notification.topic, data)


_ADDED_BY_MAPPER = frozenset({"originator_id", "originator_version"})


def event_json(mapper: Mapper[UUID], notification: Notification, event: AggregateEvent) -> str:
    """`canonical_json(event_data(...))`, written straight from the decoded event: the
    runner and verify do this for every event.

    orjson writes exactly what `canonical_json` writes for the values events hold (text,
    integers, ids, instants, days, lists of them; see tests/projections/test_audit_chain.py),
    several times faster. It writes floats its own way, so an event with a float, and
    anything orjson refuses (a huge integer, a key that is not text), takes the slow path.
    """
    return _event_json(mapper, notification, event, vars(event).copy())


def _event_json(
    mapper: Mapper[UUID], notification: Notification, event: AggregateEvent, data: dict[str, Any]
) -> str:
    """`event_json` of a copy of the event's state, some of whose values the caller has
    already replaced by their `_jsonable` form."""
    if STORED_CLASS_VERSION in data:
        return canonical_json(decode_data(mapper, notification))
    for key in _ADDED_BY_MAPPER:
        data.pop(key, None)
    class_version = getattr(type(event), "class_version", 1)
    if class_version != 1:
        data["class_version"] = class_version
    data = redacted(notification.topic, data)
    if float not in map(type, data.values()):
        try:
            return orjson.dumps(data, default=_orjson_default, option=_ORJSON_CANONICAL).decode()
        except TypeError:  # orjson.JSONEncodeError is one
            pass
    return canonical_json(event_data(mapper, notification, event))


# Instants and days are written by `isoformat`, as `_jsonable` does: orjson rounds a time
# zone's offset to the minute, and the offsets of some historical zones have seconds.
_ORJSON_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def _orjson_default(value: Any) -> Any:
    """What `_jsonable` makes of a value orjson does not write by itself."""
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def chain(previous_hash: str, notification: Notification, data: dict[str, Any]) -> str:
    """The next link: SHA-256 of the previous hash and the event's canonical form."""
    return chain_json(previous_hash, notification, canonical_json(data))


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
    return link_of(
        previous_hash,
        position=position,
        topic=topic,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        data_json=canonical_json(data),
    )


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, text as it is: the form the chain hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_of(
    previous_hash: str,
    *,
    position: int,
    topic: str,
    aggregate_id: str,
    aggregate_version: int,
    data_json: str,
) -> str:
    """SHA-256 of the previous hash and the canonical JSON of the object {position, topic,
    aggregate_id, aggregate_version, data}, written out with its keys in sorted order so
    that the data, already canonical, is not encoded again."""
    canonical = (
        f'{{"aggregate_id":{_quoted(aggregate_id)},'
        f'"aggregate_version":{int(aggregate_version)},'
        f'"data":{data_json},'
        f'"position":{int(position)},'
        f'"topic":{_quoted(topic)}}}'
    )
    return hashlib.sha256(f"{previous_hash}\n{canonical}".encode()).hexdigest()


def chain_json(
    previous_hash: str, notification: Notification, data_json: str, *, aggregate_id: str = ""
) -> str:
    """`chain` of data already written as canonical JSON (and of the aggregate id already
    written as text, when the caller has it)."""
    return link_of(
        previous_hash,
        position=notification.id,
        topic=notification.topic,
        aggregate_id=aggregate_id or id_text(notification.originator_id),
        aggregate_version=notification.originator_version,
        data_json=data_json,
    )


def entry(previous_hash: str, notification: Notification, data: dict[str, Any]) -> AuditEntry:
    """The entry of an event whose data was decoded as plain JSON values."""
    return AuditEntry(*_row_of_data(previous_hash, notification, data))


def entry_of_event(
    previous_hash: str, mapper: Mapper[UUID], notification: Notification, event: AggregateEvent
) -> AuditEntry:
    """The entry of a decoded event: the same as `entry` with the event's `decode_data`."""
    return AuditEntry(*row_of_event(previous_hash, mapper, notification, event))


AuditRow = tuple[int, str, str, int, str | None, str | None, str, str]
"""An entry as the trail stores it: `AuditEntry`'s fields in order, in a plain tuple. A
runner makes one for every event it folds, and a plain tuple costs next to nothing to make."""


def row_of_event(
    previous_hash: str, mapper: Mapper[UUID], notification: Notification, event: AggregateEvent
) -> AuditRow:
    """`entry_of_event` as a row."""
    state = vars(event)
    if STORED_CLASS_VERSION in state:  # upcast: the columns too come from what was stored
        return _row_of_data(previous_hash, notification, decode_data(mapper, notification))
    data = state.copy()
    # The columns' values are the data's own: an instant is written out once, not twice.
    actor, recorded = _jsonable(data.get("actor_id")), _jsonable(data.get("timestamp"))
    if "actor_id" in data:
        data["actor_id"] = actor
    if "timestamp" in data:
        data["timestamp"] = recorded
    return _row(
        previous_hash, notification, _event_json(mapper, notification, event, data), actor, recorded
    )


def _row_of_data(previous_hash: str, notification: Notification, data: dict[str, Any]) -> AuditRow:
    actor, recorded = data.get("actor_id"), data.get("timestamp")
    return _row(previous_hash, notification, canonical_json(data), actor, recorded)


def _row(
    previous_hash: str, notification: Notification, data_json: str, actor: Any, recorded: Any
) -> AuditRow:
    aggregate_id = id_text(notification.originator_id)
    return (
        notification.id,
        notification.topic,
        aggregate_id,
        notification.originator_version,
        actor if isinstance(actor, str) else None,
        recorded if isinstance(recorded, str) else None,
        data_json,
        chain_json(previous_hash, notification, data_json, aggregate_id=aggregate_id),
    )


_PLAIN = frozenset({str, int, bool, type(None)})


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # most of an event's values: checked first, as it runs a lot
        return value
    if isinstance(value, UUID):
        return id_text(value)
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


audit_trail = Table(
    "view_audit_trail",
    METADATA,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("topic", Text, nullable=False),
    Column("aggregate_id", Text, nullable=False),
    Column("aggregate_version", BigInteger, nullable=False),
    Column("actor_id", Text),
    Column("recorded_at", Text),
    Column(
        "data", Text, nullable=False, info=SEALED
    ),  # the canonical JSON the chain hashes; sealed
    Column("hash", String(64), nullable=False),
)


class AuditProjection:
    """Every stored event, chained to the one before: the evidence verify compares the
    events with. It is not folded again with the other views (see `ViewStore.rebuild`)."""

    name: ClassVar[str] = "audit"
    tables: ClassVar[tuple[Table, ...]] = (audit_trail,)

    def fold(self, batch: Batch) -> None:
        if not batch.events:
            return
        head = batch.conn.execute(
            select(audit_trail.c.hash).order_by(audit_trail.c.position.desc()).limit(1)
        ).scalar()
        previous = head or GENESIS_HASH
        rows: list[tuple[Any, ...]] = []
        seal = batch.sealer.seal
        for logged in batch.events:
            row = row_of_event(previous, batch.mapper, logged.notification, logged.event)
            previous = row[-1]
            rows.append((*row[:6], seal(row[6]), row[7]))  # the table's columns, in order
        batch.insert_tuples(audit_trail, rows)


def entry_of_row(row: Any, opened: str) -> AuditEntry:
    """An audit entry from its stored row, its data opened (unsealed)."""
    return AuditEntry(
        row.position,
        row.topic,
        row.aggregate_id,
        row.aggregate_version,
        row.actor_id,
        row.recorded_at,
        opened,
        row.hash,
    )
