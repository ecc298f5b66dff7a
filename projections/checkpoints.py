"""Signed checkpoints: where the ledger stood (position, chain head, totals), signed with Ed25519.

A checkpoint says: up to log position P the ledger held `count` events, the audit chain's
hash at P was `head_hash`, and the accounts stood at `totals`. The ledger signs it with a
private key (`TIMEBANK_CHECKPOINT_KEY`) and keeps it in a table of its own; auditors keep
copies elsewhere with the public key. A later history that does not extend a kept
checkpoint (an event at or below P deleted, changed, inserted or moved; events cut off the
end) no longer hashes to its head, or holds fewer events than it counts, whoever did it:
even someone holding the event key, or the audit trail, or the database.
"""

# The SQL below is built from a fixed table name and a schema name checked against
# _IDENTIFIER; every value goes through placeholders.
# ruff: noqa: S608

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from eventsourcing.sqlite import SQLiteDatastore

from projections import audit
from projections.lines import LineError, bounded_lines, parse_line
from projections.log import PAGE_SIZE
from projections.queries import audit_entries
from projections.store import ViewStore
from timebank.application import TimeBank

if TYPE_CHECKING:
    from projections.runner import ProjectionRunner

LOG = logging.getLogger(__name__)

Finding = tuple[int | None, str, str]
"""Where, what kind, and what exactly: the auditor turns these into its own findings."""

