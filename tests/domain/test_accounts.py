"""Accounts: double-entry postings, holds and limits; given events -> one command -> events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from copy import deepcopy
from datetime import date, timedelta
from itertools import count
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import CanMutateAggregate
from hypothesis import given
from hypothesis import strategies as st

from timebank.accounts import EXPIRED, ISSUANCE, REDEEMED, Account, account_code
from timebank.errors import (
    BalanceCapExceededError,
    DailyLimitExceededError,
    InsufficientMinutesError,
    InvalidRequestError,
    InvalidStateError,
)
from timebank.lots import NEVER
from timebank.policies import PolicyVersion, Rules

SYSTEM_ID = uuid4()
COORDINATOR_ID = uuid4()
CAP = 1500 * 60  # Nanjing's cap of 1,500 hours
DAY = date(2026, 11, 20)
SERVICE_DAYS = count()


def version(cap: int | None = None, **given: Any) -> PolicyVersion:
    """Rules in force (version 1) with a cap and whatever else the test gives."""
    return PolicyVersion(
        1, date(1900, 1, 1), Rules(balance_cap_minutes=cap, **given), SYSTEM_ID, ""
    )


def rules(cap: int | None = None, day: date = DAY, **given: Any) -> dict[str, Any]:
    """The rules and calendar arguments of an earning, served and credited on `day`."""
    return {"service_date": day, "policy": version(cap, **given), "today": day}


def opened(member_id: UUID | None = None) -> Account:
    """Given: a member's empty account, its opening already recorded."""
    account = Account(actor_id=SYSTEM_ID, member_id=member_id or uuid4())
    account.collect_events()
    return account


def with_balance(minutes: int, *, held: int = 0) -> tuple[Account, UUID | None]:
    """Given: an account that earned `minutes` (a day's at most each service day), with
    `held` of them held for one redemption."""
    account = opened()
    for offset, start in enumerate(range(0, minutes, 1440)):
        account.earn(
            actor_id=COORDINATOR_ID,
            service_log_id=uuid4(),
            minutes=min(1440, minutes - start),
            **rules(cap=None, day=DAY - timedelta(days=offset + 1)),
        )
    redemption_id = None
    if held:
        redemption_id = uuid4()
        account.hold(actor_id=account.member_id, redemption_id=redemption_id, minutes=held)
    account.collect_events()
    return account, redemption_id


def with_hold(balance: int, held: int) -> tuple[Account, UUID]:
    account, redemption_id = with_balance(balance, held=held)
    assert redemption_id is not None
    return account, redemption_id


def figures(account: Account) -> tuple[int, int, int]:
    """What a member sees on their statement: balance, held, available."""
    return account.balance, account.held, account.available


# Opening


def test_an_account_id_follows_from_its_member_id() -> None:
    member_id = uuid4()

    account = Account(actor_id=SYSTEM_ID, member_id=member_id)

    assert account.id == Account.create_id(member_id)
    assert Account.create_id(member_id) == Account.create_id(UUID(str(member_id)))
    assert account.id.version == 5


def test_different_members_get_different_accounts() -> None:
    assert Account.create_id(uuid4()) != Account.create_id(uuid4())


def test_an_account_is_not_named_after_its_member_id_itself() -> None:
    member_id = uuid4()

    assert Account.create_id(member_id) != member_id


def test_opening_an_account_records_whose_it_is_and_starts_empty() -> None:
    member_id = uuid4()

    account = Account(actor_id=SYSTEM_ID, member_id=member_id)

    [e] = account.collect_events()
    assert isinstance(e, Account.Opened)
    assert e.member_id == member_id
    assert e.actor_id == SYSTEM_ID
    assert account.code == account_code(member_id) == f"member:{member_id}"
    assert figures(account) == (0, 0, 0)


# Earning and reversing


def test_earning_moves_minutes_from_issuance_to_the_member() -> None:
    account = opened()
    log_id = uuid4()

    account.earn(actor_id=COORDINATOR_ID, service_log_id=log_id, minutes=90, **rules(cap=CAP))

    [e] = account.collect_events()
    assert isinstance(e, Account.Earned)
    assert e.service_log_id == log_id
    assert e.minutes == 90
    assert e.debit == ISSUANCE == "issuance"
    assert e.credit == account_code(account.member_id)
    assert e.actor_id == COORDINATOR_ID
    assert account.earned == 90
    assert figures(account) == (90, 0, 90)


