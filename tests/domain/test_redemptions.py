"""Redemptions: held, then fulfilled or cancelled once; given events -> one command -> events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from copy import deepcopy
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import CanMutateAggregate
from hypothesis import given
from hypothesis import strategies as st

from timebank.errors import InvalidRequestError, InvalidStateError, PermissionDeniedError
from timebank.redemptions import Redemption, RedemptionStatus

ELDER_ID = uuid4()
COORDINATOR_ID = uuid4()
TEAM_ID = uuid4()


def request(
    *,
    actor_id: UUID = ELDER_ID,
    service: str = "Home care",
    minutes: int = 120,
    consent: str = "member",
) -> Redemption:
    return Redemption.request(
        actor_id=actor_id,
        member_id=ELDER_ID,
        team_id=TEAM_ID,
        service=service,
        minutes=minutes,
        consent=consent,
        consented_by=ELDER_ID,
        credential_id=None,
        policy_version=1,
    )


def held() -> Redemption:
    """Given: 120 minutes of home care requested and held."""
    redemption = request()
    redemption.collect_events()
    return redemption


def fulfilled() -> Redemption:
    redemption = held()
    redemption.fulfil(actor_id=COORDINATOR_ID)
    redemption.collect_events()
    return redemption


def cancelled() -> Redemption:
    redemption = held()
    redemption.cancel(actor_id=ELDER_ID, reason="Feeling better")
    redemption.collect_events()
    return redemption


def test_requesting_records_who_asked_which_team_for_what_and_for_how_long() -> None:
    redemption = request(
        actor_id=COORDINATOR_ID, service="  Free haircut ", minutes=30, consent="card"
    )

    [e] = redemption.collect_events()
    assert isinstance(e, Redemption.Requested)
    assert e.actor_id == COORDINATOR_ID
    assert e.member_id == ELDER_ID
    assert e.team_id == TEAM_ID
    assert e.service == "Free haircut"
    assert e.minutes == 30
    assert (e.consent, e.consented_by) == ("card", ELDER_ID)
    assert redemption.status is RedemptionStatus.HELD
    assert redemption.requested_by == COORDINATOR_ID
    assert redemption.member_id == ELDER_ID


@pytest.mark.parametrize("service", ["", "   "])
def test_a_service_is_required(service: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        request(service=service)

    assert refused.value.field == "service"


def test_a_single_minute_can_be_redeemed() -> None:
    redemption = request(minutes=1)

    assert redemption.minutes == 1


@given(st.integers(max_value=0))
def test_redeeming_no_minutes_or_fewer_is_refused(minutes: int) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        request(minutes=minutes)

    assert refused.value.field == "minutes"


def test_whoever_asked_on_the_members_behalf_does_not_also_confirm_the_delivery() -> None:
    redemption = request(actor_id=COORDINATOR_ID, consent="card")
    redemption.collect_events()

    with pytest.raises(PermissionDeniedError) as refused:
        redemption.fulfil(actor_id=COORDINATOR_ID)

    assert "someone else confirms" in refused.value.reason
    assert redemption.collect_events() == []
    redemption.fulfil(actor_id=uuid4())  # a colleague confirms it
    assert redemption.status is RedemptionStatus.FULFILLED


def test_fulfilling_records_who_delivered_the_service() -> None:
    redemption = held()

    redemption.fulfil(actor_id=COORDINATOR_ID)

    [e] = redemption.collect_events()
    assert isinstance(e, Redemption.Fulfilled)
    assert e.actor_id == COORDINATOR_ID
    assert redemption.status is RedemptionStatus.FULFILLED


def test_cancelling_records_who_called_it_off_and_why() -> None:
    redemption = held()

    redemption.cancel(actor_id=ELDER_ID, reason="  Feeling better ")

    [e] = redemption.collect_events()
    assert isinstance(e, Redemption.Cancelled)
    assert e.actor_id == ELDER_ID
    assert e.reason == "Feeling better"
    assert redemption.status is RedemptionStatus.CANCELLED
    assert redemption.reason == "Feeling better"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_cancellation_needs_no_reason(reason: str | None) -> None:
    redemption = held()

    redemption.cancel(actor_id=ELDER_ID, reason=reason)

    [e] = redemption.collect_events()
    assert isinstance(e, Redemption.Cancelled)
    assert e.reason is None
    assert redemption.status is RedemptionStatus.CANCELLED


@pytest.mark.parametrize(
    ("given_redemption", "state"), [(fulfilled, "fulfilled"), (cancelled, "cancelled")]
)
def test_a_settled_redemption_cannot_be_fulfilled(
    given_redemption: Callable[[], Redemption], state: str
) -> None:
    redemption = given_redemption()

    with pytest.raises(InvalidStateError) as refused:
        redemption.fulfil(actor_id=COORDINATOR_ID)

    assert refused.value.state == state
    assert redemption.collect_events() == []
    assert redemption.status == state


@pytest.mark.parametrize(
    ("given_redemption", "state"), [(fulfilled, "fulfilled"), (cancelled, "cancelled")]
)
def test_a_settled_redemption_cannot_be_cancelled(
    given_redemption: Callable[[], Redemption], state: str
) -> None:
    redemption = given_redemption()
    reason = redemption.reason

    with pytest.raises(InvalidStateError) as refused:
        redemption.cancel(actor_id=ELDER_ID, reason="Changed my mind")

    assert refused.value.state == state
    assert redemption.collect_events() == []
    assert redemption.status == state
    assert redemption.reason == reason


def test_replaying_the_events_reproduces_the_redemption() -> None:
    redemption = request(service="Legal aid visit", minutes=90)
    redemption.cancel(actor_id=COORDINATOR_ID, reason="Lawyer unavailable")

    copy = replay(redemption.collect_events())

    assert copy.id == redemption.id
    assert copy.version == redemption.version == 2
    assert copy.member_id == ELDER_ID
    assert copy.team_id == TEAM_ID
    assert copy.service == "Legal aid visit"
    assert copy.minutes == 90
    assert copy.status is RedemptionStatus.CANCELLED
    assert copy.reason == "Lawyer unavailable"


def replay(events: Sequence[CanMutateAggregate[UUID]]) -> Redemption:
    """Rebuild a redemption from its recorded events alone, as a repository would."""
    copy: Redemption | None = None
    for e in events:
        copy = e.mutate(copy)
    assert copy is not None
    return copy


def test_a_copy_fulfilled_by_a_command_leaves_the_original_held() -> None:
    """Commands change a copy of the cached redemption, sharing its immutable attributes;
    an unsaved fulfilment must leave the cache's redemption as it was."""
    original = held()
    changed = deepcopy(original)
    changed.fulfil(actor_id=COORDINATOR_ID)
    assert changed.status == RedemptionStatus.FULFILLED
    assert original.status == RedemptionStatus.HELD
    assert (original.version, original.collect_events()) == (changed.version - 1, [])
    # Every other attribute is immutable and shared; a new mutable one needs copying too.
    mutable = {
        name for name, value in vars(changed).items() if isinstance(value, list | dict | set)
    }
    assert mutable == {"_pending_events"}
