"""The ledger as JSON Lines for outside auditors, and the check they run on the file alone.

An export holds one stored event a line, in log order (position, type, topic, aggregate
id and version, actor, recorded time, data, and the hash chained to the line before),
closed by a checkpoint line (count, last position, head hash, account totals). The check
needs nothing but the file and this module: no database, no server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, TextIO
from uuid import UUID
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from projections import audit
from projections.checkpoints import TOTALS_FIELDS, Checkpoint, Watch
from projections.lines import LineError, Oversized, parse_line
from projections.log import notifications
from projections.queries import audit_entries
from projections.semantics import Meaning
from projections.store import ViewStore
from timebank.application import TimeBank

DEFAULT_TIMEZONE = ZoneInfo("Asia/Shanghai")
"""Where the ledger decides "today" unless TIMEBANK_TIMEZONE says otherwise."""

EVENT_FIELDS = (
    "position",
    "type",
    "topic",
    "aggregate_id",
    "aggregate_version",
    "actor_id",
    "recorded_at",
    "data",
    "hash",
)


class ExportError(Exception):
    """The store cannot be exported as it stands (run `timebank verify`)."""


class BookError(ValueError):
    """An event breaks the books: an unknown account, or minutes that are not there."""


@dataclass
class Books:
    """Account balances folded from exported events, by their topics and data alone."""

    owners: dict[str, str] = field(default_factory=dict)  # account id -> member id
    balance: dict[str, int] = field(default_factory=dict)  # member id -> minutes
    held: dict[str, int] = field(default_factory=dict)
    system: dict[str, int] = field(
        default_factory=lambda: {"issuance": 0, "redeemed": 0, "expired": 0}
    )

    def apply(self, topic: str, aggregate_id: str, data: dict[str, Any]) -> None:
        """Fold one event; raise BookError when it breaks the books."""
        kind = topic.removeprefix("timebank:Account.")
        if kind == topic:
            return  # not an account event: it moves no minutes
        if kind == "Opened":
            member = str(data["member_id"])
            self.owners[aggregate_id] = member
            self.balance.setdefault(member, 0)
            self.held.setdefault(member, 0)
            return
        if aggregate_id not in self.owners:
            raise BookError(f"{kind} on account {aggregate_id}, which was never opened")
        member = self.owners[aggregate_id]
        minutes = data.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
            raise BookError(f"{kind} of {minutes!r} minutes")
        if kind == "Earned":
            self.balance[member] += minutes
            self.system["issuance"] -= minutes
        elif kind == "EarningReversed":
            self.balance[member] -= minutes
            self.system["issuance"] += minutes
        elif kind == "Held":
            self.held[member] += minutes
        elif kind == "Released":
            self.held[member] -= minutes
        elif kind == "Redeemed":
            self.held[member] -= minutes
            self.balance[member] -= minutes
            self.system["redeemed"] += minutes
        elif kind == "Gave":
            self.balance[member] -= minutes
        elif kind == "Received":
            self.balance[member] += minutes
        elif kind == "Expired":
            self.balance[member] -= minutes
            self.system["expired"] += minutes
        if self.balance[member] - self.held[member] < 0:
            raise BookError(f"member {member}'s available minutes went below zero")

    def totals(self) -> dict[str, int]:
        members = sum(self.balance.values())
        return {
            "members": members,
            "held": sum(self.held.values()),
            "issuance": self.system["issuance"],
            "redeemed": self.system["redeemed"],
            "expired": self.system["expired"],
            "sum": members + sum(self.system.values()),
        }


def export_ledger(
    app: TimeBank,
    store: ViewStore,
    out: TextIO,
    *,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write every stored event and a closing checkpoint; return the checkpoint.

    Each hash is recomputed from the stored event and must equal the one the audit
    projection recorded when it first saw it, so an export never launders a tampered
    store into a clean-looking file.
    """
    books = Books()
    head, count, last = audit.GENESIS_HASH, 0, 0
    recorded = _recorded_hashes(store)
    expected = next(recorded, None)
    for notification in notifications(app):
        try:
            data = audit.decode_data(app.mapper, notification)
        except Exception as error:
            raise ExportError(f"event {notification.id} cannot be read: {error}") from None
        entry = audit.entry(head, notification, data)
        if expected is not None and expected[0] < notification.id:
            raise ExportError(f"event {expected[0]} was audited but is no longer stored")
        if expected is not None and expected[0] == notification.id:
            if expected[1] != entry.hash:
                raise ExportError(f"event {notification.id} differs from its audit record")
            expected = next(recorded, None)
        try:
            books.apply(entry.topic, entry.aggregate_id, data)
        except BookError as error:
            raise ExportError(f"event {notification.id}: {error}") from None
        out.write(line_of({name: _field(entry, name) for name in EVENT_FIELDS}))
        head, count, last = entry.hash, count + 1, notification.id
        if progress is not None:
            progress(1)
    checkpoint = {
        "count": count,
        "last_position": last,
        "head_hash": head,
        "totals": books.totals(),
        "exported_at": datetime.now(UTC).isoformat(),
    }
    out.write(line_of({"checkpoint": checkpoint}))
    return checkpoint


