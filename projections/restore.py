"""Loading an export into an empty store: the same events at the same positions, so that
the restored ledger's audit chain, export and checkpoints are the exported ledger's.

An export's lines show each event as auditors see it (credential secrets left out, see
`projections.redaction`), which is not enough to store it again. An encrypted export
(`projections.transport`) also carries, after its checkpoint, each event's state as the
library's transcoder wrote it (`{"stored": {"position", "state"}}`): restore stores that
state again through the library's recorder, compressed, encrypted and sealed with the
target ledger's own keys, and first checks, event by event, that it decodes to exactly
the data its verified line shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, Notification, StoredEvent

from projections import audit
from projections.export import line_of
from projections.lines import LineError, Oversized, parse_line
from projections.log import notifications
from timebank.application import TimeBank
from timebank.sealing import SealingMapper, opened_state

BATCH = 500
"""Events stored in one transaction."""


class RestoreError(Exception):
    """The export cannot be restored into this store; says why, in one line."""


def plain_state(mapper: Mapper[UUID], notification: Notification) -> bytes:
    """The event's state as the transcoder wrote it: unsealed, decrypted, decompressed."""
    state = opened_state(mapper, notification)
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    return state


def write_stored_states(app: TimeBank, out: Any, *, last_position: int) -> None:
    """After an export's checkpoint (encrypted exports only): every exported event's state,
    so that `restore` can store it again."""
    for notification in notifications(app):
        if notification.id > last_position:
            return
        state = plain_state(app.mapper, notification).decode("utf-8")
        out.write(line_of({"stored": {"position": notification.id, "state": state}}))


@dataclass
class Parts:
    """An export split into the lines `verify_export` checks and the stored states."""

    checked: list[bytes | str | Oversized] = field(default_factory=list)
    states: dict[int, str] = field(default_factory=dict)


def split_export(lines: Iterable[bytes | str | Oversized]) -> Parts:
    """The event and checkpoint lines, then the stored states after the checkpoint; raises
    `RestoreError` for a line after the checkpoint that is not a stored state."""
    parts = Parts()
    parts.checked.extend(checked_part(lines, parts.states))
    return parts


def checked_part(
    lines: Iterable[bytes | str | Oversized], states: dict[int, str] | None = None
) -> Iterator[bytes | str | Oversized]:
    """The lines `verify_export` checks (up to the checkpoint line), one at a time; the
    stored states after them are checked to be such, and kept in `states` when given.
    Raises `RestoreError` for a line after the checkpoint that is not a stored state."""
    seen: set[int] = set()
    number = 0
    stream = iter(lines)
    for number, line in enumerate(stream, start=1):  # noqa: B007 -- counted on below
        yield line
        if _starts_checkpoint(line):
            break
    for count, line in enumerate(stream, start=number + 1):
        try:
            record = parse_line(line)
            stored = record["stored"]
            position, state = stored["position"], stored["state"]
            if set(record) != {"stored"} or set(stored) != {"position", "state"}:
                raise KeyError("fields")
            if not isinstance(position, int) or isinstance(position, bool):
                raise TypeError("position")
            if not isinstance(state, str) or position in seen:
                raise TypeError("state")
        except (LineError, KeyError, TypeError) as error:
            raise RestoreError(f"line {count}: not a stored state ({error})") from None
        seen.add(position)
        if states is not None:
            states[position] = state


def checked_lines(parts: Parts) -> Iterator[bytes | str | Oversized]:
    yield from parts.checked


def _starts_checkpoint(line: bytes | str | Oversized) -> bool:
    prefix = '{"checkpoint":'
    if isinstance(line, bytes):
        return line.startswith(prefix.encode())
    return isinstance(line, str) and line.startswith(prefix)


def restore(app: TimeBank, parts: Parts) -> int:
    """Store every exported event again, at its position; the number stored. The export
    must have been verified (`verify_export`) first; the store must be empty."""
    if app.recorder.max_notification_id():
        raise RestoreError("the store is not empty: restore only into a new, empty store")
    records = [parse_line(line) for line in parts.checked[:-1]]
    if not records:
        raise RestoreError("the export holds no events")
    missing = [r["position"] for r in records if r["position"] not in parts.states]
    if missing:
        raise RestoreError(
            f"the export does not carry the stored state of event {missing[0]} (nor of "
            f"{len(missing) - 1} more): a plain export leaves credential secrets out and "
            "cannot be restored; restore from `timebank export --encrypt`"
        )
    extra = sorted(set(parts.states) - {r["position"] for r in records})
    if extra:
        raise RestoreError(f"a stored state names position {extra[0]}, which holds no event")
    stored = [
        _stored_again(app.mapper, record, parts.states[record["position"]]) for record in records
    ]
    runs = _runs([r["position"] for r in records])
    postgres = _is_postgres(app)
    if not postgres and (len(runs) > 1 or runs[0][0] != 1):
        raise RestoreError(
            "the export's positions have gaps (as PostgreSQL leaves): restore it into a "
            "PostgreSQL store, which keeps them"
        )
    done = 0
    for start, count in runs:
        if postgres:
            _next_position(app, start)
        for offset in range(0, count, BATCH):
            batch = stored[done : done + min(BATCH, count - offset)]
            ids = app.recorder.insert_events(batch)
            expected = list(range(start + offset, start + offset + len(batch)))
            if ids is not None and list(ids) != expected:
                raise RestoreError(
                    f"the store gave positions {ids[0]}..{ids[-1]}, not {expected[0]}.."
                    f"{expected[-1]}: another process writes to it; empty it and restore again"
                )
            done += len(batch)
    return done


def _stored_again(mapper: Mapper[UUID], record: dict[str, Any], text: str) -> StoredEvent:
    """The event as the target store keeps it, checked against its verified line."""
    position = record["position"]
    state = text.encode("utf-8")
    if mapper.compressor:
        state = mapper.compressor.compress(state)
    if mapper.cipher:
        state = mapper.cipher.encrypt(state)
    stored = StoredEvent(
        originator_id=UUID(record["aggregate_id"]),
        originator_version=record["aggregate_version"],
        topic=record["topic"],
        state=state,
    )
    if isinstance(mapper, SealingMapper):
        stored = mapper.sealed(stored)
    notification = Notification(
        id=position,
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=stored.state,
    )
    try:
        mapper.to_domain_event(notification)
        data = audit.decode_data(mapper, notification)
    except Exception as error:  # whatever a crafted state makes the decoder raise
        raise RestoreError(
            f"event {position}: its stored state does not read ({type(error).__name__})"
        ) from None
    if audit.canonical_json(data) != audit.canonical_json(record["data"]):
        raise RestoreError(f"event {position}: its stored state is not the event its line shows")
    return stored


def _runs(positions: list[int]) -> list[tuple[int, int]]:
    """Consecutive positions as (first, how many)."""
    runs: list[tuple[int, int]] = []
    for position in positions:
        if runs and runs[-1][0] + runs[-1][1] == position:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((position, 1))
    return runs


def _is_postgres(app: TimeBank) -> bool:
    return (app.env.get("PERSISTENCE_MODULE") or "").endswith("postgres")


def _next_position(app: TimeBank, position: int) -> None:
    """PostgreSQL numbers events from a sequence: the next event gets `position`, so a gap
    the exported ledger had (a rolled-back insert) is kept."""
    recorder: Any = app.recorder
    datastore = recorder.datastore
    table = f'"{datastore.schema}"."{recorder.events_table_name}"'
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s, false)",
            (table, position),
        )
