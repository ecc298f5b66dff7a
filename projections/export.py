"""The ledger as JSON Lines for outside auditors, and the check they run on the file alone.

An export holds one stored event a line, in log order (position, type, topic, aggregate
id and version, actor, recorded time, data, and the hash chained to the line before),
closed by a checkpoint line (count, last position, head hash, account totals). The check
needs nothing but the file and this module: no database, no server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from projections import audit
from projections.log import notifications
from projections.queries import audit_entries
from projections.store import ViewStore
from timebank.application import TimeBank

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
    system: dict[str, int] = field(default_factory=lambda: {"issuance": 0, "redeemed": 0})

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
        if self.balance[member] - self.held[member] < 0:
            raise BookError(f"member {member}'s available minutes went below zero")

    def totals(self) -> dict[str, int]:
        members = sum(self.balance.values())
        return {
            "members": members,
            "held": sum(self.held.values()),
            "issuance": self.system["issuance"],
            "redeemed": self.system["redeemed"],
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
        out.write(_line({name: _field(entry, name) for name in EVENT_FIELDS}))
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
    out.write(_line({"checkpoint": checkpoint}))
    return checkpoint


@dataclass(frozen=True)
class ExportCheck:
    lines: int
    problem: tuple[int, str] | None  # the first bad line and what is wrong with it
    checkpoint: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def read_checkpoint(lines: Iterable[str]) -> dict[str, Any]:
    """The checkpoint of an export (its last line), to hold a later export against."""
    last = ""
    for last in lines:  # noqa: B007 -- only the last line matters
        pass
    try:
        record = json.loads(last)
        checkpoint = record["checkpoint"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ValueError("the file does not end with a checkpoint line") from None
    if not isinstance(checkpoint, dict):
        raise ValueError("the checkpoint is not an object")
    return checkpoint


def verify_export(
    lines: Iterable[str],
    *,
    earlier: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportCheck:
    """Check an export from its lines alone: the chain, the books, the checkpoint.

    With the checkpoint of an `earlier` export, also check that this export's history up to
    that point is the one the earlier export certified: the hash at its last position must
    be its head hash, so a history rewritten in between (chain and all) is caught.
    """
    anchor = None if earlier is None else (earlier.get("last_position"), earlier.get("head_hash"))
    books = Books()
    head, count, last_position = audit.GENESIS_HASH, 0, 0
    versions: dict[str, int] = {}
    checkpoint: dict[str, Any] | None = None
    number = 0
    for number, text in enumerate(lines, start=1):
        if progress is not None:
            progress(1)
        if checkpoint is not None:
            return ExportCheck(number, (number, "a line follows the checkpoint"), checkpoint)
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            return ExportCheck(number, (number, f"not JSON: {error.msg}"), None)
        if not isinstance(record, dict):
            return ExportCheck(number, (number, "not a JSON object"), None)
        if "checkpoint" in record:
            checkpoint = record["checkpoint"]
            continue
        problem = _check_event(record, head, last_position, versions, books)
        if problem is None and anchor is not None and record["position"] == anchor[0]:
            if record["hash"] != anchor[1]:
                problem = "history differs from the earlier export's checkpoint here"
            anchor = None
        if problem is not None:
            return ExportCheck(number, (number, problem), None)
        head, last_position, count = record["hash"], record["position"], count + 1
    if checkpoint is None:
        return ExportCheck(number, (number + 1, "the file ends without a checkpoint"), None)
    if anchor is not None:
        return ExportCheck(
            number, (number, f"the earlier export's last event {anchor[0]} is not here"), None
        )
    problem = _check_checkpoint(checkpoint, count, head, books)
    return ExportCheck(number, None if problem is None else (number, problem), checkpoint)


def _check_event(
    record: dict[str, Any],
    previous: str,
    last_position: int,
    versions: dict[str, int],
    books: Books,
) -> str | None:
    missing = [name for name in EVENT_FIELDS if name not in record]
    if missing:
        return f"missing fields: {', '.join(missing)}"
    position, version = record["position"], record["aggregate_version"]
    if not (isinstance(position, int) and isinstance(version, int)):
        return "position and aggregate_version must be whole numbers"
    if not isinstance(record["data"], dict):
        return "data must be an object"
    if position <= last_position:
        return f"position {position} does not follow {last_position}"
    aggregate = str(record["aggregate_id"])
    if version != versions.get(aggregate, 0) + 1:
        return f"version {version} of {aggregate} follows version {versions.get(aggregate, 0)}"
    versions[aggregate] = version
    recomputed = audit.chain_of(
        previous,
        position=position,
        topic=str(record["topic"]),
        aggregate_id=aggregate,
        aggregate_version=version,
        data=record["data"],
    )
    if recomputed != record["hash"]:
        return "the hash does not match the chain: the line or one before it was changed"
    try:
        books.apply(str(record["topic"]), aggregate, record["data"])
    except (BookError, KeyError, TypeError) as error:
        return f"the books break: {error}"
    return None


def _check_checkpoint(checkpoint: Any, count: int, head: str, books: Books) -> str | None:
    if not isinstance(checkpoint, dict):
        return "the checkpoint is not an object"
    if checkpoint.get("count") != count:
        return f"the checkpoint counts {checkpoint.get('count')} events, the file holds {count}"
    if checkpoint.get("head_hash") != head:
        return "the checkpoint's head hash is not the chain's"
    totals = books.totals()
    if checkpoint.get("totals") != totals:
        return f"the checkpoint's totals {checkpoint.get('totals')} are not {totals}"
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


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
