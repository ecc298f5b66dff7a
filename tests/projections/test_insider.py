"""What an insider with write access to the database did, and what verify now reports.

Each case was tried from outside against `timebank verify`, which said "verified": rows
appended at the end of the log; a credit raised from 600 to 6000 minutes with the audit
trail chained again over it; the last events cut off together with their audit entries.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.cryptography import AESCipher
from eventsourcing.domain import AggregateEvent
from eventsourcing.utils import get_topic

from projections.auditor import Report, verify
from projections.checkpoints import Checkpoint, load_private_key, new_key_pair, sign_checkpoint
from projections.store import ViewStore
from tests.insider import cut_tail, drop_trail_from, set_state, stored
from tests.projections.events import make
from tests.projections.test_runner import busy_community
from tests.support import TZ, Community, fixed_clock, views_of
from timebank import TimeBank
from timebank.accounts import Account
from timebank.policy import Policy
from timebank.sealing import HEADER_BYTES, new_event_key
from timebank.service_logs import ServiceLog
from timebank.storage import ledger_env

EVENT_KEY = new_event_key()
PRIVATE, PUBLIC = new_key_pair()
SIGNING = load_private_key(PRIVATE)


def open_ledger(url: str, key: str | None = None, encryption: str | None = None) -> TimeBank:
    env = ledger_env(url, event_key=key, encryption_key=encryption)
    return TimeBank(env, policy=Policy(timezone=TZ), clock=fixed_clock)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    postgres: str = request.getfixturevalue("postgres_url")
    return postgres


def kinds(report: Report) -> set[tuple[int | None, str]]:
    return {(p.position, p.kind) for p in report.problems}


def checked(app: TimeBank, **options: object) -> Report:
    """As `timebank verify` does: the views and the audit trail catch up first."""
    with views_of(app) as views:
        return verify(app, views.store, **options)  # type: ignore[arg-type]


def signed(app: TimeBank, key: Ed25519PrivateKey = SIGNING) -> Checkpoint:
    """A checkpoint of the ledger as it stands, as `timebank checkpoint` signs one."""
    with views_of(app) as views:
        return sign_checkpoint(app, views.store, key)


def append(insider: TimeBank, *events: AggregateEvent) -> None:
    """Rows written straight into the events table through the library's recorder, by
    someone who has the database but not the event key."""
    insider.recorder.insert_events([insider.mapper.to_stored_event(e) for e in events])


def next_version(app: TimeBank, aggregate_id: UUID) -> int:
    return app.recorder.select_events(aggregate_id, desc=True, limit=1)[0].originator_version + 1


def earned(app: TimeBank, member: UUID, log_id: UUID, minutes: int, actor: UUID) -> AggregateEvent:
    account = Account.create_id(member)
    return make(
        Account.Earned,
        originator_id=account,
        originator_version=next_version(app, account),
        timestamp=datetime.now(UTC),
        actor_id=actor,
        service_log_id=log_id,
        minutes=minutes,
        debit="issuance",
        credit=f"member:{member}",
        service_date=None,
        expires_on=None,
        policy_version=1,
        decided_on=None,
    )


def a_day_of_service(app: TimeBank, c: Community) -> list[AggregateEvent]:
    """Case 1: a log, its approval naming a coordinator, and a credit of 1,440 minutes,
    each the event the ledger itself would write."""
    log_id, now = uuid4(), datetime.now(UTC)
    return [
        make(
            ServiceLog.Logged,
            originator_id=log_id,
            originator_version=1,
            timestamp=now,
            originator_topic=get_topic(ServiceLog),
            actor_id=c.li,
            volunteer_id=c.li,
            team_id=c.care_team,
            service_date=date(2026, 11, 19),
            minutes=1440,
            activity="home care",
            beneficiary=None,
            note=None,
            source=None,
            activity_id=None,
            pairing_id=None,
        ),
        make(
            ServiceLog.Approved,
            originator_id=log_id,
            originator_version=2,
            timestamp=now,
            actor_id=c.care_coordinator,
            minutes=1440,
            source=None,
            reason=None,
            certified_by_recorder=False,
        ),
        earned(app, c.li, log_id, 1440, c.care_coordinator),
    ]


# Case 1: rows appended at the end ------------------------------------------------------


def test_rows_appended_without_the_event_key_are_findings(url: str) -> None:
    app = open_ledger(url, EVENT_KEY)
    insider = open_ledger(url)  # the database, not the key
    try:
        c = busy_community(app)
        first = (app.recorder.max_notification_id() or 0) + 1
        append(insider, *a_day_of_service(insider, c))
        report = checked(app)
        [(position, kind, detail)] = [(p.position, p.kind, p.detail) for p in report.problems]
        assert (position, kind) == (first, "unsealed")
        assert "3 events" in detail
        assert "after sealing began" in detail
    finally:
        insider.close()
        app.close()


def test_rows_appended_under_a_copied_seal_are_forged(url: str) -> None:
    app = open_ledger(url, EVENT_KEY)
    insider = open_ledger(url)
    try:
        c = busy_community(app)
        _, real = stored(url, "timebank:Account.Earned")
        forged = insider.mapper.to_stored_event(earned(insider, c.li, uuid4(), 1440, c.admin))
        seal = real[:HEADER_BYTES]  # a real seal, taken from another event
        insider.recorder.insert_events(
            [
                type(forged)(
                    forged.originator_id,
                    forged.originator_version,
                    forged.topic,
                    seal + forged.state,
                )
            ]
        )
        position = app.recorder.max_notification_id()
        store = ViewStore.open(app, pool_size=2)  # no runner could fold it: verify as it is
        try:
            store.prepare()
            assert (position, "forged") in kinds(verify(app, store))
        finally:
            store.close()
    finally:
        insider.close()
        app.close()


def test_without_an_event_key_a_credit_no_approval_backs_is_a_finding(url: str) -> None:
    app = open_ledger(url)
    try:
        c = busy_community(app)
        append(app, earned(app, c.li, uuid4(), 1440, c.care_coordinator))
        report = checked(app)
        position = app.recorder.max_notification_id()
        assert kinds(report) == {(position, "unbacked")}
    finally:
        app.close()


# Case 2: a credit raised, and the audit trail chained again over it -----------------------


def test_a_raised_credit_chained_again_is_caught_by_its_meaning(url: str) -> None:
    app = open_ledger(url)
    try:
        c = busy_community(app)
        c.earn(c.wang, 600)
        checked(app)
        position, state = stored(url, "timebank:Account.Earned", last=True)
        assert b'"minutes":600' in state
        set_state(url, position, state.replace(b'"minutes":600', b'"minutes":6000'))
        drop_trail_from(url, position)
        rebuilt(app)  # views folded again: they agree with the forgery
        report = checked(app)  # the runner chains the forged event as it now stands
        found = {p.kind: (p.position, p.detail) for p in report.problems}
        assert set(found) == {"mismatch", "rule_breach"}
        assert found["mismatch"][0] == found["rule_breach"][0] == position
        assert "6000 minutes where 600 were approved" in found["mismatch"][1]
        assert "past the daily limit of 1440" in found["rule_breach"][1]
    finally:
        app.close()


# Case 3: the tail cut off, audit entries and all -----------------------------------------


def cut_and_tidy(url: str, app: TimeBank, events: int) -> None:
    """Cut the last events with their audit entries, and fold the views again, so that
    nothing but a copy kept elsewhere remembers them."""
    cut_tail(url, events)
    rebuilt(app)


def rebuilt(app: TimeBank) -> None:
    """`timebank rebuild`: the views folded again from the log as it stands."""
    with views_of(app) as views:
        views.runner.rebuild()


@pytest.mark.parametrize(
    ("encryption", "events"),
    [(None, 7), (AESCipher.create_key(32), 2)],
    ids=["clear", "encrypted"],
)
def test_a_cut_tail_is_caught_by_a_checkpoint_signed_before(
    url: str, encryption: str | None, events: int
) -> None:
    app = open_ledger(url, encryption=encryption)
    try:
        busy_community(app)
        kept = signed(app)
        cut_and_tidy(url, app, events)
        after_cut = checked(app)
        assert not {k for _, k in kinds(after_cut)} & {"missing", "altered", "unrecorded"}
        report = checked(app, checkpoints=[kept], trusted_keys=[SIGNING.public_key()])
        assert (kept.position, "checkpoint_not_extended") in kinds(report)
        [detail] = [p.detail for p in report.problems if p.kind == "checkpoint_not_extended"]
        assert f"short of its position {kept.position}" in detail
    finally:
        app.close()


def test_a_rewrite_below_a_checkpoint_is_caught_even_with_the_event_key(url: str) -> None:
    """Someone holding the event key seals what they like; the checkpoint still holds."""
    app = open_ledger(url, EVENT_KEY)
    try:
        c = busy_community(app)
        kept = signed(app)
        cut_and_tidy(url, app, 3)  # the gift, gone
    finally:
        app.close()
    app = open_ledger(url, EVENT_KEY)  # the key holder, with a ledger as it now stands
    try:
        app.transfer(actor_id=c.zhao, to_member_id=c.li, minutes=100)  # another, in its place
        report = checked(app, checkpoints=[kept], trusted_keys=[SIGNING.public_key()])
        assert (kept.position, "checkpoint_not_extended") in kinds(report)
        assert not {k for _, k in kinds(report)} - {"checkpoint_not_extended"}
    finally:
        app.close()


def test_a_checkpoint_the_insider_signed_is_not_trusted(url: str) -> None:
    app = open_ledger(url)
    try:
        busy_community(app)
        kept = signed(app, load_private_key(new_key_pair()[0]))
        report = checked(app, checkpoints=[kept], trusted_keys=[SIGNING.public_key()])
        assert kinds(report) == {(kept.position, "bad_signature")}
    finally:
        app.close()


# Events stored before the key ------------------------------------------------------------


def test_events_stored_before_the_key_are_one_finding_until_a_checkpoint_vouches(
    url: str,
) -> None:
    before = open_ledger(url)
    try:
        c = busy_community(before)
        legacy = before.recorder.max_notification_id()
    finally:
        before.close()
    app = open_ledger(url, EVENT_KEY)
    try:
        app.transfer(actor_id=c.li, to_member_id=c.grandma, minutes=5)
        report = checked(app)
        [(position, kind, detail)] = [(p.position, p.kind, p.detail) for p in report.problems]
        assert (position, kind) == (1, "unsealed")
        assert f"{legacy} events from position 1 to {legacy}" in detail
        kept = signed(app)
        assert checked(app, checkpoints=[kept], trusted_keys=[SIGNING.public_key()]).ok
    finally:
        app.close()
