"""For auditors: replay balances from the event store alone, and verify the whole ledger.

Both stream the notification log a page at a time, and their memory grows with the number
of members and open items, never with the number of events: what verify must remember of
every aggregate, credited service log and service day goes to a `projections.spill.Spill`
past a fixed number of entries, and the views folded afresh go to a temporary file
(`projections.compare`). Verify returns its findings as data and never stops at a damaged
event: it reports it and goes on.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.domain import AggregateEvent
from eventsourcing.persistence import Notification

from projections import audit, balances, semantics
from projections.audit import audit_trail
from projections.base import Logged
from projections.checkpoints import Checkpoint, Watch, totals_of
from projections.collector import collector_paused
from projections.compare import ViewComparison
from projections.log import PAGE_SIZE, notifications
from projections.queries import Reader
from projections.redaction import SECRET_FIELDS
from projections.runner import AUDIT_ONLY, ProjectionRunner
from projections.spill import Spill
from projections.store import AUDIT, ViewStore, view_positions
from projections.text import id_text
from timebank.accounts import EXPIRED, ISSUANCE, REDEEMED, Account, account_code
from timebank.application import TimeBank
from timebank.sealing import SealFindings, StoredEventError


@dataclass(frozen=True)
class Finding:
    """One problem verify found: where in the log, what kind, and what exactly."""

    position: int | None
    kind: str
    detail: str


@dataclass(frozen=True)
class MemberBalance:
    member_id: UUID
    balance_minutes: int
    held_minutes: int
    available_minutes: int


@dataclass(frozen=True)
class Replay:
    as_of: datetime
    events_replayed: int
    balances: list[MemberBalance]
    system: dict[str, int]

    @property
    def total(self) -> int:
        return sum(b.balance_minutes for b in self.balances) + sum(self.system.values())


@dataclass(frozen=True)
class Report:
    events_checked: int
    problems: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def replay(
    app: TimeBank,
    as_of: datetime | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> Replay:
    """Every member's balance from the stored events alone, as of a recorded instant."""
    moment = as_of or datetime.now(UTC)
    state = balances.Balances()
    replayed = 0
    for notification in notifications(app):
        if progress is not None:
            progress(1)
        event = app.mapper.to_domain_event(notification)
        if isinstance(event, AggregateEvent) and event.timestamp <= moment:
            balances.apply(state, event)
            replayed += 1
    return Replay(
        as_of=moment,
        events_replayed=replayed,
        balances=[
            MemberBalance(member_id, m.balance, m.held, m.available)
            for member_id, m in sorted(state.members.items(), key=lambda item: str(item[0]))
        ],
        system=dict(state.system),
    )


def verify(
    app: TimeBank,
    store: ViewStore,
    *,
    checkpoints: Sequence[Checkpoint] = (),
    trusted_keys: Sequence[Ed25519PublicKey] = (),
) -> Report:
    """Check the chain, the books, the events' seals and meaning, and every view against a
    fresh replay; with kept `checkpoints`, also that the history extends each (signed by
    one of `trusted_keys`, when any are given)."""
    with collector_paused():
        return _Verifier(app, store, Watch(checkpoints, trusted_keys)).run()


#: What verify reports about the stored events and the audit trail themselves: chaining
#: the trail again from the events as they stand would erase exactly these findings.
CHAIN_FINDINGS = frozenset(
    {
        "altered",
        "missing",
        "unrecorded",
        "out_of_order",
        "undecodable",
        "audit_chain_broken",
        "forged",
    }
)


class UnverifiedChainError(Exception):
    """The audit trail holds evidence against the stored events, so it is kept."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(f"{len(findings)} findings against the stored events or the audit trail")
        self.findings = findings


def rebuild_audit_trail(
    app: TimeBank,
    store: ViewStore,
    *,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Chain the audit trail again from the stored events, only if the chain verifies as
    it stands (or with `force`, for an operator who has kept the evidence some other way);
    return how many events were chained. Raise `UnverifiedChainError` otherwise. The
    caller holds the store alone (`StoreLocks.try_alone`)."""
    if not force:
        report = verify(app, store)
        evidence = [p for p in report.problems if p.kind in CHAIN_FINDINGS]
        if evidence:
            raise UnverifiedChainError(evidence)
    with store.write() as conn:
        conn.execute(audit_trail.delete())
        conn.execute(
            view_positions.update().where(view_positions.c.name == AUDIT).values(position=0)
        )
    runner = ProjectionRunner(app, store, groups=AUDIT_ONLY)
    runner.claim()
    return runner.catch_up(progress=progress)


COLLECT_EVERY = 2_000
"""Events between two passes of the cyclic collector over the young objects: verify runs
with it paused (see `projections.collector`), yet folding the views afresh leaves some
cycles behind each page, which would otherwise add up with the length of the log."""


