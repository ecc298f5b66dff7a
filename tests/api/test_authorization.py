"""Who may call what: every endpoint against every role, as one table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from tests.api.conftest import ROLES, World
from tests.support import TODAY
from timebank import TimeBank
from timebank.members import member_code


@dataclass(frozen=True)
class Call:
    method: str
    path: Callable[[World], str]
    body: Callable[[World], dict[str, Any] | None]
    # The status for anonymous, volunteer, other coordinator, coordinator, auditor, admin.
    expected: tuple[int, int, int, int, int, int]


def no_body(world: World) -> None:
    return None


TABLE: dict[str, Call] = {
    # Readiness, like liveness, is asked by load balancers without credentials.
    "GET /health/ready": Call(
        "GET", lambda w: "/health/ready", no_body, (200, 200, 200, 200, 200, 200)
    ),
    "POST /members": Call(
        "POST", lambda w: "/members", lambda w: {"name": "Zhang"}, (401, 403, 403, 403, 403, 201)
    ),
    # A member's data: the member, coordinators of their teams, auditors and admins.
    "GET /members/{id}": Call(
        "GET", lambda w: f"/members/{w.volunteer}", no_body, (401, 200, 403, 200, 200, 200)
    ),
    "GET /members/{id}/balance": Call(
        "GET",
        lambda w: f"/members/{w.volunteer}/balance",
        no_body,
        (401, 200, 403, 200, 200, 200),
    ),
    "GET /members/{id}/statement": Call(
        "GET",
        lambda w: f"/members/{w.volunteer}/statement",
        no_body,
        (401, 200, 403, 200, 200, 200),
    ),
    "POST /members/{id}/card": Call(
        "POST",
        lambda w: f"/members/{w.volunteer}/card",
        lambda w: {"team_id": str(w.care_team)},
        (401, 403, 403, 201, 403, 201),
    ),
    # Only the member names an agent (or staff with the member's card code).
    "POST /members/{id}/agents": Call(
        "POST",
        lambda w: f"/members/{w.volunteer}/agents",
        lambda w: {"agent_id": str(w.coordinator)},
        (401, 201, 403, 403, 403, 403),
    ),
    "DELETE /members/{id}/agents/{agent_id}": Call(
        "DELETE",
        lambda w: f"/members/{w.volunteer}/agents/{w.wang}",
        no_body,
        (401, 200, 403, 403, 403, 200),
    ),
    "POST /members/{id}/publicity": Call(
        "POST",
        lambda w: f"/members/{w.volunteer}/publicity",
        lambda w: {"anonymous": True},
        (401, 200, 403, 403, 403, 403),
    ),
    "POST /members/{id}/tokens": Call(
        "POST", lambda w: f"/members/{w.volunteer}/tokens", no_body, (401, 403, 403, 403, 403, 201)
    ),
    "GET /tokens/{id}": Call(
        "GET", lambda w: f"/tokens/{w.spare_credential}", no_body, (401, 200, 403, 403, 200, 200)
    ),
    "POST /tokens/rotate": Call(
        "POST", lambda w: "/tokens/rotate", no_body, (401, 201, 201, 201, 201, 201)
    ),
    "DELETE /tokens/{id}": Call(
        "DELETE",
        lambda w: f"/tokens/{w.spare_credential}",
        no_body,
        (401, 200, 403, 403, 403, 200),
    ),
    "POST /teams": Call(
        "POST",
        lambda w: "/teams",
        lambda w: {"name": "Legal aid", "community": "Linkou"},
        (401, 403, 403, 403, 403, 201),
    ),
    "GET /teams": Call("GET", lambda w: "/teams", no_body, (401, 200, 200, 200, 200, 200)),
    "GET /teams/{id}": Call(
        "GET", lambda w: f"/teams/{w.care_team}", no_body, (401, 200, 200, 200, 200, 200)
    ),
    "POST /teams/{id}/members": Call(
        "POST",
        lambda w: f"/teams/{w.care_team}/members",
        lambda w: {"member_id": str(w.auditor), "role": "volunteer"},
        (401, 403, 403, 201, 403, 201),
    ),
    "POST /teams/{id}/members/{member_id}/accept": Call(
        "POST",
        lambda w: f"/teams/{w.invitation}/members/{w.volunteer}/accept",
        no_body,
        (401, 200, 403, 403, 403, 403),
    ),
    "DELETE /teams/{id}/members/{member_id}": Call(
        "DELETE",
        lambda w: f"/teams/{w.care_team}/members/{w.wang}",
        no_body,
        (401, 403, 403, 200, 403, 200),
    ),
    "POST /service-logs (for the volunteer)": Call(
        "POST",
        lambda w: "/service-logs",
        lambda w: {
            "team_id": str(w.care_team),
            "volunteer_id": str(w.volunteer),
            "service_date": TODAY.isoformat(),
            "minutes": 90,
            "activity": "home care",
        },
        (401, 201, 403, 201, 403, 201),
    ),
    # Every member lists the logs they may see (tested in test_reads.py).
    "GET /service-logs": Call(
        "GET", lambda w: "/service-logs", no_body, (401, 200, 200, 200, 200, 200)
    ),
    "GET /service-logs/{id}": Call(
        "GET", lambda w: f"/service-logs/{w.pending_log}", no_body, (401, 200, 403, 200, 200, 200)
    ),
    "POST /service-logs/{id}/approve": Call(
        "POST",
        lambda w: f"/service-logs/{w.pending_log}/approve",
        lambda w: {"minutes": 30},
        (401, 403, 403, 200, 403, 200),
    ),
    "POST /service-logs/{id}/reject": Call(
        "POST",
        lambda w: f"/service-logs/{w.pending_log}/reject",
        lambda w: {"reason": "not in the rota"},
        (401, 403, 403, 200, 403, 200),
    ),
    "POST /service-logs/{id}/reverse": Call(
        "POST",
        lambda w: f"/service-logs/{w.approved_log}/reverse",
        lambda w: {"reason": "logged twice"},
        (401, 403, 403, 200, 403, 200),
    ),
    # Minutes leave an account only with the member's consent: the member, their agent,
    # or the code of their card given at the delivering team's counter.
    "POST /redemptions (for the volunteer, no consent)": Call(
        "POST",
        lambda w: "/redemptions",
        lambda w: {
            "minutes": 20,
            "service": "haircut",
            "team_id": str(w.care_team),
            "member_id": str(w.volunteer),
        },
        (401, 201, 403, 403, 403, 403),
    ),
    "POST /redemptions (for the volunteer, with her card code)": Call(
        "POST",
        lambda w: "/redemptions",
        lambda w: {
            "minutes": 20,
            "service": "haircut",
            "team_id": str(w.care_team),
            "member_id": str(w.volunteer),
            "card_code": w.card_code,
        },
        (401, 201, 403, 201, 403, 201),
    ),
    "GET /redemptions/{id}": Call(
        "GET", lambda w: f"/redemptions/{w.redemption}", no_body, (401, 200, 403, 200, 200, 200)
    ),
    "POST /redemptions/{id}/fulfil": Call(
        "POST",
        lambda w: f"/redemptions/{w.redemption}/fulfil",
        no_body,
        (401, 403, 403, 200, 403, 200),
    ),
    "POST /redemptions/{id}/cancel": Call(
        "POST",
        lambda w: f"/redemptions/{w.redemption}/cancel",
        lambda w: {"reason": "feeling better"},
        (401, 200, 403, 200, 403, 200),
    ),
    # Every member may give from their own minutes; only the volunteer has any.
    "POST /transfers": Call(
        "POST",
        lambda w: "/transfers",
        lambda w: {"to_member_id": str(w.wang), "minutes": 5},
        (401, 201, 409, 409, 409, 409),
    ),
    "GET /transfers/{id}": Call(
        "GET", lambda w: f"/transfers/{w.transfer}", no_body, (401, 200, 403, 403, 200, 200)
    ),
    "GET /rankings/teams": Call(
        "GET", lambda w: "/rankings/teams", no_body, (401, 200, 200, 200, 200, 200)
    ),
    "GET /rankings/volunteers": Call(
        "GET",
        lambda w: f"/rankings/volunteers?team_id={w.care_team}",
        no_body,
        (401, 200, 200, 200, 200, 200),
    ),
    # Coordinator work: activities, reviews of many logs, care pairings.
    "POST /activities": Call(
        "POST",
        lambda w: "/activities",
        lambda w: {
            "team_id": str(w.care_team),
            "service_date": TODAY.isoformat(),
            "activity": "free clinic",
            "attendees": [{"member_id": str(w.volunteer), "minutes": 120}],
        },
        (401, 403, 403, 201, 403, 201),
    ),
    "GET /activities": Call(
        "GET", lambda w: "/activities", no_body, (401, 200, 200, 200, 200, 200)
    ),
    # An activity: its attendees, the team's coordinators, auditors and admins.
    "GET /activities/{id}": Call(
        "GET", lambda w: f"/activities/{w.outing()}", no_body, (401, 200, 403, 200, 200, 200)
    ),
    "POST /activities/{id}/attendees": Call(
        "POST",
        lambda w: f"/activities/{w.outing()}/attendees",
        lambda w: {"member_id": str(w.wang), "minutes": 30},
        (401, 403, 403, 200, 403, 200),
    ),
    "POST /activities/{id}/attendees/{member_id}/remove": Call(
        "POST",
        lambda w: f"/activities/{w.outing()}/attendees/{w.volunteer}/remove",
        lambda w: {"reason": "left before it began"},
        (401, 403, 403, 200, 403, 200),
    ),
    # Anyone may ask; each log is then decided on its own, and a log the caller may not
    # decide is refused in the answer (test_coordination.py).
    "POST /service-logs/review": Call(
        "POST",
        lambda w: "/service-logs/review",
        lambda w: {"decisions": [{"service_log_id": str(w.pending_log), "action": "approve"}]},
        (401, 200, 200, 200, 200, 200),
    ),
    "POST /pairings": Call(
        "POST",
        lambda w: "/pairings",
        lambda w: {
            "team_id": str(w.care_team),
            "beneficiary_id": str(w.wang),
            "volunteer_id": str(w.volunteer),
        },
        (401, 403, 403, 201, 403, 201),
    ),
    "POST /pairings/{id}/end": Call(
        "POST",
        lambda w: f"/pairings/{w.pairing}/end",
        lambda w: {"reason": "moved in with her son"},
        (401, 403, 403, 200, 403, 200),
    ),
    # Lists hold what the caller may see: their own pairings, their teams', or all.
    "GET /pairings": Call("GET", lambda w: "/pairings", no_body, (401, 200, 200, 200, 200, 200)),
    "GET /pairings/care-gaps": Call(
        "GET", lambda w: "/pairings/care-gaps", no_body, (401, 200, 200, 200, 200, 200)
    ),
    "GET /pairings/{id}": Call(
        "GET", lambda w: f"/pairings/{w.pairing}", no_body, (401, 200, 403, 200, 200, 200)
    ),
    # Finding people: any member by a card's code; a team's members by its coordinators.
    "GET /me": Call("GET", lambda w: "/me", no_body, (401, 200, 200, 200, 200, 200)),
    "GET /members/lookup": Call(
        "GET",
        lambda w: f"/members/lookup?code={member_code(w.wang)}",
        no_body,
        (401, 200, 200, 200, 200, 200),
    ),
    "GET /teams/{id}/members": Call(
        "GET",
        lambda w: f"/teams/{w.care_team}/members?name=li",
        no_body,
        (401, 403, 403, 200, 200, 200),
    ),
    # The community's rules: every member reads them; admins adopt; admins and auditors
    # try a change first.
    "GET /policy": Call("GET", lambda w: "/policy", no_body, (401, 200, 200, 200, 200, 200)),
    "POST /policy": Call(
        "POST",
        lambda w: "/policy",
        lambda w: {"rules": {"balance_cap_minutes": 60000}, "reason": "the fund's new limit"},
        (401, 403, 403, 403, 403, 201),
    ),
    "POST /policy/what-if": Call(
        "POST",
        lambda w: "/policy/what-if",
        lambda w: {"balance_cap_minutes": 60000},
        (401, 403, 403, 403, 200, 200),
    ),
    # Allowed, and none signed yet in this world: 404 for those who may read it.
    "GET /audit/checkpoints/latest": Call(
        "GET", lambda w: "/audit/checkpoints/latest", no_body, (401, 403, 403, 403, 404, 404)
    ),
    "GET /audit/sign-in-failures": Call(
        "GET", lambda w: "/audit/sign-in-failures", no_body, (401, 403, 403, 403, 403, 200)
    ),
    "GET /audit/events": Call(
        "GET", lambda w: "/audit/events", no_body, (401, 403, 403, 403, 200, 200)
    ),
    "GET /audit/replay": Call(
        "GET", lambda w: "/audit/replay", no_body, (401, 403, 403, 403, 200, 200)
    ),
    "GET /audit/trust-report": Call(
        "GET", lambda w: "/audit/trust-report", no_body, (401, 403, 403, 403, 200, 200)
    ),
    "GET /audit/verify": Call(
        "GET", lambda w: "/audit/verify", no_body, (401, 403, 403, 403, 200, 200)
    ),
    # Certificates: read as the member's statement (and by their issuer); issued by a
    # coordinator of the member's team or an admin, never by the member; verified by anyone.
    "GET /members/{id}/certificates": Call(
        "GET",
        lambda w: f"/members/{w.volunteer}/certificates",
        no_body,
        (401, 200, 403, 200, 200, 200),
    ),
    "POST /members/{id}/certificates": Call(
        "POST",
        lambda w: f"/members/{w.volunteer}/certificates",
        lambda w: {
            "period_from": "2026-01-01",
            "period_until": TODAY.isoformat(),
            "team_id": str(w.care_team),
        },
        (401, 403, 403, 201, 403, 201),
    ),
    "GET /certificates/{certificate_id}": Call(
        "GET",
        lambda w: f"/certificates/{_certificate(w)[0]}",
        no_body,
        (401, 200, 403, 200, 200, 200),
    ),
    "GET /certificates/{certificate_id}/pdf": Call(
        "GET",
        lambda w: f"/certificates/{_certificate(w)[0]}/pdf",
        no_body,
        (401, 200, 403, 200, 200, 200),
    ),
    "POST /certificates/{certificate_id}/revoke": Call(
        "POST",
        lambda w: f"/certificates/{_certificate(w)[0]}/revoke",
        lambda w: {"reason": "issued in error"},
        (401, 403, 403, 200, 403, 200),
    ),
    "GET /verification/{code}": Call(
        "GET",
        lambda w: f"/verification/{_certificate(w)[1]}",
        no_body,
        (200, 200, 200, 200, 200, 200),
    ),
    "GET /verify/{code}": Call(
        "GET", lambda w: f"/verify/{_certificate(w)[1]}", no_body, (200, 200, 200, 200, 200, 200)
    ),
    # Reports: whole tables at one position, under the rules of the lists they come from.
    "GET /reports/team-rankings": Call(
        "GET", lambda w: "/reports/team-rankings", no_body, (401, 200, 200, 200, 200, 200)
    ),
    "GET /reports/volunteer-rankings": Call(
        "GET", lambda w: "/reports/volunteer-rankings", no_body, (401, 200, 200, 200, 200, 200)
    ),
    "GET /reports/members/{member_id}/statement": Call(
        "GET",
        lambda w: f"/reports/members/{w.volunteer}/statement?format=csv",
        no_body,
        (401, 200, 403, 200, 200, 200),
    ),
    "GET /reports/service-logs": Call(
        "GET", lambda w: "/reports/service-logs", no_body, (401, 200, 200, 200, 200, 200)
    ),
    "GET /reports/honour-wall": Call(
        "GET", lambda w: "/reports/honour-wall", no_body, (401, 200, 200, 200, 200, 200)
    ),
    "GET /reports/pairings": Call(
        "GET", lambda w: "/reports/pairings", no_body, (401, 200, 200, 200, 200, 200)
    ),
    "GET /reports/care-gaps": Call(
        "GET", lambda w: "/reports/care-gaps", no_body, (401, 200, 200, 200, 200, 200)
    ),
}


def _certificate(world: World) -> tuple[str, str]:
    """A certificate of the volunteer's service the coordinator issued: its id and code."""
    ledger: TimeBank = world.client.app.state.ledger  # type: ignore[attr-defined]
    certificate = ledger.issue_certificate(
        actor_id=world.coordinator,
        volunteer_id=world.volunteer,
        period_from=date(2026, 1, 1),
        period_until=TODAY,
        log_ids=[world.approved_log],
        team_id=world.care_team,
    )
    return str(certificate.id), certificate.code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", TABLE)
