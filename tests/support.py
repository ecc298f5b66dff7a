"""Helpers shared by the tests: a fixed clock, the test stores and a small community."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from projections.balances import Balances, apply
from projections.log import notifications, read_events
from projections.queries import Reader
from projections.runner import ProjectionRunner
from projections.store import ViewStore
from projections.visibility import Viewer
from timebank import GlobalRole, TeamRole, TimeBank
from timebank.application import SYSTEM_ACTOR_ID
from timebank.policy import Policy

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 20)
SINCE = date(2026, 1, 1)


def fixed_clock() -> datetime:
    return datetime(2026, 11, 20, 10, 0, tzinfo=TZ)


def postgres_test_url() -> str | None:
    """The server the PostgreSQL tests use; in CI its absence is a failure, not a skip."""
    url = os.environ.get("TIMEBANK_TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail("CI is set but TIMEBANK_TEST_POSTGRES_URL is not", pytrace=False)
    return None


def open_ledger(url: str, policy: Policy | None = None) -> TimeBank:
    return TimeBank.from_url(url, policy=policy or Policy(timezone=TZ), clock=fixed_clock)


def event_count(app: TimeBank) -> int:
    """How many events are stored (counted without decoding them)."""
    return sum(1 for _ in notifications(app))


def replayed(app: TimeBank) -> Balances:
    """Balances folded from the stored events alone."""
    state = Balances()
    for event in read_events(app):
        state = apply(state, event)
    return state


@dataclass(frozen=True)
class Community:
    """A small community: an admin, two teams, their coordinators and volunteers."""

    app: TimeBank
    admin: UUID
    auditor: UUID
    care_team: UUID  # day care, Dongcheng
    patrol_team: UUID  # night patrol, Xinghuo
    care_coordinator: UUID
    patrol_coordinator: UUID
    li: UUID  # volunteer in day care
    wang: UUID  # volunteer in day care
    zhao: UUID  # volunteer in the patrol team
    grandma: UUID  # an elder in no team

    def earn(self, volunteer: UUID, minutes: int, *, team: UUID | None = None) -> UUID:
        """Log and approve service for a volunteer; return the log's id."""
        team = team or self.care_team
        coordinator = self.care_coordinator if team == self.care_team else self.patrol_coordinator
        log = self.app.log_service(
            actor_id=volunteer,
            team_id=team,
            service_date=TODAY,
            minutes=minutes,
            activity="home care",
        )
        self.app.approve_service(actor_id=coordinator, service_log_id=log.id)
        return log.id


def build_community(app: TimeBank) -> Community:
    admin = app.bootstrap_admin(name="Admin").id

    def member(name: str, birth_date: date | None = None, roles: Sequence[GlobalRole] = ()) -> UUID:
        return app.register_member(actor_id=admin, name=name, birth_date=birth_date, roles=roles).id

    auditor = member("Street office", roles=[GlobalRole.AUDITOR])
    care = app.form_team(
        actor_id=admin, name="Day care", community="Dongcheng", founded_on=SINCE
    ).id
    patrol = app.form_team(
        actor_id=admin, name="Night patrol", community="Xinghuo", founded_on=SINCE
    ).id
    people = {name: member(name) for name in ("Chen", "Sun", "Li", "Wang", "Zhao")}
    grandma = member("Grandma Liu", birth_date=date(1940, 3, 8))
    for team, person, role in (
        (care, people["Chen"], TeamRole.COORDINATOR),
        (patrol, people["Sun"], TeamRole.COORDINATOR),
        (care, people["Li"], TeamRole.VOLUNTEER),
        (care, people["Wang"], TeamRole.VOLUNTEER),
        (patrol, people["Zhao"], TeamRole.VOLUNTEER),
    ):
        app.add_team_member(
            actor_id=admin, team_id=team, member_id=person, role=role, effective_date=SINCE
        )
        app.accept_membership(actor_id=person, team_id=team, member_id=person)
    return Community(
        app=app,
        admin=admin,
        auditor=auditor,
        care_team=care,
        patrol_team=patrol,
        care_coordinator=people["Chen"],
        patrol_coordinator=people["Sun"],
        li=people["Li"],
        wang=people["Wang"],
        zhao=people["Zhao"],
        grandma=grandma,
    )


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.05
) -> None:
    """Poll a condition until it holds; fail naming what did not happen in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(interval)


@dataclass(frozen=True)
class Views:
    """A ledger's views, caught up, and a reader that sees everything."""

    store: ViewStore
    runner: ProjectionRunner
    reader: Reader
    everyone: Viewer

    def caught_up(self) -> Reader:
        self.runner.catch_up()
        return self.reader


@contextmanager
def views_of(app: TimeBank) -> Iterator[Views]:
    store = ViewStore.open(app, pool_size=2)
    try:
        store.prepare()
        runner = ProjectionRunner(app, store)
        runner.catch_up()
        yield Views(store, runner, Reader(store, app.today), Viewer(SYSTEM_ACTOR_ID, True))
    finally:
        store.close()
