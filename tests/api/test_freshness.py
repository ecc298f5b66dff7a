"""Every request sees what was stored before it arrived, through whichever process stored
it, although concurrent requests share one question to the store."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.freshness import StoreFollower
from tests.api.conftest import ADMIN_TOKEN, World, bearer, make_settings
from tests.support import fixed_clock
from timebank import GlobalRole, TimeBank
from timebank.application import SYSTEM_ACTOR_ID
from timebank.cache import NotInMemoryError

DEADLINE = 10.0  # seconds: far beyond what any step here takes


@pytest.fixture
def other(world: World, tmp_path: Path) -> Iterator[TimeBank]:
    """Another process's ledger on the server's SQLite file."""
    ledger = make_settings(tmp_path).open_ledger(clock=fixed_clock)
    yield ledger
    ledger.close()


def test_a_token_issued_or_revoked_through_another_process_counts_on_the_next_request(
    world: World, other: TimeBank
) -> None:
    assert world.call("volunteer", "GET", f"/members/{world.volunteer}/balance").status_code == 200
    issued = other.issue_token(actor_id=world.admin, member_id=world.volunteer)
    assert issued.token is not None
    new_token = bearer(issued.token)
    path = f"/members/{world.volunteer}/balance"
    assert world.client.get(path, headers=new_token).status_code == 200
    assert world.client.get(path, headers=new_token).status_code == 200  # signed in from memory
    other.revoke_token(actor_id=world.admin, credential_id=issued.credential_id)
    refused = world.client.get(path, headers=new_token)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"


def test_a_role_taken_away_through_another_process_counts_on_the_next_request(
    world: World, other: TimeBank
) -> None:
    assert world.call("auditor", "GET", "/audit/events").status_code == 200
    assert world.call("auditor", "GET", "/audit/events").status_code == 200  # from memory
    other.revoke_role(actor_id=world.admin, member_id=world.auditor, role=GlobalRole.AUDITOR)
    assert world.call("auditor", "GET", "/audit/events").status_code == 403


def test_reading_from_memory_answers_what_the_cache_holds_and_refuses_the_rest(
    world: World, other: TimeBank
) -> None:
    ledger: TimeBank = world.client.app.state.ledger  # type: ignore[attr-defined]
    assert world.call("auditor", "GET", "/audit/events").status_code == 200
    newcomer = other.register_member(actor_id=world.admin, name="Newcomer").id
    ledger.follow_store()
    with ledger.reading_from_memory():
        assert ledger.actor(world.auditor).is_auditor  # read to sign them in
        with pytest.raises(NotInMemoryError):
            ledger.actor(newcomer)  # never read here: only the store knows
    assert not ledger.actor(newcomer).is_admin  # outside the block, read from the store


def test_a_write_through_another_process_is_in_the_writers_next_read_here(
    tmp_path: Path,
) -> None:
    """Read-your-writes across processes: the views' writer here polls once a minute, so
    only the check a read makes (is the caller's last write in this snapshot?) can make
    it fold the write before answering."""
    settings = make_settings(tmp_path, projection_interval=60)
    with TestClient(create_app(settings, clock=fixed_clock)) as client:
        store = client.app.state.projections.store  # type: ignore[attr-defined]
        elsewhere = settings.open_ledger(clock=fixed_clock)
        elsewhere.on_saved = store.note_caller  # as another API process records its callers
        try:
            newcomer = elsewhere.register_member(actor_id=SYSTEM_ACTOR_ID, name="Newcomer").id
        finally:
            elsewhere.close()
        profile = client.get(f"/members/{newcomer}", headers=bearer(ADMIN_TOKEN))
        assert profile.status_code == 200, profile.text
        assert profile.json()["name"] == "Newcomer"


# The follower alone, with a store question that waits for the test's word ----------------


class Questions:
    """Store questions that each wait until the test lets them finish."""

    def __init__(self) -> None:
        self.asked: list[threading.Event] = []
        self.failures: list[Exception | None] = []

    def ask(self) -> None:
        finish = threading.Event()
        self.asked.append(finish)
        if not finish.wait(DEADLINE):
            raise TimeoutError("the test never let this question finish")
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure

    def finish(self, index: int) -> None:
        self.asked[index].set()


async def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        await asyncio.sleep(0.001)


async def settled() -> None:
    """Let every task that can run take its steps (none here waits on anything but us)."""
    for _ in range(10):
        await asyncio.sleep(0)


def test_requests_that_arrive_during_a_question_share_the_next_one() -> None:
    async def scenario() -> None:
        questions = Questions()
        follower = StoreFollower(questions.ask)
        first = asyncio.create_task(follower.caught_up())
        await until(lambda: len(questions.asked) == 1)
        later = [asyncio.create_task(follower.caught_up()) for _ in range(5)]
        await settled()
        questions.finish(0)
        await asyncio.wait_for(first, DEADLINE)
        # The first question may have begun before they arrived: they wait for a second.
        await until(lambda: len(questions.asked) == 2)
        assert not any(task.done() for task in later)
        questions.finish(1)
        await asyncio.wait_for(asyncio.gather(*later), DEADLINE)
        assert len(questions.asked) == 2

    asyncio.run(scenario())


def test_a_failed_question_fails_its_waiters_and_the_next_is_asked_again() -> None:
    async def scenario() -> None:
        questions = Questions()
        questions.failures = [ConnectionError("the store is down"), None]
        follower = StoreFollower(questions.ask)
        failing = asyncio.create_task(follower.caught_up())
        await until(lambda: len(questions.asked) == 1)
        questions.finish(0)
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(failing, DEADLINE)
        succeeding = asyncio.create_task(follower.caught_up())
        await until(lambda: len(questions.asked) == 2)
        questions.finish(1)
        await asyncio.wait_for(succeeding, DEADLINE)

    asyncio.run(scenario())


def test_a_request_that_goes_away_leaves_the_others_their_answer() -> None:
    async def scenario() -> None:
        questions = Questions()
        follower = StoreFollower(questions.ask)
        leaving = asyncio.create_task(follower.caught_up())
        staying = asyncio.create_task(follower.caught_up())
        await until(lambda: len(questions.asked) == 1)
        leaving.cancel()
        await settled()
        questions.finish(0)
        await asyncio.wait_for(staying, DEADLINE)
        assert leaving.cancelled()

    asyncio.run(scenario())
