"""The aggregate cache follows the log: what another process stores is seen by the next
command here, and an aggregate read while another process changed it is not kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from uuid import UUID

import pytest

from tests.support import TODAY, build_community, open_ledger, wait_until
from timebank import GlobalRole, TimeBank
from timebank.cache import FOLLOW_PAGE, REMEMBERED_GENERATIONS, FollowedRepository
from timebank.errors import InsufficientMinutesError, PermissionDeniedError
from timebank.members import Member

# Two processes need a store both can open: a SQLite file or PostgreSQL.
pytestmark = pytest.mark.parametrize(
    "store_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def other(store_url: str) -> Iterator[TimeBank]:
    """Another process's application on the same store."""
    ledger = open_ledger(store_url)
    try:
        yield ledger
    finally:
        ledger.close()


def followed(app: TimeBank) -> FollowedRepository:
    repository = app.repository
    assert isinstance(repository, FollowedRepository)
    return repository


def read_and_dropped(app: TimeBank, member_id: UUID) -> tuple[Member, int]:
    """A member as a read here found it, gone from the cache again, and the generation in
    which that read began: what a read finishing late has to offer."""
    cache = followed(app).cache
    member: Member = app.repository.get(member_id, deepcopy_from_cache=False)
    cache.get(member_id, evict=True)
    return member, cache.generation


def test_a_member_removed_by_another_process_cannot_log_service_here(
    app: TimeBank, other: TimeBank
) -> None:
    c = build_community(app)
    c.earn(c.li, 30)  # the team and Li are now cached here
    other.remove_team_member(actor_id=c.admin, team_id=c.care_team, member_id=c.li)
    with pytest.raises(PermissionDeniedError):
        app.log_service(
            actor_id=c.li, team_id=c.care_team, service_date=TODAY, minutes=30, activity="care"
        )


def test_minutes_spent_through_another_process_are_gone_here(
    app: TimeBank, other: TimeBank
) -> None:
    c = build_community(app)
    c.earn(c.li, 60)
    assert app.get_account(c.li).available_minutes == 60  # cached here
    other.transfer(actor_id=c.li, to_member_id=c.wang, minutes=45)
    assert app.get_account(c.li).available_minutes == 15
    with pytest.raises(InsufficientMinutesError):
        app.transfer(actor_id=c.li, to_member_id=c.wang, minutes=30)


def test_a_role_revoked_by_another_process_is_gone_at_once(app: TimeBank, other: TimeBank) -> None:
    c = build_community(app)
    assert app.actor(c.auditor).is_auditor
    other.revoke_role(actor_id=c.admin, member_id=c.auditor, role=GlobalRole.AUDITOR)
    assert not app.actor(c.auditor).is_auditor


def test_an_aggregate_read_while_another_process_changed_it_is_not_kept(
    app: TimeBank, other: TimeBank
) -> None:
    c = build_community(app)
    cache = followed(app).cache
    stale, read_began = read_and_dropped(app, c.grandma)  # a read finds this version...
    other.grant_role(actor_id=c.admin, member_id=c.grandma, role=GlobalRole.AUDITOR)
    cache.catch_up()  # ...while another thread here sees the newer one
    cache.offer(stale, read_began)  # the late read offers what it found
    fresh: Member = app.repository.get(c.grandma)
    assert fresh.version == stale.version + 1
    assert app.actor(c.grandma).is_auditor


def test_an_offer_from_before_every_remembered_catch_up_is_refused(
    app: TimeBank, other: TimeBank
) -> None:
    c = build_community(app)
    cache = followed(app).cache
    member, read_began = read_and_dropped(app, c.grandma)
    for _ in range(REMEMBERED_GENERATIONS + 1):
        other.register_member(actor_id=c.admin, name="Neighbour")
        cache.catch_up()
    cache.offer(member, read_began)
    with pytest.raises(KeyError):
        cache.get(c.grandma)


def test_a_cache_far_behind_starts_again_from_the_store(app: TimeBank, other: TimeBank) -> None:
    c = build_community(app)
    assert app.get_account(c.li).available_minutes == 0  # cached here
    through_other = replace(c, app=other)
    earnings = FOLLOW_PAGE // 3 + 1  # each stores three events: more than a page in all
    for _ in range(earnings):
        through_other.earn(c.li, 1)
    assert app.get_account(c.li).available_minutes == earnings


class _CountingLock:
    """A lock that tells how many threads are waiting for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counting = threading.Lock()
        self.waiting = 0

    def __enter__(self) -> None:
        with self._counting:
            self.waiting += 1
        self._lock.acquire()
        with self._counting:
            self.waiting -= 1

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def test_callers_who_waited_share_the_next_catch_up_not_the_one_under_way(
    app: TimeBank, other: TimeBank, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three threads catch up together: the first asks the store, the two who arrived while
    it was asking share one question asked after they arrived, and that one sees what was
    stored while the first was asking."""
    c = build_community(app)
    cache = followed(app).cache
    lock = _CountingLock()
    monkeypatch.setattr(cache, "_following", lock)
    asked: list[str] = []
    answered = threading.Event()
    real_select = cache._recorder.select_notifications

    def select(*args: Any, **kwargs: Any) -> Any:
        answer = real_select(*args, **kwargs)
        asked.append(threading.current_thread().name)
        if len(asked) == 1:
            answered.wait(10)  # the first holds its answer until the others wait
        return answer

    monkeypatch.setattr(cache._recorder, "select_notifications", select)
    first = threading.Thread(target=cache.catch_up, name="first")
    first.start()
    wait_until(lambda: asked == ["first"], timeout=10, what="the first has asked the store")
    other.register_member(actor_id=c.admin, name="Neighbour")
    late = [threading.Thread(target=cache.catch_up, name=f"late-{i}") for i in range(2)]
    for thread in late:
        thread.start()
    wait_until(lambda: lock.waiting == 2, timeout=10, what="both late callers wait for the first")
    answered.set()
    for thread in (first, *late):
        thread.join(10)
    assert len(asked) == 2
    assert asked[1].startswith("late-")
    assert cache.position == other.recorder.max_notification_id()