def test_earning_up_to_the_cap_exactly_is_allowed() -> None:
    account, _ = with_balance(CAP - 60)

    account.earn(actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=60, **rules(cap=CAP))

    [e] = account.collect_events()
    assert isinstance(e, Account.Earned)
    assert account.balance == CAP


def test_earning_beyond_the_cap_is_refused_and_records_nothing() -> None:
    account, _ = with_balance(CAP - 60)

    with pytest.raises(BalanceCapExceededError) as refused:
        account.earn(actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=61, **rules(cap=CAP))

    assert refused.value.member_id == account.member_id
    assert refused.value.balance == CAP - 60
    assert refused.value.minutes == 61
    assert refused.value.cap == CAP
    assert account.collect_events() == []
    assert figures(account) == (CAP - 60, 0, CAP - 60)


def test_held_minutes_still_count_towards_the_cap() -> None:
    account, _ = with_hold(CAP, held=600)

    with pytest.raises(BalanceCapExceededError):
        account.earn(actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=1, **rules(cap=CAP))

    assert account.collect_events() == []


def test_without_a_cap_any_amount_can_be_earned() -> None:
    account, _ = with_balance(CAP)

    account.earn(actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=1440, **rules(cap=None))

    assert account.balance == CAP + 1440


def test_reversing_an_earning_moves_the_minutes_back_to_issuance() -> None:
    account, _ = with_balance(90)
    log_id = uuid4()

    account.reverse_earning(
        actor_id=COORDINATOR_ID, service_log_id=log_id, minutes=90, service_date=DAY
    )

    [e] = account.collect_events()
    assert isinstance(e, Account.EarningReversed)
    assert e.service_log_id == log_id
    assert e.minutes == 90
    assert e.debit == account_code(account.member_id)
    assert e.credit == ISSUANCE
    assert e.actor_id == COORDINATOR_ID
    assert account.earned == 0
    assert figures(account) == (0, 0, 0)


def test_a_reversal_that_would_overdraw_the_account_is_refused() -> None:
    account, _ = with_hold(90, held=60)

    with pytest.raises(InsufficientMinutesError) as refused:
        account.reverse_earning(
            actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=90, service_date=DAY
        )

    assert refused.value.member_id == account.member_id
    assert refused.value.requested == 90
    assert refused.value.available == 30
    assert account.collect_events() == []
    assert figures(account) == (90, 60, 30)


# Holding, releasing, redeeming


def test_holding_reserves_minutes_without_spending_them() -> None:
    account, _ = with_balance(120)
    redemption_id = uuid4()

    account.hold(actor_id=account.member_id, redemption_id=redemption_id, minutes=50)

    [e] = account.collect_events()
    assert isinstance(e, Account.Held)
    assert e.redemption_id == redemption_id
    assert e.minutes == 50
    assert e.actor_id == account.member_id
    assert figures(account) == (120, 50, 70)


def test_every_available_minute_can_be_held() -> None:
    account, _ = with_hold(120, held=50)

    account.hold(actor_id=account.member_id, redemption_id=uuid4(), minutes=70)

    assert figures(account) == (120, 120, 0)


def test_holding_more_than_is_available_is_refused_and_records_nothing() -> None:
    account, _ = with_hold(120, held=50)

    with pytest.raises(InsufficientMinutesError) as refused:
        account.hold(actor_id=account.member_id, redemption_id=uuid4(), minutes=71)

    assert refused.value.member_id == account.member_id
    assert refused.value.requested == 71
    assert refused.value.available == 70
    assert account.collect_events() == []
    assert figures(account) == (120, 50, 70)


def test_releasing_a_hold_makes_its_minutes_available_again() -> None:
    account, redemption_id = with_hold(120, held=50)

    account.release(actor_id=COORDINATOR_ID, redemption_id=redemption_id)

    [e] = account.collect_events()
    assert isinstance(e, Account.Released)
    assert e.redemption_id == redemption_id
    assert e.minutes == 50
    assert e.actor_id == COORDINATOR_ID
    assert figures(account) == (120, 0, 120)


def test_redeeming_a_hold_spends_its_minutes_into_the_redeemed_account() -> None:
    account, redemption_id = with_hold(120, held=50)

    account.redeem(actor_id=COORDINATOR_ID, redemption_id=redemption_id)

    [e] = account.collect_events()
    assert isinstance(e, Account.Redeemed)
    assert e.redemption_id == redemption_id
    assert e.minutes == 50
    assert e.debit == account_code(account.member_id)
    assert e.credit == REDEEMED == "redeemed"
    assert e.actor_id == COORDINATOR_ID
    assert account.redeemed == 50
    assert figures(account) == (70, 0, 70)