def test_each_role_gets_what_the_table_says(world: World, endpoint: str, role: str) -> None:
    call = TABLE[endpoint]
    expected = call.expected[ROLES.index(role)]

    response = world.call(role, call.method, call.path(world), call.body(world))

    assert response.status_code == expected, response.text
    if expected >= 400:
        code = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            409: "insufficient_minutes",
        }[expected]
        assert response.json()["error"]["code"] == code


def test_the_table_covers_every_route_but_health(world: World) -> None:
    routes = {
        f"{method} {path}"
        for path, operations in world.client.get("/openapi.json").json()["paths"].items()
        for method in operations
    }
    covered = {f"{call.method.lower()} {_template(name)}" for name, call in TABLE.items()}

    assert routes - covered == {"get /health"}


def _template(name: str) -> str:
    """The OpenAPI path of a table row: `POST /service-logs/{id}` -> `/service-logs/{log_id}`."""
    path = name.split(" ")[1].split("?", maxsplit=1)[0]
    for prefix, parameter in (
        ("/members/{id}", "/members/{member_id}"),
        ("/tokens/{id}", "/tokens/{credential_id}"),
        ("/teams/{id}", "/teams/{team_id}"),
        ("/service-logs/{id}", "/service-logs/{log_id}"),
        ("/redemptions/{id}", "/redemptions/{redemption_id}"),
        ("/transfers/{id}", "/transfers/{transfer_id}"),
        ("/activities/{id}", "/activities/{activity_id}"),
        ("/pairings/{id}", "/pairings/{pairing_id}"),
    ):
        if path.startswith(prefix):
            return parameter + path[len(prefix) :]
    return path
