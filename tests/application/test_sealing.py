"""Event seals: with an event key, no stored event is forged, edited, copied or moved unseen."""

from __future__ import annotations

import base64
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import StoredEvent

from api.settings import Settings
from tests.cli.test_insider_commands import forged_earning
from tests.insider import run, set_state, stored
from tests.support import TZ, Community, build_community, fixed_clock
from timebank import TimeBank
from timebank.accounts import Account
from timebank.policy import Policy
from timebank.sealing import (
    MAGIC,
    EventKeyMissingError,
    ForgedEventError,
    StoreKeyError,
    UnknownEventKeyError,
    check_store_keys,
    new_event_key,
)
from timebank.storage import SettingError, ledger_env

KEY = new_event_key()


def open_sealed(
    url: str,
    key: str | None = KEY,
    *,
    previous: str | None = None,
    encryption: str | None = None,
) -> TimeBank:
    env = ledger_env(url, event_key=key, previous_event_keys=previous, encryption_key=encryption)
    return TimeBank(env, policy=Policy(timezone=TZ), clock=fixed_clock)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store an insider can write to with SQL: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sealed.db'}"
    postgres: str = request.getfixturevalue("postgres_url")
    return postgres


def sealed_community(url: str, **keys: str | None) -> Community:
    app = open_sealed(url, **keys)
    community = build_community(app)
    community.earn(community.li, 60)
    app.close()
    return community


def account_of(app: TimeBank, member: UUID) -> Account:
    account: Account = app.repository.get(Account.create_id(member))
    assert isinstance(account, Account)
    return account


def test_every_stored_event_carries_a_seal_and_reads_back(url: str) -> None:
    c = sealed_community(url)
    states = run(url, "SELECT state FROM {events}")
    assert states
    assert all(bytes(state).startswith(MAGIC) for (state,) in states)
    app = open_sealed(url)
    try:
        assert account_of(app, c.li).earned == 60
    finally:
        app.close()


def test_an_edited_event_does_not_decode(url: str) -> None:
    c = sealed_community(url)
    position, state = stored(url, "timebank:Account.Earned")
    forged = state.replace(b'"minutes":60', b'"minutes":600')
    assert forged != state
    set_state(url, position, forged)
    app = open_sealed(url)
    try:
        with pytest.raises(ForgedEventError) as refused:
            account_of(app, c.li)
        assert refused.value.kind == "forged"
        assert "Account.Earned" in str(refused.value)
    finally:
        app.close()


@pytest.mark.parametrize(
    "statement",
    [
        # Another event's type over the same data.
        "UPDATE {events} SET topic = 'timebank:Account.EarningReversed' WHERE {pos} = ?",
        # Moved to another place in the aggregate's history.
        "UPDATE {events} SET originator_version = originator_version + 100 WHERE {pos} = ?",
    ],
)
def test_a_changed_header_does_not_decode_even_when_encrypted(url: str, statement: str) -> None:
    """AES-GCM authenticates the state, not the aggregate id, version and topic beside it:
    without an event key, an Earned relabelled as an EarningReversed decodes as one."""
    encryption = AESCipher.create_key(32)
    c = sealed_community(url, encryption=encryption)
    position, _ = stored(url, "timebank:Account.Earned")
    run(url, statement, (position,))
    app = open_sealed(url, encryption=encryption)
    try:
        with pytest.raises(ForgedEventError):
            account_of(app, c.li)
    finally:
        app.close()


def test_without_an_event_key_encryption_alone_lets_a_relabelled_event_through(url: str) -> None:
    encryption = AESCipher.create_key(32)
    c = sealed_community(url, key=None, encryption=encryption)
    position, _ = stored(url, "timebank:Account.Earned")
    run(
        url,
        "UPDATE {events} SET topic = 'timebank:Account.EarningReversed' WHERE {pos} = ?",
        (position,),
    )
    app = open_sealed(url, key=None, encryption=encryption)
    try:
        assert account_of(app, c.li).earned == -60  # what the seal is there to stop
    finally:
        app.close()


def test_an_event_copied_to_another_aggregate_does_not_decode(url: str) -> None:
    sealed_community(url)
    app = open_sealed(url)
    try:
        original = next(
            n
            for n in app.recorder.select_notifications(start=1, limit=1000)
            if n.topic == "timebank:Account.Earned"
        )
        copy_id = uuid4()
        app.recorder.insert_events(
            [StoredEvent(copy_id, original.originator_version, original.topic, original.state)]
        )
        with pytest.raises(ForgedEventError):
            app.mapper.to_domain_event(app.recorder.select_events(copy_id)[0])
    finally:
        app.close()