def test_redeeming_one_hold_leaves_the_others_held() -> None:
    account, first = with_hold(120, held=50)
    account.hold(actor_id=account.member_id, redemption_id=uuid4(), minutes=30)
    account.collect_events()

    account.redeem(actor_id=COORDINATOR_ID, redemption_id=first)

    assert figures(account) == (70, 30, 40)


def test_an_unknown_hold_cannot_be_released() -> None:
    account, _ = with_hold(120, held=50)
    unknown = uuid4()

    with pytest.raises(InvalidStateError) as refused:
        account.release(actor_id=COORDINATOR_ID, redemption_id=unknown)

    assert refused.value.id == unknown
    assert account.collect_events() == []
    assert figures(account) == (120, 50, 70)


def test_an_unknown_hold_cannot_be_redeemed() -> None:
    account, _ = with_hold(120, held=50)
    unknown = uuid4()

    with pytest.raises(InvalidStateError) as refused:
        account.redeem(actor_id=COORDINATOR_ID, redemption_id=unknown)

    assert refused.value.id == unknown
    assert account.collect_events() == []
    assert figures(account) == (120, 50, 70)
    assert account.redeemed == 0


def test_a_redeemed_hold_cannot_be_released_afterwards() -> None:
    account, redemption_id = with_hold(120, held=50)
    account.redeem(actor_id=COORDINATOR_ID, redemption_id=redemption_id)
    account.collect_events()

    with pytest.raises(InvalidStateError):
        account.release(actor_id=COORDINATOR_ID, redemption_id=redemption_id)

    assert account.collect_events() == []
    assert figures(account) == (70, 0, 70)


def test_a_released_hold_cannot_be_redeemed_afterwards() -> None:
    account, redemption_id = with_hold(120, held=50)
    account.release(actor_id=COORDINATOR_ID, redemption_id=redemption_id)
    account.collect_events()

    with pytest.raises(InvalidStateError):
        account.redeem(actor_id=COORDINATOR_ID, redemption_id=redemption_id)

    assert account.collect_events() == []
    assert figures(account) == (120, 0, 120)


# Giving and receiving


def test_giving_moves_minutes_from_the_giver_to_the_receiver() -> None:
    account, _ = with_balance(120)
    transfer_id, daughter_id = uuid4(), uuid4()

    account.give(
        actor_id=account.member_id, transfer_id=transfer_id, to_member_id=daughter_id, minutes=45
    )

    [e] = account.collect_events()
    assert isinstance(e, Account.Gave)
    assert e.transfer_id == transfer_id
    assert e.to_member_id == daughter_id
    assert e.minutes == 45
    assert e.debit == account_code(account.member_id)
    assert e.credit == account_code(daughter_id)
    assert e.actor_id == account.member_id
    assert account.given == 45
    assert figures(account) == (75, 0, 75)


def test_held_minutes_cannot_be_given() -> None:
    account, _ = with_hold(100, held=70)

    with pytest.raises(InsufficientMinutesError) as refused:
        account.give(
            actor_id=account.member_id, transfer_id=uuid4(), to_member_id=uuid4(), minutes=31
        )

    assert refused.value.requested == 31
    assert refused.value.available == 30
    assert account.collect_events() == []
    assert figures(account) == (100, 70, 30)


def test_every_available_minute_can_be_given() -> None:
    account, _ = with_hold(100, held=70)

    account.give(actor_id=account.member_id, transfer_id=uuid4(), to_member_id=uuid4(), minutes=30)

    assert figures(account) == (70, 70, 0)


def test_receiving_credits_the_receiver_from_the_giver() -> None:
    account = opened()
    transfer_id, father_id = uuid4(), uuid4()

    account.receive(
        actor_id=father_id,
        transfer_id=transfer_id,
        from_member_id=father_id,
        minutes=45,
        given=[(NEVER, 45)],
        policy=version(cap=CAP),
        today=DAY,
    )

    [e] = account.collect_events()
    assert isinstance(e, Account.Received)
    assert e.transfer_id == transfer_id
    assert e.from_member_id == father_id
    assert e.minutes == 45
    assert e.debit == account_code(father_id)
    assert e.credit == account_code(account.member_id)
    assert e.actor_id == father_id
    assert account.received == 45
    assert figures(account) == (45, 0, 45)