class _Verifier:
    def __init__(self, app: TimeBank, store: ViewStore, watch: Watch | None = None) -> None:
        self.app = app
        self.store = store
        self.meaning = semantics.Meaning(app.policy.timezone)
        self.seals = SealFindings(app.mapper)
        self.watch = watch or Watch(())
        self.head: str | None = audit.GENESIS_HASH  # the chain of the events as stored
        self.reader = Reader(store, lambda: datetime.now(UTC).date())
        self.problems: list[Finding] = []
        self.balances = balances.Balances()
        self.open_transfers: dict[UUID, tuple[int, str, str]] = {}
        self.versions = Spill()  # the last version of each aggregate, by its id's bytes
        self.checked = 0

    def report(self, position: int | None, kind: str, detail: str) -> None:
        self.problems.append(Finding(position, kind, detail))

    def run(self) -> Report:
        try:
            with ViewComparison(self.app, self.store) as views:
                self._check_log(views)
                mismatches = views.finish()
        finally:
            self.versions.close()
        self._check_books()
        for mismatch in mismatches:
            self.report(
                mismatch.position, "projection_mismatch", f"{mismatch.table}: {mismatch.detail}"
            )
        self._observe_end()
        return Report(self.checked, self.problems)

    def _check_log(self, views: ViewComparison) -> None:
        """One pass over the log: each event decoded once, checked against the audit trail
        and its aggregate's versions, folded into the books, and fed to the comparison
        of the views (see `projections.compare`)."""
        audited = self._audit_entries()
        audit_head = self.store.positions()[AUDIT]
        previous, expected = audit.GENESIS_HASH, next(audited, None)
        for notification in notifications(self.app):
            while expected is not None and expected.entry.position < notification.id:
                self.report(expected.entry.position, "missing", "audited event no longer stored")
                previous, expected = expected.entry.hash, next(audited, None)
            self.checked += 1
            decoded = self._decode(notification)
            if expected is not None and expected.entry.position == notification.id:
                if decoded is not None:
                    self._check_link(notification, decoded[1], previous, expected)
                previous, expected = expected.entry.hash, next(audited, None)
            elif notification.id <= audit_head:
                self.report(notification.id, "unrecorded", "stored event the audit never saw")
            self._check_version(notification)
            if decoded is None:
                views.unreadable(notification.id, "undecodable")
            else:
                self._fold(notification.id, decoded[0])
                if isinstance(decoded[0], AggregateEvent):
                    views.feed(Logged(notification.id, decoded[0], notification))
            self._observe(notification, None if decoded is None else decoded[1])
            if self.checked % COLLECT_EVERY == 0:
                gc.collect(1)  # the young generations only: what lives on is not walked again
        while expected is not None:
            self.report(expected.entry.position, "missing", "audited event no longer stored")
            expected = next(audited, None)

    # The chain -------------------------------------------------------------------------

    def _audit_entries(self) -> Iterator[_Audited]:
        """Recorded audit entries, each checked against its recorded predecessor."""
        previous = audit.GENESIS_HASH
        after = 0
        while True:
            page = self.reader.audit_entries(after=after, limit=PAGE_SIZE)
            for entry in page:
                # The stored data is canonical JSON, so its text is hashed as it is; text
                # stored in another form is made canonical before it is judged.
                link = _link(previous, entry, entry.data_json)
                data = _data_of(entry)
                if link != entry.hash and (
                    data is None or _link(previous, entry, audit.canonical_json(data)) != entry.hash
                ):
                    self.report(entry.position, "audit_chain_broken", "audit entry was altered")
                elif data is None or (entry.actor_id, entry.recorded_at) != (
                    data.get("actor_id"),
                    data.get("timestamp"),
                ):
                    self.report(
                        entry.position, "audit_chain_broken", "audit columns disagree with its data"
                    )
                previous = entry.hash
                yield _Audited(entry, link)
            if len(page) < PAGE_SIZE:
                return
            after = page[-1].position

    def _decode(self, notification: Notification) -> tuple[Any, str] | None:
        """The stored event, read once: as the domain event, and as the canonical JSON of
        the data it stored (what the audit chain hashes)."""
        try:
            event = self.app.mapper.to_domain_event(notification)
            if not isinstance(event, AggregateEvent):
                data = audit.decode_data(self.app.mapper, notification)
                return event, audit.canonical_json(data)
            return event, audit.event_json(self.app.mapper, notification, event)
        except StoredEventError as error:  # a seal that does not hold (timebank.sealing)
            self.seals.refused(notification.id, error)
            return None
        except Exception as error:
            self.report(notification.id, "undecodable", f"{type(error).__name__}: {error}")
            return None

    def _check_link(
        self,
        notification: Notification,
        data_json: str,
        previous: str,
        expected: _Audited,
    ) -> None:
        """The stored event, linked to the recorded hash before it, gives the recorded hash."""
        recorded = expected.entry
        same_event = (
            data_json == recorded.data_json
            and notification.topic == recorded.topic
            and notification.originator_version == recorded.aggregate_version
            and str(notification.originator_id) == recorded.aggregate_id
        )
        # The same text under the same position was hashed already, with the same predecessor.
        link = expected.link if same_event else audit.chain_json(previous, notification, data_json)
        if link != recorded.hash:
            self.report(
                notification.id,
                "altered",
                f"{notification.topic} v{notification.originator_version} of "
                f"{notification.originator_id} differs from what the audit recorded"
                + _earlier_form(notification.topic, recorded.data_json),
            )

    def _check_version(self, notification: Notification) -> None:
        ident = notification.originator_id
        key = ident.bytes if isinstance(ident, UUID) else str(ident)
        last = self.versions.get(key, 0)
        version = notification.originator_version
        if version != last + 1:
            detail = f"version {version} of {ident} follows version {last}"
            self.report(notification.id, "out_of_order", detail)
        self.versions[key] = max(last, version)

    # The books -------------------------------------------------------------------------

    def _fold(self, position: int, event: Any) -> None:
        if not isinstance(event, AggregateEvent):
            return
        try:
            balances.apply(self.balances, event)
        except Exception as error:
            self.report(position, "inconsistent", f"{type(error).__name__}: {error}")
            return
        self._check_posting(position, event)

    def _check_posting(self, position: int, event: AggregateEvent) -> None:
        owner_id = self.balances.account_owner.get(event.originator_id)
        if owner_id is None:
            return
        owner = account_code(owner_id)
        expected: tuple[str, str] | None = None
        match event:
            case Account.Earned():
                expected = (ISSUANCE, owner)
            case Account.EarningReversed():
                expected = (owner, ISSUANCE)
            case Account.Redeemed():
                expected = (owner, REDEEMED)
            case Account.Expired():
                expected = (owner, EXPIRED)
            case Account.Gave(transfer_id=ref, minutes=minutes, credit=credit):
                expected = (owner, credit)
                self._match_transfer(position, ref, (minutes, owner, credit))
            case Account.Received(transfer_id=ref, minutes=minutes, debit=debit):
                expected = (debit, owner)
                self._match_transfer(position, ref, (minutes, debit, owner))
        if expected is not None:
            actual = (getattr(event, "debit", None), getattr(event, "credit", None))
            if actual != expected:
                self.report(position, "bad_posting", f"posts {actual}, expected {expected}")
        if self.balances.members[owner_id].available < 0:
            self.report(position, "overdraft", f"member {owner_id} went below zero")

    def _match_transfer(self, position: int, ref: UUID, leg: tuple[int, str, str]) -> None:
        other = self.open_transfers.pop(ref, None)
        if other is None:
            self.open_transfers[ref] = leg
        elif other != leg:
            self.report(position, "bad_posting", f"the two legs of transfer {ref} disagree")

    def _check_books(self) -> None:
        total = self.balances.total()
        if total != 0:
            self.report(None, "imbalance", f"accounts sum to {total} minutes, not zero")
        for ref in self.open_transfers:
            self.report(None, "bad_posting", f"transfer {ref} has only one leg")

    # Seals, meaning and kept checkpoints -----------------------------------------------

    def _observe(self, notification: Notification, data_json: str | None) -> None:
        """After the chain and the books: the event's seal, what it means beside the events
        before it, and the chain as stored, held against any kept checkpoint."""
        self.seals.stored(notification.id, notification.state)
        aggregate_id = id_text(notification.originator_id)
        if data_json is not None:
            self.meaning.apply_json(notification.id, notification.topic, aggregate_id, data_json)
        if self.watch.waiting:
            if self.head is not None and data_json is not None:
                self.head = audit.chain_json(
                    self.head, notification, data_json, aggregate_id=aggregate_id
                )
            else:
                self.head = None
            self.watch.event(notification.id, self.head, self._totals)

    def _observe_end(self) -> None:
        self.meaning.finish()
        self.watch.finish()
        covered = max((kept.position for kept in self.watch.extended), default=0)
        for finding in (
            *self.meaning.findings,
            *self.watch.findings,
            *self.seals.finish(covered_through=covered),
        ):
            self.report(*finding)

    def _totals(self) -> dict[str, int]:
        members = self.balances.members.values()
        return totals_of(
            sum(m.balance for m in members),
            sum(m.held for m in members),
            self.balances.system[ISSUANCE],
            self.balances.system[REDEEMED],
            self.balances.system[EXPIRED],
        )


class _Audited(NamedTuple):
    """A recorded audit entry, and the link its own stored text hashes to."""

    entry: audit.AuditEntry
    link: str


def _data_of(entry: audit.AuditEntry) -> dict[str, Any] | None:
    """The entry's data, or None if what is stored is not a JSON object."""
    try:
        data = entry.data
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _link(previous_hash: str, entry: audit.AuditEntry, data_json: str) -> str:
    """The link of an entry's recorded event with the given data."""
    return audit.link_of(
        previous_hash,
        position=entry.position,
        topic=entry.topic,
        aggregate_id=entry.aggregate_id,
        aggregate_version=entry.aggregate_version,
        data_json=data_json,
    )


def _earlier_form(topic: str, recorded_json: str) -> str:
    """A hint when the audit trail holds a credential's secrets, as trails written before
    they were left out did (see projections.redaction): then the event may well be intact."""
    fields = SECRET_FIELDS.get(topic, ())
    if any(f'"{name}":' in recorded_json for name in fields):
        return (
            " (the audit trail holds this credential's secrets, as trails written before "
            "they were left out do: see SECURITY.md for the upgrade)"
        )
    return ""
