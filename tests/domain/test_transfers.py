"""Transfers (转赠): one gift of minutes from one member to another."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import CanMutateAggregate
from hypothesis import given
from hypothesis import strategies as st

from timebank.errors import InvalidRequestError
from timebank.transfers import Transfer

FATHER_ID = uuid4()
DAUGHTER_ID = uuid4()


def give(
    *,
    actor_id: UUID,
    to_member_id: UUID,
    minutes: int,
    note: str | None,
    consent: str = "member",
) -> Transfer:
    """The father's minutes, given by whoever acts (himself, by default)."""
    return Transfer.make(
        actor_id=actor_id,
        from_member_id=FATHER_ID,
        to_member_id=to_member_id,
        minutes=minutes,
        note=note,
        consent=consent,
        consented_by=actor_id,
        credential_id=None,
    )


def test_minutes_given_on_a_members_behalf_never_go_to_whoever_asks() -> None:
    agent = uuid4()

    with pytest.raises(InvalidRequestError) as refused:
        give(actor_id=agent, to_member_id=agent, minutes=60, note=None, consent="agent")

    assert refused.value.field == "to_member_id"
    assert give(actor_id=agent, to_member_id=DAUGHTER_ID, minutes=60, note=None).minutes == 60


def test_giving_records_who_gave_how_many_minutes_to_whom() -> None:
    transfer = give(
        actor_id=FATHER_ID,
        to_member_id=DAUGHTER_ID,
        minutes=120,
        note="  For Mum's care ",
    )

    [e] = transfer.collect_events()
    assert isinstance(e, Transfer.Made)
    assert e.actor_id == FATHER_ID
    assert e.from_member_id == FATHER_ID
    assert e.to_member_id == DAUGHTER_ID
    assert e.minutes == 120
    assert e.note == "For Mum's care"
    assert transfer.made_by == FATHER_ID
    assert transfer.minutes == 120


@pytest.mark.parametrize("note", [None, "", "   "])
def test_a_note_is_optional(note: str | None) -> None:
    transfer = give(
        actor_id=FATHER_ID,
        to_member_id=DAUGHTER_ID,
        minutes=60,
        note=note,
    )

    [e] = transfer.collect_events()
    assert isinstance(e, Transfer.Made)
    assert e.note is None
    assert transfer.note is None


def test_minutes_cannot_be_given_to_oneself() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        give(
            actor_id=FATHER_ID,
            to_member_id=FATHER_ID,
            minutes=60,
            note=None,
        )

    assert refused.value.field == "to_member_id"


def test_a_single_minute_can_be_given() -> None:
    transfer = give(actor_id=FATHER_ID, to_member_id=DAUGHTER_ID, minutes=1, note=None)

    assert transfer.minutes == 1


@given(st.integers(max_value=0))
def test_giving_no_minutes_or_fewer_is_refused(minutes: int) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        give(
            actor_id=FATHER_ID,
            to_member_id=DAUGHTER_ID,
            minutes=minutes,
            note=None,
        )

    assert refused.value.field == "minutes"


def test_replaying_the_event_reproduces_the_transfer() -> None:
    transfer = give(
        actor_id=FATHER_ID,
        to_member_id=DAUGHTER_ID,
        minutes=45,
        note="Birthday gift",
    )

    copy = replay(transfer.collect_events())

    assert copy.id == transfer.id
    assert (copy.from_member_id, copy.to_member_id) == (FATHER_ID, DAUGHTER_ID)
    assert copy.minutes == 45
    assert copy.note == "Birthday gift"
    assert copy.made_by == FATHER_ID


def replay(events: Sequence[CanMutateAggregate[UUID]]) -> Transfer:
    """Rebuild a transfer from its recorded event alone, as a repository would."""
    copy: Transfer | None = None
    for e in events:
        copy = e.mutate(copy)
    assert copy is not None
    return copy