def test_receiving_beyond_the_cap_is_refused_and_records_nothing() -> None:
    account, _ = with_balance(CAP - 30)

    with pytest.raises(BalanceCapExceededError) as refused:
        account.receive(
            actor_id=SYSTEM_ID,
            transfer_id=uuid4(),
            from_member_id=uuid4(),
            minutes=31,
            given=[(NEVER, 31)],
            policy=version(cap=CAP),
            today=DAY,
        )

    assert refused.value.balance == CAP - 30
    assert refused.value.minutes == 31
    assert refused.value.cap == CAP
    assert account.collect_events() == []
    assert account.received == 0
    assert account.balance == CAP - 30


def test_a_gift_and_its_receipt_post_the_same_entry_on_both_accounts() -> None:
    giver, _ = with_balance(120)
    receiver = opened()
    transfer_id = uuid4()

    giver.give(
        actor_id=giver.member_id,
        transfer_id=transfer_id,
        to_member_id=receiver.member_id,
        minutes=45,
    )
    receiver.receive(
        actor_id=giver.member_id,
        transfer_id=transfer_id,
        from_member_id=giver.member_id,
        minutes=45,
        given=[(NEVER, 45)],
        policy=version(cap=CAP),
        today=DAY,
    )

    [gave] = giver.collect_events()
    [received] = receiver.collect_events()
    assert isinstance(gave, Account.Gave)
    assert isinstance(received, Account.Received)
    assert (gave.debit, gave.credit, gave.minutes) == (
        received.debit,
        received.credit,
        received.minutes,
    )


# The arithmetic of the statement


def test_balance_is_earned_minus_redeemed_plus_received_minus_given_and_available_less_held() -> (
    None
):
    account = opened()
    account.earn(actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=300, **rules(cap=CAP))
    account.reverse_earning(
        actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=60, service_date=DAY
    )
    account.receive(
        actor_id=SYSTEM_ID,
        transfer_id=uuid4(),
        from_member_id=uuid4(),
        minutes=50,
        given=[(NEVER, 50)],
        policy=version(cap=CAP),
        today=DAY,
    )
    account.give(actor_id=SYSTEM_ID, transfer_id=uuid4(), to_member_id=uuid4(), minutes=40)
    spent, kept = uuid4(), uuid4()
    account.hold(actor_id=SYSTEM_ID, redemption_id=spent, minutes=100)
    account.hold(actor_id=SYSTEM_ID, redemption_id=kept, minutes=20)
    account.redeem(actor_id=COORDINATOR_ID, redemption_id=spent)

    assert (account.earned, account.redeemed, account.received, account.given) == (
        240,
        100,
        50,
        40,
    )
    assert figures(account) == (150, 20, 130)


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["earn", "reverse", "hold", "release", "redeem", "give", "receive"]),
        st.integers(min_value=1, max_value=600),
    ),
    max_size=30,
)


@given(OPERATIONS)
def test_whatever_happens_available_never_goes_below_zero_and_the_postings_add_up(
    operations: list[tuple[str, int]],
) -> None:
    account = opened()
    holds: list[UUID] = []
    for name, minutes in operations:
        version = account.version
        try:
            apply(account, name, minutes, holds)
        except (InsufficientMinutesError, BalanceCapExceededError, InvalidStateError):
            assert account.version == version  # a refusal records nothing
        assert account.held >= 0
        assert account.available >= 0

    totals: Counter[str] = Counter()
    for e in account.collect_events():
        if isinstance(
            e,
            Account.Earned
            | Account.EarningReversed
            | Account.Redeemed
            | Account.Gave
            | Account.Received,
        ):
            totals[e.debit] -= e.minutes
            totals[e.credit] += e.minutes
    assert totals[account.code] == account.balance
    assert totals[ISSUANCE] == -account.earned
    assert totals[REDEEMED] == account.redeemed
    assert sum(totals.values()) == 0


