"""Event seals: an HMAC under a key the database does not hold, on every stored event.

With `TIMEBANK_EVENT_KEY` set, the mapper seals each event as it is stored: an HMAC-SHA256
over its aggregate id, version and topic and its stored state bytes (after compression and
encryption), prefixed to the state with the id of the key. Someone who can write to the
database but has not got the key can then neither forge an event, nor edit one, nor copy
it to another aggregate or version: the seal no longer matches, and the event does not
decode (`ForgedEventError`). AES-GCM encryption authenticates the state already, but not the
aggregate id, version and topic stored beside it; the seal covers those too.

What a seal cannot do: it does not cover the event's position in the log (the store
assigns that after the event is sealed), so deleting events, or storing them in another
order, is for the audit chain and signed checkpoints to catch; and whoever holds the key can
seal anything. Events stored before a key was set carry no seal: they stay readable, and
verify reports them as `unsealed` (see README, "Event seals").
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent

EVENT_KEY_BYTES = 32

# A sealed state starts with these bytes. JSON starts with "{", zlib with 0x78, and an
# AES-GCM state with a random nonce, which begins with these eight bytes once in 2**64.
MAGIC = b"\x00tbseal1"
_KEY_ID_BYTES = 8
_MAC_BYTES = 32
HEADER_BYTES = len(MAGIC) + _KEY_ID_BYTES + _MAC_BYTES
_MAC_LABEL = b"timebank:event-seal:v1\x00"
_KEY_ID_LABEL = b"timebank:event-key-id:v1"

# The library's env keys the settings fill (see `timebank.storage.ledger_env`).
EVENT_KEY = "EVENT_KEY"
PREVIOUS_EVENT_KEYS = "PREVIOUS_EVENT_KEYS"


class StoredEventError(Exception):
    """A stored event the ledger will not read as it stands; `kind` names it for verify."""

    kind = "undecodable"

    def __init__(self, stored: StoredEvent, reason: str) -> None:
        where = f"{stored.topic} v{stored.originator_version} of {stored.originator_id}"
        position = getattr(stored, "id", None)
        at = f" at position {position}" if position is not None else ""
        super().__init__(f"{where}{at}: {reason}")
        self.position: int | None = position
        self.where = where
        self.reason = reason


class ForgedEventError(StoredEventError):
    """The event's seal does not match it: written, edited, copied or moved without the key."""

    kind = "forged"


class UnknownEventKeyError(StoredEventError):
    """The event is sealed with a key this process does not hold (neither the event key
    nor one of the previous keys): a key left out of the settings, or a forgery."""

    kind = "forged"


class EventKeyMissingError(StoredEventError):
    """The event is sealed, but no event key is set, so the seal cannot be checked."""

    kind = "unverifiable"


class StoreKeyError(Exception):
    """The store's events cannot be read with the keys this process was given: the message
    says which setting to fix. Raised when the ledger is opened (see `check_store_keys`)."""


def check_event_key(value: str) -> str:
    """An event key is base64 of 32 random bytes."""
    _key_bytes(value)
    return value


def check_previous_event_keys(value: str) -> str:
    """Previous event keys: event keys separated by commas."""
    for part in value.split(","):
        _key_bytes(part.strip())
    return value