TOTALS_FIELDS = ("members", "held", "issuance", "redeemed", "expired", "sum")
CHECKPOINT_FIELDS = (
    "position",
    "count",
    "head_hash",
    "totals",
    "signed_at",
    "public_key",
    "signature",
)
_SIGNED_LABEL = b"timebank:checkpoint:v1\n"
_HASH = re.compile(r"^[0-9a-f]{64}$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class CheckpointError(Exception):
    """A checkpoint cannot be signed now: says why (a trail that no longer extends the
    last checkpoint is evidence, not something to sign over)."""


class CheckpointFormatError(ValueError):
    """A checkpoint, or a key, that is not in the form the ledger writes; says why."""


# Keys -------------------------------------------------------------------------------------


def load_private_key(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key: base64 of its 32 raw bytes, or PEM (PKCS #8, unencrypted)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError):
            raise CheckpointFormatError("not a readable, unencrypted PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointFormatError("the PEM key is not an Ed25519 key")
        return key
    return Ed25519PrivateKey.from_private_bytes(_raw(text, "private key"))


def load_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key: base64 of its 32 raw bytes, or PEM (SubjectPublicKeyInfo)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, TypeError, UnicodeEncodeError):
            raise CheckpointFormatError("not a readable PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise CheckpointFormatError("the PEM key is not an Ed25519 key")
        return key
    return Ed25519PublicKey.from_public_bytes(_raw(text, "public key"))


def _raw(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointFormatError(f"a {what} is base64 of 32 bytes, or PEM") from None
    if len(raw) != 32:
        raise CheckpointFormatError(f"a {what} is 32 bytes, not {len(raw)}")
    return raw


def check_checkpoint_key(value: str) -> str:
    """The setting holds a usable Ed25519 private key."""
    try:
        load_private_key(value)
    except CheckpointFormatError as error:
        raise ValueError(f"{error} (timebank keygen-checkpoint makes one)") from None
    return value


def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def new_key_pair() -> tuple[str, str]:
    """A fresh private key and its public key, both base64 of their raw bytes."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(raw).decode("ascii"), public_key_text(key.public_key())


# The checkpoint ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """Where the ledger stood, as signed: `count` events up to log position `position`,
    the audit chain's hash there, the account totals there, when, and by which key."""

    position: int
    count: int
    head_hash: str
    totals: dict[str, int]
    signed_at: str
    public_key: str  # base64 of the raw Ed25519 public key
    signature: str = ""  # base64 of the Ed25519 signature of `signed_bytes()`

    def body(self) -> dict[str, Any]:
        """Every field but the signature: what is signed."""
        return {
            "position": self.position,
            "count": self.count,
            "head_hash": self.head_hash,
            "totals": dict(self.totals),
            "signed_at": self.signed_at,
            "public_key": self.public_key,
        }

    def signed_bytes(self) -> bytes:
        return _SIGNED_LABEL + audit.canonical_json(self.body()).encode("utf-8")

    def as_json(self) -> dict[str, Any]:
        return {**self.body(), "signature": self.signature}

    def line(self) -> str:
        """The checkpoint as one line of canonical JSON, as files and the table keep it."""
        return audit.canonical_json(self.as_json()) + "\n"

    def signature_ok(self) -> bool:
        """The signature is the named public key's, over exactly these fields."""
        try:
            key = load_public_key(self.public_key)
            key.verify(base64.b64decode(self.signature, validate=True), self.signed_bytes())
        except (CheckpointFormatError, InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    @classmethod
    def of(cls, value: Any) -> Checkpoint:
        """A checkpoint from its JSON, every field checked; `CheckpointFormatError` says what
        is wrong."""
        if not isinstance(value, dict):
            raise CheckpointFormatError("a checkpoint is a JSON object")
        unknown = sorted(set(value) - set(CHECKPOINT_FIELDS))
        missing = [name for name in CHECKPOINT_FIELDS if name not in value]
        if unknown:
            raise CheckpointFormatError(f"unknown fields: {', '.join(unknown)}")
        if missing:
            raise CheckpointFormatError(f"missing fields: {', '.join(missing)}")
        for name in ("position", "count"):
            if not _whole(value[name]):
                raise CheckpointFormatError(f"{name} must be a whole number from 0")
        if not isinstance(value["head_hash"], str) or not _HASH.match(value["head_hash"]):
            raise CheckpointFormatError("head_hash must be 64 lowercase hexadecimal digits")
        totals = value["totals"]
        if (
            not isinstance(totals, dict)
            or sorted(totals) != sorted(TOTALS_FIELDS)
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in totals.values())
        ):
            raise CheckpointFormatError(
                f"totals must be whole numbers of minutes for {', '.join(TOTALS_FIELDS)}"
            )
        for name in ("signed_at", "public_key", "signature"):
            if not isinstance(value[name], str):
                raise CheckpointFormatError(f"{name} must be text")
        try:
            datetime.fromisoformat(value["signed_at"])
        except ValueError:
            raise CheckpointFormatError("signed_at must be an ISO 8601 instant") from None
        return cls(
            position=value["position"],
            count=value["count"],
            head_hash=value["head_hash"],
            totals={name: totals[name] for name in TOTALS_FIELDS},
            signed_at=value["signed_at"],
            public_key=value["public_key"],
            signature=value["signature"],
        )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def totals_of(
    members: int, held: int, issuance: int, redeemed: int, expired: int
) -> dict[str, int]:
    """The account totals a checkpoint signs, in the form exports write them."""
    return {
        "members": members,
        "held": held,
        "issuance": issuance,
        "redeemed": redeemed,
        "expired": expired,
        "sum": members + issuance + redeemed + expired,
    }


def read_checkpoints(path: Path) -> tuple[list[Checkpoint], list[Finding]]:
    """The checkpoints kept in a file, one JSON object a line (as `timebank checkpoint
    --out` writes them), and a `bad_checkpoint` finding for each line that is not one."""
    kept: list[Checkpoint] = []
    problems: list[Finding] = []
    try:
        with path.open("rb") as stream:
            for number, line in enumerate(bounded_lines(stream), start=1):
                if not isinstance(line, bytes) or line.strip():
                    try:
                        kept.append(Checkpoint.of(parse_line(line)))
                    except (LineError, CheckpointFormatError) as error:
                        problems.append((None, "bad_checkpoint", f"{path} line {number}: {error}"))
    except OSError as error:
        problems.append((None, "bad_checkpoint", f"{path}: {error.strerror or error}"))
    if not kept and not problems:
        problems.append((None, "bad_checkpoint", f"{path} holds no checkpoint"))
    return kept, problems


# Holding a history against kept checkpoints ------------------------------------------------


@dataclass
class Watch:
    """Checks a history, one event at a time in log order, against kept checkpoints: each
    must be signed by its key (by a trusted key, when any are given), and the history must
    extend it: an event at its position, the chain's hash there, the totals there, and at
    least as many events as it counts."""

    checkpoints: Sequence[Checkpoint]
    trusted: Sequence[Ed25519PublicKey] = ()
    findings: list[Finding] = field(default_factory=list)
    extended: list[Checkpoint] = field(default_factory=list)
    count: int = 0
    last_position: int = 0

    def __post_init__(self) -> None:
        trusted = {public_key_text(key) for key in self.trusted}
        pending: list[Checkpoint] = []
        for kept in self.checkpoints:
            if not kept.signature_ok():
                self.findings.append(
                    (
                        kept.position,
                        "bad_signature",
                        f"the checkpoint signed at {kept.signed_at} does not carry a valid "
                        f"signature of key {kept.public_key}",
                    )
                )
            elif trusted and kept.public_key not in trusted:
                self.findings.append(
                    (
                        kept.position,
                        "bad_signature",
                        f"the checkpoint signed at {kept.signed_at} is signed by key "
                        f"{kept.public_key}, which is not a trusted key",
                    )
                )
            else:
                pending.append(kept)
        self._pending = sorted(pending, key=lambda c: c.position)
        self._genesis()

    def _genesis(self) -> None:
        """A checkpoint of the empty ledger, at position 0."""
        while self._pending and self._pending[0].position == 0:
            self._compare(self._pending.pop(0), audit.GENESIS_HASH, totals_of(0, 0, 0, 0, 0))

    @property
    def waiting(self) -> bool:
        """Some checkpoint still lies ahead: the caller keeps computing the chain."""
        return bool(self._pending)

    def event(self, position: int, head: str | None, totals: Callable[[], dict[str, int]]) -> None:
        """The next event of the history, at `position`, with the chain's hash after it
        (None when it could not be read) and the totals after it (asked for only here)."""
        self.count += 1
        self.last_position = position
        pending = self._pending
        while pending and pending[0].position < position:
            kept = pending.pop(0)
            self._not_extended(kept, f"no event is stored at its position {kept.position} any more")
        if pending and pending[0].position == position:
            now = totals()
            while pending and pending[0].position == position:
                self._compare(pending.pop(0), head, now)

    def finish(self) -> None:
        """The history ended: any checkpoint still ahead of it was cut off."""
        for kept in self._pending:
            self._not_extended(
                kept,
                f"the history ends at position {self.last_position} with {self.count} events, "
                f"short of its position {kept.position} and its {kept.count} events",
            )
        self._pending = []

    def _compare(self, kept: Checkpoint, head: str | None, totals: dict[str, int]) -> None:
        if head is None:
            self._not_extended(kept, "an event up to it cannot be read, so its chain is unknown")
        elif head != kept.head_hash:
            self._not_extended(kept, "the chain's hash at its position differs: history changed")
        elif self.count != kept.count:
            self._not_extended(
                kept, f"{self.count} events up to its position, where it counts {kept.count}"
            )
        elif totals != kept.totals:
            self._not_extended(
                kept, f"the totals there are {totals}, where it signed {kept.totals}"
            )
        else:
            self.extended.append(kept)

    def _not_extended(self, kept: Checkpoint, why: str) -> None:
        self.findings.append(
            (
                kept.position,
                "checkpoint_not_extended",
                f"the checkpoint signed at {kept.signed_at}: {why}",
            )
        )


# Signing ----------------------------------------------------------------------------------


def sign_checkpoint(
    app: TimeBank,
    store: ViewStore,
    key: Ed25519PrivateKey,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Checkpoint:
    """Sign where the audit trail stands now, keep the checkpoint in the ledger's table of
    checkpoints, and return it. For a server at an interval, or `timebank checkpoint`.

    The trail is read on from the last checkpoint this key signed (its totals carried
    forward), once the trail is seen to extend it; a trail that does not, or whose links no
    longer chain, is refused (`CheckpointError`): signing over it would launder it.
    """
    table = checkpoint_table(app)
    public = public_key_text(key.public_key())
    start = _resume_from(table.latest(public), store)
    position, count, head = start.position, start.count, start.head_hash
    totals = dict(start.totals)
    after = position
    while True:
        page = audit_entries(store, after=after, limit=PAGE_SIZE)
        for entry in page:
            link = audit.link_of(
                head,
                position=entry.position,
                topic=entry.topic,
                aggregate_id=entry.aggregate_id,
                aggregate_version=entry.aggregate_version,
                data_json=entry.data_json,
            )
            data = _entry_data(entry)
            if link != entry.hash and (
                data is None
                or audit.chain_of(
                    head,
                    position=entry.position,
                    topic=entry.topic,
                    aggregate_id=entry.aggregate_id,
                    aggregate_version=entry.aggregate_version,
                    data=data,
                )
                != entry.hash
            ):
                raise CheckpointError(
                    f"the audit trail does not chain at position {entry.position}: "
                    "run timebank verify"
                )
            _fold_totals(totals, entry.topic, data)
            position, count, head = entry.position, count + 1, entry.hash
        if len(page) < PAGE_SIZE:
            break
        after = page[-1].position
    unsigned = Checkpoint(
        position=position,
        count=count,
        head_hash=head,
        totals=totals_of(*(totals[name] for name in TOTALS_FIELDS[:-1])),
        signed_at=now().astimezone(UTC).isoformat(),
        public_key=public,
    )
    signature = base64.b64encode(key.sign(unsigned.signed_bytes())).decode("ascii")
    checkpoint = Checkpoint(**{**unsigned.body(), "signature": signature})
    table.add(checkpoint)
    return checkpoint


def _resume_from(last: Checkpoint | None, store: ViewStore) -> Checkpoint:
    """The last checkpoint this key signed, once the trail is seen to extend it; the empty
    ledger when there is none."""
    genesis = Checkpoint(0, 0, audit.GENESIS_HASH, totals_of(0, 0, 0, 0, 0), "", "")
    if last is None or last.position == 0:
        return genesis
    entries = audit_entries(store, after=last.position - 1, limit=1)
    if not entries or entries[0].position != last.position or entries[0].hash != last.head_hash:
        raise CheckpointError(
            f"the audit trail no longer extends the checkpoint signed at {last.signed_at} "
            f"(position {last.position}): run timebank verify"
        )
    return last


def _entry_data(entry: audit.AuditEntry) -> dict[str, Any] | None:
    try:
        data = entry.data
    except ValueError:  # orjson.JSONDecodeError is one: the trail's text is not JSON
        return None
    return data if isinstance(data, dict) else None


def _fold_totals(totals: dict[str, int], topic: str, data: dict[str, Any] | None) -> None:
    """The totals after one event: only an account's movements change them."""
    kind = topic.removeprefix("timebank:Account.")
    if kind == topic or data is None:
        return
    minutes = data.get("minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool):
        return
    if kind == "Earned":
        totals["members"] += minutes
        totals["issuance"] -= minutes
    elif kind == "EarningReversed":
        totals["members"] -= minutes
        totals["issuance"] += minutes
    elif kind == "Held":
        totals["held"] += minutes
    elif kind == "Released":
        totals["held"] -= minutes
    elif kind == "Redeemed":
        totals["held"] -= minutes
        totals["members"] -= minutes
        totals["redeemed"] += minutes
    elif kind == "Expired":
        totals["members"] -= minutes
        totals["expired"] += minutes
    # Gave and Received move minutes between members: the totals stand.


# The table of checkpoints -----------------------------------------------------------------


class CheckpointTable(Protocol):
    def add(self, checkpoint: Checkpoint) -> None:
        """Keep a signed checkpoint."""

    def latest(self, public_key: str | None = None) -> Checkpoint | None:
        """The checkpoint at the furthest position (the last signed there), by any key or
        by the given one, whose signature holds; None when there is none."""


def checkpoint_table(app: TimeBank) -> CheckpointTable:
    """The ledger's checkpoints, in a table beside its events (in memory for `memory://`);
    the table is made once per recorder."""
    with _tables_lock:
        table = _tables.get(app.recorder)
        if table is None:
            table = _tables[app.recorder] = _open_table(app)
        return table


def _open_table(app: TimeBank) -> CheckpointTable:
    datastore = getattr(app.recorder, "datastore", None)
    if isinstance(datastore, SQLiteDatastore):
        return _SQLTable(datastore, name="timebank_checkpoints", placeholder="?")
    if datastore is None:
        return _MemoryTable()
    # Imported here: psycopg and its pool weigh 13 MiB, which a SQLite ledger (and an
    # auditor's verify) should not carry; a PostgreSQL ledger has loaded them already.
    from eventsourcing.postgres import PostgresDatastore  # noqa: PLC0415

    if isinstance(datastore, PostgresDatastore):
        if not _IDENTIFIER.match(datastore.schema):
            raise ValueError(f"unusable schema name {datastore.schema!r}")
        return _SQLTable(
            datastore, name=f'"{datastore.schema}".timebank_checkpoints', placeholder="%s"
        )
    return _MemoryTable()


class _SQLTable:
    """One row a checkpoint: its position, when it was signed, and its line of JSON."""

    def __init__(self, datastore: Any, *, name: str, placeholder: str) -> None:
        self.datastore = datastore
        p = placeholder
        self._insert = (
            f"INSERT INTO {name} (position, signed_at, checkpoint) VALUES ({p}, {p}, {p}) "
            "ON CONFLICT DO NOTHING"
        )
        self._select = (
            f"SELECT checkpoint FROM {name} ORDER BY position DESC, signed_at DESC LIMIT {p} "
            f"OFFSET {p}"
        )
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {name} (position BIGINT NOT NULL, "
                "signed_at TEXT NOT NULL, checkpoint TEXT NOT NULL, "
                "PRIMARY KEY (position, signed_at))"
            )

    def add(self, checkpoint: Checkpoint) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                self._insert, (checkpoint.position, checkpoint.signed_at, checkpoint.line())
            )

    def latest(self, public_key: str | None = None) -> Checkpoint | None:
        offset = 0
        while True:
            with self.datastore.transaction(commit=False) as cursor:
                cursor.execute(self._select, (100, offset))
                rows = [row["checkpoint"] for row in cursor.fetchall()]
            found = _first_valid(rows, public_key)
            if found is not None or len(rows) < 100:
                return found
            offset += 100


class _MemoryTable:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: list[str] = []

    def add(self, checkpoint: Checkpoint) -> None:
        with self._lock:
            self._lines.append(checkpoint.line())

    def latest(self, public_key: str | None = None) -> Checkpoint | None:
        with self._lock:
            lines = list(self._lines)
        ordered = sorted(lines, key=_order, reverse=True)
        return _first_valid(ordered, public_key)


def _order(line: str) -> tuple[int, str]:
    value = json.loads(line)
    return int(value["position"]), str(value["signed_at"])


def _first_valid(lines: Iterable[str], public_key: str | None) -> Checkpoint | None:
    """The first line that is a checkpoint with a good signature (by the given key): a row
    someone wrote into the table by hand is passed over."""
    for line in lines:
        try:
            checkpoint = Checkpoint.of(parse_line(line))
        except (LineError, CheckpointFormatError):
            continue
        if public_key is not None and checkpoint.public_key != public_key:
            continue
        if checkpoint.signature_ok():
            return checkpoint
    return None


# Each recorder's table, made once (an in-memory ledger's checkpoints live as long as its
# recorder); a lock, as the API's threads may ask for it together.
_tables: weakref.WeakKeyDictionary[Any, CheckpointTable] = weakref.WeakKeyDictionary()
_tables_lock = threading.Lock()


class IntervalSigner:
    """Signs a checkpoint every `interval` seconds while the ledger moves, in a background
    thread of the process that writes the views (one per store, so one signer), so that
    auditors can collect checkpoints without anyone remembering to run a command.

    A refusal to sign (the trail no longer extends the last checkpoint) is logged and
    retried at the next interval: it is verify's finding to report, not the server's to
    die of."""

    def __init__(
        self, runner: ProjectionRunner, key: Ed25519PrivateKey | None, interval: float
    ) -> None:
        self.runner, self.key, self.interval = runner, key, interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.signed: Checkpoint | None = None

    def start(self) -> None:
        if self.key is None or self.interval <= 0 or self._thread is not None:
            return  # no key, or only on demand
        self._thread = threading.Thread(target=self._run, name="checkpoint-signer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def sign_if_moved(self) -> Checkpoint | None:
        """Sign where the views' writer stands, if the trail moved since the last one."""
        runner, key = self.runner, self.key
        if key is None or not runner.is_writer:
            return None
        last = self.signed or checkpoint_table(runner.app).latest(public_key_text(key.public_key()))
        if last is not None and last.position >= runner.store.position():
            return None
        self.signed = sign_checkpoint(runner.app, runner.store, key)
        return self.signed

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.sign_if_moved()
            except CheckpointError as refused:
                LOG.warning("no checkpoint signed: %s", refused)
            except Exception:  # a store outage: the next interval tries again
                LOG.exception("no checkpoint signed")
