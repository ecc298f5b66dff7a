"""Client requests: the same request id always names the same record, so retries collide."""

from __future__ import annotations

from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from timebank.requests import ClientRequest

ACTOR_ID = uuid4()


def record(request_id: str) -> ClientRequest:
    return ClientRequest(
        actor_id=ACTOR_ID,
        request_id=request_id,
        command="approve_service",
        fingerprint="sha256:abc123",
        result_id=uuid4(),
        result_version=2,
    )


def test_recording_a_request_keeps_its_command_and_result() -> None:
    result_id = uuid4()

    request = ClientRequest(
        actor_id=ACTOR_ID,
        request_id="retry-me-42",
        command="give_minutes",
        fingerprint="sha256:feed",
        result_id=result_id,
        result_version=1,
    )

    [e] = request.collect_events()
    assert isinstance(e, ClientRequest.Recorded)
    assert e.actor_id == ACTOR_ID
    assert e.request_id == "retry-me-42"
    assert e.command == "give_minutes"
    assert e.fingerprint == "sha256:feed"
    assert e.result_id == result_id
    assert e.result_version == 1
    assert request.id == ClientRequest.create_id("retry-me-42")


def test_the_same_request_id_recorded_twice_gets_the_same_aggregate_id() -> None:
    first = record("9b2f4c1e-req")
    retry = record("9b2f4c1e-req")

    assert first.id == retry.id
    assert first.id.version == 5


@given(st.text(), st.text())
def test_different_request_ids_name_different_records(one: str, other: str) -> None:
    assert (ClientRequest.create_id(one) == ClientRequest.create_id(other)) == (one == other)