def _key_bytes(value: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("must be base64 (timebank keygen-event-key)") from None
    if len(key) != EVENT_KEY_BYTES:
        raise ValueError(f"must decode to {EVENT_KEY_BYTES} bytes, not {len(key)}")
    return key


def new_event_key() -> str:
    """A fresh event key, as the setting takes it."""
    return base64.b64encode(secrets.token_bytes(EVENT_KEY_BYTES)).decode("ascii")


def key_id(key: bytes) -> bytes:
    """A short name of a key, stored with each seal, that tells nothing about the key."""
    return hmac.digest(key, _KEY_ID_LABEL, "sha256")[:_KEY_ID_BYTES]


@dataclass(frozen=True)
class EventKeys:
    """The key new events are sealed with, and every key a seal is accepted from."""

    current: bytes
    by_id: Mapping[bytes, bytes]

    @classmethod
    def of(cls, current: str, previous: Iterable[str] = ()) -> EventKeys:
        key = _key_bytes(current)
        keys = [key, *(_key_bytes(p.strip()) for p in previous if p.strip())]
        return cls(key, {key_id(k): k for k in keys})

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EventKeys | None:
        """The keys of a library env, or None when no event key is set."""
        current = env.get(EVENT_KEY)
        if not current:
            return None
        previous = env.get(PREVIOUS_EVENT_KEYS) or ""
        return cls.of(current, previous.split(","))


def _mac(key: bytes, originator_id: UUID | str, version: int, topic: str, state: bytes) -> bytes:
    ident = str(originator_id).encode("utf-8")
    number = str(version).encode("ascii")
    name = topic.encode("utf-8")
    # Each header field is prefixed with its length, so no two events' fields run together
    # into the same message; the state comes last and runs to the end.
    message = b"".join(
        (
            _MAC_LABEL,
            len(ident).to_bytes(4, "big"),
            ident,
            len(number).to_bytes(4, "big"),
            number,
            len(name).to_bytes(4, "big"),
            name,
            state,
        )
    )
    return hmac.digest(key, message, "sha256")


def is_sealed(state: bytes) -> bool:
    return bytes(state[: len(MAGIC)]) == MAGIC


def seal_key_id(state: bytes) -> str | None:
    """The id (hex) of the key a sealed state names, or None for an unsealed one."""
    if not is_sealed(state) or len(state) < HEADER_BYTES:
        return None
    return bytes(state[len(MAGIC) : len(MAGIC) + _KEY_ID_BYTES]).hex()


class SealingMapper(Mapper[UUID]):
    """The library's mapper, sealing every event it stores when it has keys, and checking
    every seal it reads. Without keys it stores events as the library does, and refuses
    a sealed event, whose seal it cannot check."""

    keys: EventKeys | None = None

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        return self.sealed(super().to_stored_event(domain_event))

    def sealed(self, stored: StoredEvent) -> StoredEvent:
        """A stored event with the current key's seal (as it is without a key): also for a
        restored event, whose state was written by the transcoder of another store."""
        keys = self.keys
        if keys is None:
            return stored
        mac = _mac(
            keys.current,
            stored.originator_id,
            stored.originator_version,
            stored.topic,
            stored.state,
        )
        return StoredEvent(
            originator_id=stored.originator_id,
            originator_version=stored.originator_version,
            topic=stored.topic,
            state=b"".join((MAGIC, key_id(keys.current), mac, stored.state)),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        state = self.opened_state(stored_event)
        if state is not stored_event.state:
            stored_event = StoredEvent(
                originator_id=stored_event.originator_id,
                originator_version=stored_event.originator_version,
                topic=stored_event.topic,
                state=state,
            )
        return super().to_domain_event(stored_event)

    def opened_state(self, stored: StoredEvent) -> bytes:
        """The state under the seal, once the seal is checked; an unsealed state as it is
        (stored before the key was set: verify reports it). Raises a `StoredEventError`."""
        state = stored.state
        if not is_sealed(state):
            return state
        if len(state) < HEADER_BYTES:
            raise ForgedEventError(stored, "its seal is cut short")
        if self.keys is None:
            raise EventKeyMissingError(
                stored, "sealed, and TIMEBANK_EVENT_KEY is not set to check the seal"
            )
        start = len(MAGIC)
        named = bytes(state[start : start + _KEY_ID_BYTES])
        key = self.keys.by_id.get(named)
        if key is None:
            raise UnknownEventKeyError(
                stored, f"sealed with a key this ledger does not hold (key id {named.hex()})"
            )
        inner = bytes(state[HEADER_BYTES:])
        expected = _mac(key, stored.originator_id, stored.originator_version, stored.topic, inner)
        if not hmac.compare_digest(bytes(state[start + _KEY_ID_BYTES : HEADER_BYTES]), expected):
            raise ForgedEventError(
                stored, "its seal does not match it: written or changed without the event key"
            )
        return inner


def opened_state(mapper: Mapper[Any], stored: StoredEvent) -> bytes:
    """The stored state under its seal, checked, for code that decodes states itself."""
    if isinstance(mapper, SealingMapper):
        return mapper.opened_state(stored)
    return stored.state


# Opening a store with the wrong keys ---------------------------------------------------


def key_problem(mapper: Mapper[Any], stored: StoredEvent) -> str | None:
    """What is wrong with the keys this mapper was given, judged from one stored event; None
    when the event reads, or fails for a reason the keys do not explain (a damaged or
    forged event is for verify to report)."""
    state = stored.state
    if is_sealed(state):
        keys = getattr(mapper, "keys", None)
        if keys is None:
            return (
                "the store's events are sealed; set TIMEBANK_EVENT_KEY to the key they were "
                "sealed with"
            )
        named = seal_key_id(state)
        if named is not None and bytes.fromhex(named) not in keys.by_id:
            return (
                "the store's events are sealed with another key; set TIMEBANK_EVENT_KEY (or "
                "TIMEBANK_PREVIOUS_EVENT_KEYS) to the key they were sealed with"
            )
        state = bytes(state[HEADER_BYTES:])
    if mapper.cipher is not None:
        try:
            mapper.cipher.decrypt(state)
        except (InvalidTag, ValueError):
            return (
                "the store's events cannot be decrypted with TIMEBANK_ENCRYPTION_KEY; set it "
                "to the key they were written with (they were written with another key, or "
                "without one)"
            )
        return None
    try:
        plain = mapper.compressor.decompress(state) if mapper.compressor else state
        mapper.transcoder.decode(plain)
    except (ValueError, TypeError, zlib.error):  # what the JSON transcoder and zlib raise
        if not _is_text(state):  # text that is not JSON is damaged, not encrypted
            return (
                "the store's events are encrypted; set TIMEBANK_ENCRYPTION_KEY to the key "
                "they were written with"
            )
    return None


def _is_text(state: bytes) -> bool:
    try:
        bytes(state).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_store_keys(app: Any) -> None:
    """Refuse a store whose events this application cannot read for want of the right keys,
    with one line saying which setting to fix (`StoreKeyError`).

    It reads the first and the last stored event. A store is refused when the last one is
    sealed and no event key is set (sealing, once begun, seals every later event), or when
    both fail for the same reason of keys; one damaged or forged event is left to verify."""
    recorder = app.recorder
    last_id = recorder.max_notification_id()
    if not last_id:
        return
    first = recorder.select_notifications(start=1, limit=1)
    last = recorder.select_notifications(start=last_id, limit=1)
    if not first or not last:
        return
    last_problem = key_problem(app.mapper, last[0])
    if last_problem is None:
        return
    if is_sealed(last[0].state) and getattr(app.mapper, "keys", None) is None:
        raise StoreKeyError(last_problem)
    if key_problem(app.mapper, first[0]) == last_problem:
        raise StoreKeyError(last_problem)


# What verify reports of seals ------------------------------------------------------------


class SealFindings:
    """Verify's findings about seals, as (position, kind, detail), fed every stored event in
    log order and every refusal of the mapper. Runs of events that share one finding
    (unsealed, or sealed with a key this ledger does not hold) are reported once a run, so
    a ledger of a million events stored before the key was set gets one line, not a
    million."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.keyed = getattr(mapper, "keys", None) is not None
        self.findings: list[tuple[int | None, str, str]] = []
        self._sealing_began = False
        self._run: tuple[str, str] | None = None  # kind and reason of the run going on
        self._run_first = self._run_last = self._run_count = 0
        self._legacy: tuple[int, int, int] | None = None  # the unsealed run before sealing

    def stored(self, position: int, state: bytes) -> None:
        if is_sealed(state):
            if self._run is not None and self._run[0] == "unsealed":
                self._close_run()
            self._sealing_began = True
            return
        if not self.keyed:
            return
        reason = "after" if self._sealing_began else "before"
        self._extend(position, ("unsealed", reason))

    def refused(self, position: int, error: StoredEventError) -> None:
        if isinstance(error, ForgedEventError):
            self._close_run()
            self.findings.append((position, error.kind, f"{error.where}: {error.reason}"))
        else:  # a key this process lacks: one finding for the run
            self._extend(position, (error.kind, error.reason))

    def finish(self, *, covered_through: int = 0) -> list[tuple[int | None, str, str]]:
        """Every finding. Unsealed events stored before any sealed one and at or below the
        position of a kept checkpoint that the history extends (`covered_through`) are
        vouched for by its signature, and not reported."""
        self._close_run()
        if self._legacy is not None:
            first, last, count = self._legacy
            if last > covered_through:
                self.findings.append(
                    (
                        first,
                        "unsealed",
                        f"{count} events from position {first} to {last} carry no seal: stored "
                        "before TIMEBANK_EVENT_KEY was set (or by someone without it); a "
                        "signed checkpoint past them, kept and given to verify, vouches for them",
                    )
                )
            self._legacy = None
        return self.findings

    def _extend(self, position: int, run: tuple[str, str]) -> None:
        if run != self._run:
            self._close_run()
            self._run, self._run_first, self._run_count = run, position, 0
        self._run_last = position
        self._run_count += 1

    def _close_run(self) -> None:
        if self._run is None:
            return
        kind, reason = self._run
        first, last, count = self._run_first, self._run_last, self._run_count
        self._run = None
        if (kind, reason) == ("unsealed", "before"):
            self._legacy = (
                (first, last, count)
                if self._legacy is None
                else (self._legacy[0], last, self._legacy[2] + count)
            )
            return
        if kind == "unsealed":
            reason = (
                "no seal, though stored after sealing began: written by someone without "
                "TIMEBANK_EVENT_KEY"
            )
        span = f"the event at {first}" if count == 1 else f"{count} events from {first} to {last}"
        self.findings.append((first, kind, f"{span}: {reason}"))