def test_an_event_written_with_another_key_is_refused(url: str) -> None:
    c = sealed_community(url)
    insider = open_sealed(url, key=new_event_key())  # a key of the insider's own
    try:
        with pytest.raises(UnknownEventKeyError):  # it cannot even read the ledger's rules
            insider.register_member(actor_id=c.admin, name="Nobody")
        forged_earning(insider, c.li)  # but it can write, through the library's recorder
    finally:
        insider.close()
    app = open_sealed(url)
    try:
        with pytest.raises(UnknownEventKeyError):
            app.get_account(c.li)
    finally:
        app.close()


def test_keys_rotate_seals_made_with_a_previous_key_still_read(url: str) -> None:
    c = sealed_community(url)
    new = new_event_key()
    rotated = open_sealed(url, key=new, previous=KEY)
    try:
        assert account_of(rotated, c.li).earned == 60
        log = rotated.log_service(
            actor_id=c.li,
            team_id=c.care_team,
            service_date=fixed_clock().date(),
            minutes=30,
            activity="visit",
        )
    finally:
        rotated.close()
    only_new = open_sealed(url, key=new)
    try:
        assert only_new.repository.get(log.id).minutes == 30  # sealed with the new key
        with pytest.raises(UnknownEventKeyError):
            account_of(only_new, c.li)  # its events were sealed with the previous key
    finally:
        only_new.close()


def test_events_stored_before_the_key_was_set_stay_readable(url: str) -> None:
    c = sealed_community(url, key=None)
    app = open_sealed(url)
    try:
        assert account_of(app, c.li).earned == 60
        assert not app.recorder.select_events(c.li)[0].state.startswith(MAGIC)
        c2 = build_community(app)
        assert app.recorder.select_events(c2.li)[0].state.startswith(MAGIC)
    finally:
        app.close()


def test_a_sealed_store_read_without_its_key_is_refused(url: str) -> None:
    c = sealed_community(url)
    app = open_sealed(url, key=None)
    try:
        with pytest.raises(EventKeyMissingError):
            app.get_member(c.li)
        with pytest.raises(StoreKeyError, match="set TIMEBANK_EVENT_KEY"):
            check_store_keys(app)
    finally:
        app.close()


@pytest.mark.parametrize(
    ("written", "read", "message"),
    [
        ({"key": None, "encryption": "A"}, {"key": None}, "the store's events are encrypted"),
        ({"key": None, "encryption": "A"}, {"key": None, "encryption": "B"}, "cannot be decrypted"),
        ({"key": None}, {"key": None, "encryption": "B"}, "cannot be decrypted"),
        ({}, {"key": None}, "the store's events are sealed; set TIMEBANK_EVENT_KEY"),
        ({}, {"key": "other"}, "sealed with another key"),
    ],
)
def test_a_store_opened_with_the_wrong_keys_says_which_key_to_set(
    url: str, written: dict[str, str | None], read: dict[str, str | None], message: str
) -> None:
    keys = {"A": AESCipher.create_key(32), "B": AESCipher.create_key(32), "other": new_event_key()}

    def chosen(given: dict[str, str | None]) -> dict[str, str | None]:
        return {name: keys.get(value or "", value) for name, value in given.items()}

    sealed_community(url, **chosen(written))
    app = open_sealed(url, **chosen(read))
    try:
        with pytest.raises(StoreKeyError, match=message):
            check_store_keys(app)
    finally:
        app.close()


def test_one_forged_event_at_the_end_is_left_for_verify_to_report(url: str) -> None:
    """Refusing to open over one bad event would keep verify from reporting it."""
    sealed_community(url)
    position, state = stored(url, "timebank:Account.Earned", last=True)
    set_state(url, position, state.replace(b'"minutes":60', b'"minutes":61'))
    app = open_sealed(url)
    try:
        check_store_keys(app)  # refuses nothing
    finally:
        app.close()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"event_key": "not base64!"}, "must be base64"),
        ({"event_key": base64.b64encode(b"short").decode()}, "must decode to 32 bytes"),
        ({"previous_event_keys": KEY}, "only beside"),
        ({"event_key": KEY, "previous_event_keys": f"{KEY},not base64!"}, "must be base64"),
    ],
)
def test_event_keys_are_checked_like_every_other_setting(
    settings: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SettingError, match=message):
        ledger_env(
            "memory://",
            event_key=settings.get("event_key"),
            previous_event_keys=settings.get("previous_event_keys"),
        )
    for name, value in settings.items():
        monkeypatch.setenv(f"TIMEBANK_{name.upper()}", value)
    with pytest.raises(ValueError, match=message):
        Settings()
