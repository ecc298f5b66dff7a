"""Answers kept while nothing is written (api/answers.py): the same read asked again is
answered from memory, and never once a write could have changed it."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api.answers import KeptAnswers
from api.app import create_app
from projections.queries import Reader
from projections.visibility import Viewer
from tests.api.conftest import ADMIN_TOKEN, World, bearer, make_settings
from tests.support import SINCE, TODAY, fixed_clock
from timebank import TeamRole, TimeBank
from timebank.application import SYSTEM_ACTOR_ID


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[UUID]:
    """The members whose balance was read from the views, in order."""
    read: list[UUID] = []
    balance = Reader.balance

    def counted(self: Reader, viewer: Viewer, member_id: UUID) -> Any:
        read.append(member_id)
        return balance(self, viewer, member_id)

    monkeypatch.setattr(Reader, "balance", counted)
    return read


def test_a_balance_asked_again_before_anything_is_written_is_not_read_again(
    world: World, reads: list[UUID]
) -> None:
    app = world.client.app
    assert app.state.projections.wait_for(app.state.ledger.last_position())  # type: ignore[attr-defined]
    path = f"/members/{world.volunteer}/balance"
    first = world.call("volunteer", "GET", path)
    assert first.status_code == 200, first.text
    again = world.call("volunteer", "GET", path)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["content-type"] == "application/json"
    assert reads == [world.volunteer]

    approved = world.call("coordinator", "POST", f"/service-logs/{world.pending_log}/approve")
    assert approved.status_code == 200, approved.text
    after = world.call("volunteer", "GET", path).json()
    assert after["earned_minutes"] == first.json()["earned_minutes"] + 45
    assert after["pending_minutes"] == first.json()["pending_minutes"] - 45
    assert reads == [world.volunteer, world.volunteer]


def test_an_answer_kept_for_one_caller_is_never_given_to_another(world: World) -> None:
    path = f"/members/{world.volunteer}/balance"
    for allowed in ("volunteer", "coordinator", "auditor", "admin"):
        assert world.call(allowed, "GET", path).status_code == 200
    refused = world.call("other_coordinator", "GET", path)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert world.call("anonymous", "GET", path).status_code == 401


def test_a_callers_write_through_another_process_is_in_their_next_read(
    tmp_path: Path,
) -> None:
    """The views' writer here polls once a minute: only what a read proves about the views
    (they hold the whole log, or the caller's last write) decides what it may answer."""
    settings = make_settings(tmp_path, projection_interval=60)
    with TestClient(create_app(settings, clock=fixed_clock)) as client:
        ledger: TimeBank = client.app.state.ledger  # type: ignore[attr-defined]
        store = client.app.state.projections.store  # type: ignore[attr-defined]
        li = ledger.register_member_with_token(actor_id=SYSTEM_ACTOR_ID, name="Li")
        assert li.token.token is not None
        li_id, li_reads = li.member.id, bearer(li.token.token)
        chen = ledger.register_member(actor_id=SYSTEM_ACTOR_ID, name="Chen").id
        wang = ledger.register_member(actor_id=SYSTEM_ACTOR_ID, name="Wang").id
        care = ledger.form_team(
            actor_id=SYSTEM_ACTOR_ID, name="Day care", community="Dongcheng", founded_on=SINCE
        ).id
        for person, role in ((chen, TeamRole.COORDINATOR), (li_id, TeamRole.VOLUNTEER)):
            ledger.add_team_member(
                actor_id=SYSTEM_ACTOR_ID,
                team_id=care,
                member_id=person,
                role=role,
                effective_date=SINCE,
            )
        logged = ledger.log_service(
            actor_id=li_id, team_id=care, service_date=TODAY, minutes=60, activity="home care"
        ).id
        ledger.approve_service(actor_id=chen, service_log_id=logged)
        path = f"/members/{li_id}/balance"
        assert client.get(path, headers=li_reads).json()["balance_minutes"] == 60
        assert client.get(path, headers=li_reads).json()["balance_minutes"] == 60  # kept
        elsewhere = settings.open_ledger(clock=fixed_clock)
        elsewhere.on_saved = store.note_caller  # as another API process records its callers
        try:
            elsewhere.transfer(actor_id=li_id, to_member_id=wang, minutes=25)
        finally:
            elsewhere.close()
        assert client.get(path, headers=li_reads).json()["balance_minutes"] == 35
        wangs = client.get(f"/members/{wang}/balance", headers=bearer(ADMIN_TOKEN)).json()
        assert wangs["balance_minutes"] == 25


# The kept answers alone ---------------------------------------------------------------------


def test_views_behind_the_log_settle_nothing() -> None:
    answers = KeptAnswers()
    answers.saw(log=10, views=9)
    assert answers.settled is None
    answers.saw(log=None, views=9)  # no aggregate cache: the log's reach is unknown
    assert answers.settled is None
    answers.saw(log=10, views=10)
    assert answers.settled == 10


def test_answers_read_before_the_views_moved_on_are_dropped_and_not_kept() -> None:
    answers = KeptAnswers(budget=12)
    answers.keep(10, "a", b"old a")
    assert answers.get(10, "a") == b"old a"
    answers.keep(11, "b", b"new b")
    assert answers.get(11, "a") is None  # dropped when the views moved on
    assert answers.get(10, "b") is None  # a request settled at 10 no longer gets anything
    answers.keep(10, "a", b"old a")  # a slow read for a request settled at 10
    assert answers.get(11, "a") is None
    answers.keep(11, "c", b"c")
    answers.keep(11, "d", b"ddddddd")
    assert answers.get(11, "b") is None  # beyond the budget, the least recently asked go
    assert answers.get(11, "c") == b"c"
    assert answers.get(11, "d") == b"ddddddd"


def test_the_same_question_asked_while_it_is_read_is_read_once() -> None:
    reads: list[str] = []
    release = threading.Event()

    def read() -> BalanceLike:
        reads.append("read")
        assert release.wait(10), "the test never let the read finish"
        return BalanceLike(minutes=60)

    async def scenario() -> None:
        answers = KeptAnswers()
        first = answers.reading(7, "balance", read)
        second = answers.reading(7, "balance", read)
        other = answers.reading(7, "statement", read)
        assert first is second
        assert other is not first
        release.set()
        assert await first == b'{"minutes":60}'
        await other
        assert answers.get(7, "balance") == b'{"minutes":60}'
        assert answers.reading(8, "balance", read) is not first  # the views moved on
        await asyncio.gather(*asyncio.all_tasks() - {asyncio.current_task()})

    asyncio.run(scenario())
    assert reads == ["read", "read", "read"]


class BalanceLike(BaseModel):
    minutes: int
