"""API fixtures: a fresh server per test on a SQLite file, and a small community with tokens."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from api.settings import Settings
from tests.support import SINCE, TODAY, fixed_clock
from timebank import GlobalRole, TeamRole, TimeBank
from timebank.application import SYSTEM_ACTOR_ID
from timebank.coordination import Attendee

ADMIN_TOKEN = "bootstrap-admin-token-0123456789abcdef0123456789"
TOKEN_SECRET = "token-secret-for-the-api-tests-0123456789abcdef"

ROLES = ("anonymous", "volunteer", "other_coordinator", "coordinator", "auditor", "admin")
"""Who calls, as the authorization tables name them: the coordinator coordinates the team
the resource belongs to; the other coordinator coordinates another team."""


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path}/timebank.db",
        "admin_token": ADMIN_TOKEN,
        "token_secret": TOKEN_SECRET,
    }
    values.update(overrides)
    return Settings(**values)


def bearer(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """A fresh server on its own SQLite file; "today" is 2026-11-20 in Asia/Shanghai. For a
    test that wants the `world`, the file is a copy of the world's ledger."""
    if "world" in request.fixturenames:
        built: BuiltWorld = request.getfixturevalue("world_ledger")
        for suffix in ("", "-wal", "-shm"):
            stored = built.database.with_name(built.database.name + suffix)
            if stored.exists():
                shutil.copyfile(stored, tmp_path / stored.name)
    with TestClient(create_app(make_settings(tmp_path), clock=fixed_clock)) as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    """Headers that act as the bootstrap admin."""
    return bearer(ADMIN_TOKEN)