@dataclass(frozen=True)
class ExportCheck:
    lines: int
    problem: tuple[int, str] | None  # the first bad line and what is wrong with it
    checkpoint: dict[str, Any] | None
    # What the events mean, and kept checkpoints the file does not extend: (position, kind,
    # detail) as verify reports them. They do not stop the check; a bad line does.
    findings: list[tuple[int | None, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.findings


CHECKPOINT_LINE_FIELDS = ("count", "last_position", "head_hash", "totals", "exported_at")
_HASH = re.compile(r"^[0-9a-f]{64}$")


def read_checkpoint(lines: Iterable[bytes | str | Oversized]) -> dict[str, Any]:
    """The checkpoint of an export (its last line), to hold a later export against;
    raises ValueError saying what is wrong."""
    last: bytes | str | Oversized = ""
    for last in lines:  # noqa: B007 -- only the last line matters
        pass
    try:
        record = parse_line(last)
    except LineError as error:
        raise ValueError(f"its last line is not a checkpoint: {error}") from None
    if not isinstance(record, dict) or set(record) != {"checkpoint"}:
        raise ValueError("the file does not end with a checkpoint line")
    problem = _checkpoint_line_problem(record["checkpoint"])
    if problem is not None:
        raise ValueError(problem)
    checkpoint: dict[str, Any] = record["checkpoint"]
    return checkpoint


def verify_export(
    lines: Iterable[bytes | str | Oversized],
    *,
    earlier: dict[str, Any] | None = None,
    checkpoints: Sequence[Checkpoint] = (),
    trusted_keys: Sequence[Ed25519PublicKey] = (),
    timezone: tzinfo = DEFAULT_TIMEZONE,
    progress: Callable[[int], None] | None = None,
) -> ExportCheck:
    """Check an export from its lines alone: every field of every line, the chain, the
    books, what the events mean, and the closing checkpoint.

    With the checkpoint of an `earlier` export, also check that this export's history up to
    that point is the one the earlier export certified: the hash at its last position must
    be its head hash, so a history rewritten in between (chain and all) is caught. With
    signed `checkpoints` an auditor kept (see `projections.checkpoints`), check that the
    file's history extends each. `timezone` is where the ledger decides "today", for the
    days an agent may act.
    """
    anchor = None if earlier is None else (earlier.get("last_position"), earlier.get("head_hash"))
    books = Books()
    meaning = Meaning(timezone)
    watch = Watch(checkpoints, trusted_keys)
    head, count, last_position = audit.GENESIS_HASH, 0, 0
    versions: dict[str, int] = {}
    checkpoint: dict[str, Any] | None = None
    number = 0

    def stopped(line: int, problem: str, checkpoint: dict[str, Any] | None = None) -> ExportCheck:
        return ExportCheck(number, (line, problem), checkpoint, meaning.findings + watch.findings)

    for number, text in enumerate(lines, start=1):
        if progress is not None:
            progress(1)
        if checkpoint is not None:
            return stopped(number, "a line follows the checkpoint", checkpoint)
        try:
            record = parse_line(text)
        except LineError as error:
            return stopped(number, str(error))
        if not isinstance(record, dict):
            return stopped(number, "not a JSON object")
        if "checkpoint" in record:
            if set(record) != {"checkpoint"}:
                extra = ", ".join(sorted(set(record) - {"checkpoint"}))
                return stopped(number, f"unknown fields beside the checkpoint: {extra}")
            checkpoint = record["checkpoint"]
            problem = _checkpoint_line_problem(checkpoint)
            if problem is not None:
                return stopped(number, problem)
            continue
        problem = _check_event(record, head, last_position, versions, books)
        if problem is None and anchor is not None and record["position"] == anchor[0]:
            if record["hash"] != anchor[1]:
                problem = "history differs from the earlier export's checkpoint here"
            anchor = None
        if problem is not None:
            return stopped(number, problem)
        head, last_position, count = record["hash"], record["position"], count + 1
        meaning.apply(last_position, record["topic"], record["aggregate_id"], record["data"])
        if watch.waiting:
            watch.event(last_position, head, books.totals)
    if checkpoint is None:
        return stopped(number + 1, "the file ends without a checkpoint")
    if anchor is not None:
        return stopped(number, f"the earlier export's last event {anchor[0]} is not here")
    meaning.finish()
    watch.finish()
    problem = _check_checkpoint(checkpoint, count, last_position, head, books)
    return ExportCheck(
        number,
        None if problem is None else (number, problem),
        checkpoint,
        meaning.findings + watch.findings,
    )


def _check_event(
    record: dict[str, Any],
    previous: str,
    last_position: int,
    versions: dict[str, int],
    books: Books,
) -> str | None:
    problem = _event_line_problem(record)
    if problem is not None:
        return problem
    position, version = record["position"], record["aggregate_version"]
    if position <= last_position:
        return f"position {position} does not follow {last_position}"
    aggregate = record["aggregate_id"]
    if version != versions.get(aggregate, 0) + 1:
        return f"version {version} of {aggregate} follows version {versions.get(aggregate, 0)}"
    versions[aggregate] = version
    recomputed = audit.chain_of(
        previous,
        position=position,
        topic=record["topic"],
        aggregate_id=aggregate,
        aggregate_version=version,
        data=record["data"],
    )
    if recomputed != record["hash"]:
        return "the hash does not match the chain: the line or one before it was changed"
    try:
        books.apply(record["topic"], aggregate, record["data"])
    except (BookError, KeyError, TypeError) as error:
        return f"the books break: {error}"
    return None


def _event_line_problem(record: dict[str, Any]) -> str | None:
    """What is wrong with the fields of an event line itself, if anything: every field
    there and no other, each of its JSON type, and the columns that repeat the data (type,
    actor, recorded time) agreeing with it. The hash covers only the topic, ids, version
    and data, so nothing else may say anything the hash does not vouch for."""
    unknown = sorted(set(record) - set(EVENT_FIELDS))
    if unknown:
        return f"unknown fields: {', '.join(unknown)}"
    missing = [name for name in EVENT_FIELDS if name not in record]
    if missing:
        return f"missing fields: {', '.join(missing)}"
    for name in ("position", "aggregate_version"):
        value = record[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return f"{name} must be a whole number from 1"
    for name in ("type", "topic", "aggregate_id", "hash"):
        if not isinstance(record[name], str):
            return f"{name} must be text"
    if not isinstance(record["data"], dict):
        return "data must be an object"
    if not _HASH.match(record["hash"]):
        return "hash must be 64 lowercase hexadecimal digits"
    topic = record["topic"]
    if record["type"] != (topic.partition(":")[2] or topic):
        return f"type {record['type']!r} is not the topic {topic!r} without its prefix"
    if not _is_id(record["aggregate_id"]):
        return "aggregate_id must be an id (a UUID in its canonical form)"
    data = record["data"]
    for name, key in (("actor_id", "actor_id"), ("recorded_at", "timestamp")):
        value = record[name]
        if value is not None and not isinstance(value, str):
            return f"{name} must be text or null"
        stated = data.get(key)
        if value != (stated if isinstance(stated, str) else None):
            return f"{name} {value!r} is not the data's {key} {stated!r}"
    return None


def _is_id(text: str) -> bool:
    try:
        return str(UUID(text)) == text
    except ValueError:
        return False


def _checkpoint_line_problem(checkpoint: Any) -> str | None:
    """What is wrong with the fields of an export's checkpoint line, if anything."""
    if not isinstance(checkpoint, dict):
        return "the checkpoint is not an object"
    unknown = sorted(set(checkpoint) - set(CHECKPOINT_LINE_FIELDS))
    if unknown:
        return f"unknown fields in the checkpoint: {', '.join(unknown)}"
    missing = [name for name in CHECKPOINT_LINE_FIELDS if name not in checkpoint]
    if missing:
        return f"missing fields in the checkpoint: {', '.join(missing)}"
    for name in ("count", "last_position"):
        value = checkpoint[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"the checkpoint's {name} must be a whole number from 0"
    if not isinstance(checkpoint["head_hash"], str) or not _HASH.match(checkpoint["head_hash"]):
        return "the checkpoint's head_hash must be 64 lowercase hexadecimal digits"
    totals = checkpoint["totals"]
    if (
        not isinstance(totals, dict)
        or sorted(totals) != sorted(TOTALS_FIELDS)
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in totals.values())
    ):
        return f"the checkpoint's totals must be whole numbers for {', '.join(TOTALS_FIELDS)}"
    exported_at = checkpoint["exported_at"]
    try:
        if not isinstance(exported_at, str) or datetime.fromisoformat(exported_at).tzinfo is None:
            raise ValueError(exported_at)
    except ValueError:
        return "the checkpoint's exported_at must be an ISO 8601 instant with its offset"
    return None


def _check_checkpoint(
    checkpoint: dict[str, Any], count: int, last_position: int, head: str, books: Books
) -> str | None:
    if checkpoint["count"] != count:
        return f"the checkpoint counts {checkpoint['count']} events, the file holds {count}"
    if checkpoint["last_position"] != last_position:
        return (
            f"the checkpoint's last position {checkpoint['last_position']} is not the last "
            f"event's {last_position}"
        )
    if checkpoint["head_hash"] != head:
        return "the checkpoint's head hash is not the chain's"
    totals = books.totals()
    if checkpoint["totals"] != totals:
        return f"the checkpoint's totals {checkpoint['totals']} are not {totals}"
    if totals["sum"] != 0:
        return f"the accounts sum to {totals['sum']} minutes, not zero"
    return None


def _recorded_hashes(store: ViewStore) -> Iterator[tuple[int, str]]:
    after = 0
    while True:
        page = audit_entries(store, after=after, limit=1000)
        for entry in page:
            yield entry.position, entry.hash
        if len(page) < 1000:
            return
        after = page[-1].position


def _field(entry: audit.AuditEntry, name: str) -> Any:
    if name == "type":
        return entry.type
    if name == "position":
        return entry.position
    return getattr(entry, name)


def line_of(record: dict[str, Any]) -> str:
    """One line of an export: sorted keys, no spaces, text as it is."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