def apply(account: Account, name: str, minutes: int, holds: list[UUID]) -> None:
    """Carry out one command of the property test above, with made-up counterparties."""
    other = uuid4()
    if name == "earn":
        day = DAY - timedelta(days=next(SERVICE_DAYS))  # one earning a day: within its limit
        account.earn(
            actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=minutes, **rules(1200, day)
        )
    elif name == "reverse":
        account.reverse_earning(
            actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=minutes, service_date=DAY
        )
    elif name == "hold":
        holds.append(uuid4())
        account.hold(actor_id=SYSTEM_ID, redemption_id=holds[-1], minutes=minutes)
    elif name == "release" and holds:
        account.release(actor_id=SYSTEM_ID, redemption_id=holds.pop(minutes % len(holds)))
    elif name == "redeem" and holds:
        account.redeem(actor_id=SYSTEM_ID, redemption_id=holds.pop(minutes % len(holds)))
    elif name == "give":
        account.give(actor_id=SYSTEM_ID, transfer_id=uuid4(), to_member_id=other, minutes=minutes)
    elif name == "receive":
        account.receive(
            actor_id=other,
            transfer_id=uuid4(),
            from_member_id=other,
            minutes=minutes,
            given=[(NEVER, minutes)],
            policy=version(cap=1200),
            today=DAY,
        )


# The account checks its minutes itself rather than trusting its callers to.


@pytest.mark.parametrize("minutes", [0, -50])
def test_holding_no_or_negative_minutes_is_refused(minutes: int) -> None:
    account, _ = with_balance(100)

    with pytest.raises(InvalidRequestError):
        account.hold(actor_id=account.member_id, redemption_id=uuid4(), minutes=minutes)

    assert account.collect_events() == []
    assert figures(account) == (100, 0, 100)


@pytest.mark.parametrize("minutes", [0, -50])
def test_giving_no_or_negative_minutes_is_refused(minutes: int) -> None:
    account, _ = with_balance(100)

    with pytest.raises(InvalidRequestError):
        account.give(
            actor_id=account.member_id, transfer_id=uuid4(), to_member_id=uuid4(), minutes=minutes
        )

    assert account.collect_events() == []
    assert figures(account) == (100, 0, 100)


def test_holding_twice_for_the_same_redemption_is_refused() -> None:
    account, redemption_id = with_hold(100, held=30)

    with pytest.raises(InvalidStateError):
        account.hold(actor_id=account.member_id, redemption_id=redemption_id, minutes=40)

    assert account.collect_events() == []
    assert figures(account) == (100, 30, 70)


def test_replaying_the_events_reproduces_the_account() -> None:
    member_id = uuid4()
    account = Account(actor_id=SYSTEM_ID, member_id=member_id)
    account.earn(actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=300, **rules(cap=CAP))
    account.reverse_earning(
        actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=60, service_date=DAY
    )
    account.receive(
        actor_id=SYSTEM_ID,
        transfer_id=uuid4(),
        from_member_id=uuid4(),
        minutes=50,
        given=[(NEVER, 50)],
        policy=version(cap=CAP),
        today=DAY,
    )
    account.give(actor_id=member_id, transfer_id=uuid4(), to_member_id=uuid4(), minutes=40)
    spent, released, kept = uuid4(), uuid4(), uuid4()
    account.hold(actor_id=member_id, redemption_id=spent, minutes=100)
    account.hold(actor_id=member_id, redemption_id=released, minutes=10)
    account.hold(actor_id=member_id, redemption_id=kept, minutes=20)
    account.redeem(actor_id=COORDINATOR_ID, redemption_id=spent)
    account.release(actor_id=COORDINATOR_ID, redemption_id=released)

    copy = replay(account.collect_events())

    assert copy.id == account.id == Account.create_id(member_id)
    assert copy.version == account.version == 10
    assert copy.member_id == member_id
    assert (copy.earned, copy.redeemed, copy.received, copy.given) == (240, 100, 50, 40)
    assert copy.holds == {kept.hex: 20}
    assert figures(copy) == figures(account) == (150, 20, 130)


def test_a_copy_changed_by_a_command_leaves_the_original_as_it_was() -> None:
    """Commands change a copy of the cached account (`Account.__deepcopy__` copies only
    what can change); a refused or unsaved change must leave the cache's account alone."""
    original, kept = with_hold(100, held=30)
    assert kept is not None
    original.collect_events()
    changed = deepcopy(original)
    changed.hold(actor_id=changed.member_id, redemption_id=uuid4(), minutes=20)
    changed.redeem(actor_id=COORDINATOR_ID, redemption_id=kept)
    assert figures(changed) == (70, 20, 50)
    assert figures(original) == (100, 30, 70)
    assert original.holds == {kept.hex: 30}
    assert (original.version, original.collect_events()) == (changed.version - 2, [])
    # Every other attribute is immutable and shared; a new mutable one needs copying too.
    mutable = {
        name for name, value in vars(changed).items() if isinstance(value, list | dict | set)
    }
    assert mutable == {"holds", "held_lots", "lots", "daily", "_pending_events"}
    assert original.lots == {NEVER: 70}