@dataclass(frozen=True)
class World:
    """A day-care team with a coordinator and two volunteers, a patrol team with its own
    coordinator, an auditor and an admin member, each with a token; and one of each
    resource, all belonging to the day-care team and the volunteer Li."""

    client: TestClient
    tokens: dict[str, str]
    admin: UUID
    auditor: UUID
    coordinator: UUID  # Chen, coordinates day care
    other_coordinator: UUID  # Sun, coordinates the night patrol
    volunteer: UUID  # Li, volunteers in day care
    wang: UUID  # another day-care volunteer
    care_team: UUID
    patrol_team: UUID
    pending_log: UUID  # Li's, awaiting review
    approved_log: UUID  # Li's, approved for 60 minutes
    redemption: UUID  # Li's, 30 minutes held by day care
    transfer: UUID  # 10 minutes from Li to Wang
    spare_credential: UUID  # a second token of Li's
    card_code: str  # the code of Li's member card, printed by the system
    invitation: UUID  # a haircut team, whose admin added Li; she has not accepted yet
    pairing: UUID  # Li visits Wang for day care

    def outing(self) -> UUID:
        """A day-care park outing Chen recorded, Li attending for 30 minutes (made on
        demand: it changes Li's minutes, which other tests count)."""
        ledger: TimeBank = self.client.app.state.ledger  # type: ignore[attr-defined]
        return ledger.record_activity(
            actor_id=self.coordinator,
            team_id=self.care_team,
            service_date=TODAY,
            activity="park outing",
            attendees=[Attendee(self.volunteer, 30)],
        ).id

    def headers(self, role: str) -> dict[str, str]:
        return bearer(self.tokens.get(role))

    def call(
        self, role: str, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Response:
        response: Response = self.client.request(
            method, path, json=body, headers=self.headers(role)
        )
        return response


@dataclass(frozen=True)
class BuiltWorld:
    """The world's ledger, built once per test process: its database file, and every field
    of a `World` but its client."""

    database: Path
    fields: dict[str, Any]


@pytest.fixture(scope="session")
def world_ledger(tmp_path_factory: pytest.TempPathFactory) -> BuiltWorld:
    """Each test that wants the world gets a copy of this file (see `client`): building it
    takes some forty commands, which hundreds of tests would otherwise each run again."""
    folder = tmp_path_factory.mktemp("world")
    with TestClient(create_app(make_settings(folder), clock=fixed_clock)) as test_client:
        built = _build_world(test_client)
    kept = {f.name: getattr(built, f.name) for f in fields(World) if f.name != "client"}
    return BuiltWorld(folder / "timebank.db", kept)


@pytest.fixture
def world(client: TestClient, world_ledger: BuiltWorld) -> World:
    """The world, in the test's own copy of its ledger, served by the test's client."""
    return World(client=client, **world_ledger.fields)


def _build_world(client: TestClient) -> World:
    ledger: TimeBank = client.app.state.ledger  # type: ignore[attr-defined]
    tokens: dict[str, str] = {}

    def member(role: str, name: str, roles: list[GlobalRole] | None = None) -> UUID:
        registered = ledger.register_member_with_token(
            actor_id=SYSTEM_ACTOR_ID, name=name, roles=roles or []
        )
        assert registered.token.token is not None
        tokens[role] = registered.token.token
        return registered.member.id

    admin = member("admin", "Admin Zhou", [GlobalRole.ADMIN])
    auditor = member("auditor", "Street office", [GlobalRole.AUDITOR])
    chen = member("coordinator", "Chen")
    sun = member("other_coordinator", "Sun")
    li = member("volunteer", "Li")
    wang = ledger.register_member(actor_id=admin, name="Wang").id
    care = ledger.form_team(
        actor_id=admin, name="Day care", community="Dongcheng", founded_on=SINCE
    ).id
    patrol = ledger.form_team(
        actor_id=admin, name="Night patrol", community="Xinghuo", founded_on=SINCE
    ).id
    for team, person, role in (
        (care, chen, TeamRole.COORDINATOR),
        (patrol, sun, TeamRole.COORDINATOR),
        (care, li, TeamRole.VOLUNTEER),
        (care, wang, TeamRole.VOLUNTEER),
    ):
        ledger.add_team_member(
            actor_id=admin, team_id=team, member_id=person, role=role, effective_date=SINCE
        )
        ledger.accept_membership(actor_id=person, team_id=team, member_id=person)
    haircut = ledger.form_team(actor_id=admin, name="Haircut", community="Linkou").id
    ledger.add_team_member(actor_id=admin, team_id=haircut, member_id=li, role=TeamRole.VOLUNTEER)
    card = ledger.issue_card(actor_id=SYSTEM_ACTOR_ID, member_id=li)
    assert card.code is not None
    ledger.register_agent(actor_id=li, member_id=li, agent_id=wang)

    def log(minutes: int) -> UUID:
        return ledger.log_service(
            actor_id=li, team_id=care, service_date=TODAY, minutes=minutes, activity="home care"
        ).id

    earned = log(120)
    ledger.approve_service(actor_id=chen, service_log_id=earned)
    approved = log(60)
    ledger.approve_service(actor_id=chen, service_log_id=approved)
    pending = log(45)
    redemption = ledger.request_redemption(
        actor_id=li, team_id=care, service="haircut", minutes=30
    ).id
    transfer = ledger.transfer(actor_id=li, to_member_id=wang, minutes=10).id
    spare = ledger.issue_token(actor_id=admin, member_id=li).credential_id
    pairing = ledger.form_pairing(
        actor_id=chen, team_id=care, beneficiary_id=wang, volunteer_id=li, since=SINCE
    ).id
    return World(
        client=client,
        tokens=tokens,
        admin=admin,
        auditor=auditor,
        coordinator=chen,
        other_coordinator=sun,
        volunteer=li,
        wang=wang,
        care_team=care,
        patrol_team=patrol,
        pending_log=pending,
        approved_log=approved,
        redemption=redemption,
        transfer=transfer,
        spare_credential=spare,
        card_code=card.code,
        invitation=haircut,
        pairing=pairing,
    )