def replay(events: Sequence[CanMutateAggregate[UUID]]) -> Account:
    """Rebuild an account from its recorded events alone, as a repository would."""
    copy: Account | None = None
    for e in events:
        copy = e.mutate(copy)
    assert copy is not None
    return copy


# The community's rules at the account: a day's limit, lots, expiry -----------------------


def test_nobody_is_credited_more_than_the_days_limit_for_one_service_day() -> None:
    account = opened()
    account.earn(actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=1000, **rules())

    with pytest.raises(DailyLimitExceededError) as refused:
        account.earn(actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=441, **rules())

    assert (refused.value.limit, refused.value.already, refused.value.minutes) == (1440, 1000, 441)
    assert "past the daily limit of 1440 minutes (1000 already credited that day)" in str(
        refused.value
    )
    account.earn(actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=440, **rules())
    account.earn(
        actor_id=COORDINATOR_ID,
        service_log_id=uuid4(),
        minutes=600,
        **rules(day=DAY - timedelta(days=1)),
    )
    assert account.balance == 2040


def test_a_reversal_gives_the_day_its_minutes_back() -> None:
    account = opened()
    log = uuid4()
    account.earn(actor_id=COORDINATOR_ID, service_log_id=log, minutes=1440, **rules())
    account.reverse_earning(
        actor_id=COORDINATOR_ID, service_log_id=log, minutes=1440, service_date=DAY
    )

    account.earn(actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=1440, **rules())

    assert account.balance == 1440


def test_minutes_expire_from_their_lot_into_the_expired_account_and_the_books_balance() -> None:
    account = opened()
    later = DAY + timedelta(days=40)
    account.earn(
        actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=90, **rules(expiry_months=1)
    )
    account.earn(
        actor_id=COORDINATOR_ID,
        service_log_id=uuid4(),
        minutes=60,
        **rules(day=DAY + timedelta(days=20), expiry_months=1),
    )
    account.collect_events()
    assert account.expiring() == [(date(2026, 12, 20), 90), (date(2027, 1, 10), 60)]

    expired = account.expire(actor_id=SYSTEM_ID, today=later)

    [event] = account.collect_events()
    assert isinstance(event, Account.Expired)
    assert (event.expires_on, event.minutes, event.debit, event.credit) == (
        date(2026, 12, 20),
        90,
        account.code,
        EXPIRED,
    )
    assert (expired, account.balance, account.expiring()) == (90, 60, [(date(2027, 1, 10), 60)])
    assert account.expire(actor_id=SYSTEM_ID, today=later) == 0


def test_held_minutes_never_expire_and_come_back_as_the_lots_they_were() -> None:
    account = opened()
    held = uuid4()
    account.earn(
        actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=90, **rules(expiry_months=1)
    )
    account.hold(actor_id=SYSTEM_ID, redemption_id=held, minutes=60)

    assert account.expire(actor_id=SYSTEM_ID, today=DAY + timedelta(days=40)) == 30
    account.release(actor_id=SYSTEM_ID, redemption_id=held)

    assert account.expiring() == [(date(2026, 12, 20), 60)]  # due: the next sweep takes them
    assert account.expire(actor_id=SYSTEM_ID, today=DAY + timedelta(days=40)) == 60
    assert account.balance == 0


def test_a_gift_keeps_the_givers_expiry_and_spends_the_soonest_first() -> None:
    giver, receiver = opened(), opened()
    giver.earn(
        actor_id=COORDINATOR_ID, service_log_id=uuid4(), minutes=100, **rules(expiry_months=12)
    )
    giver.earn(
        actor_id=COORDINATOR_ID,
        service_log_id=uuid4(),
        minutes=100,
        **rules(day=DAY - timedelta(days=100), expiry_months=12),
    )

    given = giver.give(
        actor_id=giver.member_id, transfer_id=uuid4(), to_member_id=receiver.member_id, minutes=150
    )
    receiver.receive(
        actor_id=giver.member_id,
        transfer_id=uuid4(),
        from_member_id=giver.member_id,
        minutes=150,
        given=given,
        policy=version(),
        today=DAY,
    )

    assert given == [("2027-08-12", 100), ("2027-11-20", 50)]
    assert receiver.expiring() == [(date(2027, 8, 12), 100), (date(2027, 11, 20), 50)]
    assert giver.expiring() == [(date(2027, 11, 20), 50)]
