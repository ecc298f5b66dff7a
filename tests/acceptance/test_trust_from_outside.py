"""The trust issue's seven cases, replayed from outside against a real server over HTTP.

Each step is what a coordinator, an admin or a volunteer could try with curl; each must
now be refused (or, where the ledger allows it, marked for auditors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.server import ADMIN_TOKEN, serving

FAR_BACK = "1900-01-01"


class Caller:
    """One person at their own terminal: their token and the calls they make."""

    def __init__(self, client: httpx.Client, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path, headers=self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.client.post(path, json=body, headers=self.headers)

    def delete(self, path: str) -> httpx.Response:
        return self.client.delete(path, headers=self.headers)


def ok(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: httpx.Response, status: int = 403) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["error"]["message"]
    return message


@dataclass
class Scene:
    """A day-care team and a patrol team, an elder in none, and who has which token.
    Everyone has exchanged the token they were handed at registration for their own."""

    client: httpx.Client
    system: Caller
    people: dict[str, tuple[str, Caller]] = field(default_factory=dict)
    care: str = ""
    patrol: str = ""

    def id(self, name: str) -> str:
        return self.people[name][0]

    def by(self, name: str) -> Caller:
        return self.people[name][1]


def set_the_scene(client: httpx.Client) -> Scene:
    scene = Scene(client, Caller(client, ADMIN_TOKEN))
    for name, fields in (
        ("admin", {"roles": ["admin"]}),
        ("auditor", {"roles": ["auditor"]}),
        ("c1", {}),
        ("c2", {}),
        ("v3", {}),
        ("v2", {}),
        ("zhao", {}),
        ("grandma", {"birth_date": "1944-03-08"}),
    ):
        body = ok(scene.system.post("/members", {"name": name.title(), **fields}))
        handed = Caller(client, body["token"])
        own = ok(handed.post("/tokens/rotate"))["token"]
        scene.people[name] = (body["id"], Caller(client, own))
    founded = {"founded_on": "2026-01-01"}
    scene.care = ok(
        scene.system.post("/teams", {"name": "Day care", "community": "Dongcheng"} | founded)
    )["id"]
    scene.patrol = ok(
        scene.system.post("/teams", {"name": "Patrol", "community": "Xinghuo"} | founded)
    )["id"]
    for team, who, role in (
        (scene.care, "c1", "coordinator"),
        (scene.patrol, "c2", "coordinator"),
        (scene.care, "v3", "volunteer"),
        (scene.patrol, "zhao", "volunteer"),
    ):
        body = {"member_id": scene.id(who), "role": role, "effective_date": "2026-01-01"}
        ok(scene.system.post(f"/teams/{team}/members", body))
    for who in ("c1", "v3"):
        ok(scene.by(who).post(f"/teams/{scene.care}/members/{scene.id(who)}/accept"), 200)
    logged = ok(
        scene.by("v3").post(
            "/service-logs",
            {
                "team_id": scene.care,
                "service_date": "2026-02-01",
                "minutes": 300,
                "activity": "care",
            },
        )
    )
    ok(scene.by("c1").post(f"/service-logs/{logged['id']}/approve"), 200)
    ok(scene.by("v3").post("/transfers", {"to_member_id": scene.id("grandma"), "minutes": 120}))
    return scene


def nobody_spends_the_elders_minutes_alone(scene: Scene) -> str:
    """1. Not her team's coordinator, not another team's, not an admin alone. With her
    card's code they may ask, and someone else confirms the delivery. Returns the code."""
    c1, c2, admin = scene.by("c1"), scene.by("c2"), scene.by("admin")
    grandma = scene.id("grandma")
    spend = {"team_id": scene.care, "member_id": grandma, "minutes": 90, "service": "home care"}
    refused(c1.post("/redemptions", spend))
    refused(c2.post("/redemptions", spend | {"team_id": scene.patrol, "minutes": 600}))
    refused(admin.post("/redemptions", spend))
    gift = {"from_member_id": grandma, "to_member_id": scene.id("admin"), "minutes": 60}
    refused(admin.post("/transfers", gift))
    card = ok(scene.system.post(f"/members/{grandma}/card"))
    held = ok(c1.post("/redemptions", spend | {"card_code": card["code"]}))
    assert (held["consent"], held["consented_by"]) == ("card", grandma)
    refused(c1.post(f"/redemptions/{held['id']}/fulfil"))
    ok(admin.post(f"/redemptions/{held['id']}/fulfil"), 200)
    balance = ok(scene.by("auditor").get(f"/members/{grandma}/balance"), 200)
    assert balance["balance_minutes"] == 30
    code: str = card["code"]
    return code


def nobody_credits_themself(scene: Scene) -> None:
    """2. A coordinator appoints no coordinator, backdates no membership, does not approve
    his own service; what he logs and approves for a volunteer is marked and listed."""
    c1, care = scene.by("c1"), scene.care
    body = {"member_id": scene.id("v3"), "role": "coordinator"}
    refused(c1.post(f"/teams/{care}/members", body))
    body = {"member_id": scene.id("v2"), "role": "volunteer", "effective_date": FAR_BACK}
    refused(c1.post(f"/teams/{care}/members", body), 422)
    day = {"team_id": care, "minutes": 1440, "activity": "care"}
    own = ok(c1.post("/service-logs", day | {"service_date": "2026-02-02"}))
    refused(c1.post(f"/service-logs/{own['id']}/approve"))
    for_v3 = ok(
        c1.post(
            "/service-logs", day | {"service_date": "2026-02-03", "volunteer_id": scene.id("v3")}
        )
    )
    certified = ok(c1.post(f"/service-logs/{for_v3['id']}/approve"), 200)
    assert certified["certified_by_recorder"] is True
    report = ok(scene.by("auditor").get("/audit/trust-report"), 200)
    per_coordinator = [(c["coordinator_id"], c["minutes"]) for c in report["per_coordinator"]]
    assert per_coordinator == [(scene.id("c1"), 1440)]


def tokens_an_admin_issued_are_marked(scene: Scene) -> None:
    """3. What is spent with them is listed for the auditor."""
    admin = scene.by("admin")
    issued = ok(admin.post(f"/members/{scene.id('v3')}/tokens"))
    as_v3 = Caller(scene.client, issued["token"])
    gift = ok(as_v3.post("/transfers", {"to_member_id": scene.id("admin"), "minutes": 60}))
    assert ok(admin.get(f"/tokens/{issued['credential_id']}"), 200)["issued_by_other"] is True
    listed = ok(scene.by("auditor").get("/audit/trust-report"), 200)["with_others_credentials"]
    assert [(s["id"], s["credential_issued_by"]) for s in listed] == [
        (gift["id"], scene.id("admin"))
    ]


def enrolling_is_no_reason_to_read(scene: Scene) -> None:
    """4. The coordinator reads a member's statement once the member accepted."""
    c1, v2 = scene.by("c1"), scene.id("v2")
    refused(c1.get(f"/members/{v2}/statement"))
    ok(c1.post(f"/teams/{scene.care}/members", {"member_id": v2, "role": "volunteer"}))
    refused(c1.get(f"/members/{v2}/statement"))
    ok(scene.by("v2").post(f"/teams/{scene.care}/members/{v2}/accept"), 200)
    ok(c1.get(f"/members/{v2}/statement"), 200)


def refusals_name_the_rule(scene: Scene, code: str) -> None:
    """5. Not what another member holds (Grandma has 30 minutes left)."""
    spend = {
        "team_id": scene.care,
        "member_id": scene.id("grandma"),
        "minutes": 100_000_000,
        "service": "home care",
        "card_code": code,
    }
    message = refused(scene.by("c1").post("/redemptions", spend), 409)
    assert "30 minutes" not in message
    assert "available" in message


def every_membership_can_be_ended(scene: Scene) -> None:
    """6. No role change dated far ahead; an admin ends any membership."""
    c1, admin = scene.id("c1"), scene.by("admin")
    far = {"member_id": c1, "role": "volunteer", "effective_date": "9999-12-31"}
    refused(scene.system.post(f"/teams/{scene.care}/members", far), 422)
    ok(admin.delete(f"/teams/{scene.care}/members/{c1}"), 200)
    refused(scene.by("c1").get(f"/members/{scene.id('v3')}/statement"))
    ok(admin.post(f"/teams/{scene.care}/members", {"member_id": c1, "role": "coordinator"}))


def not_everyone_sees_everyone(scene: Scene) -> None:
    """7. No rosters of other teams, no names from other communities in the rankings."""
    v3 = scene.by("v3")
    teams = {t["name"]: t for t in ok(v3.get("/teams"), 200)["items"]}
    assert teams["Patrol"]["members"] == []
    assert [m["member_id"] for m in teams["Day care"]["members"]] == [scene.id("v3")]
    names = {row["name"] for row in ok(v3.get("/rankings/volunteers"), 200)["items"]}
    assert "Zhao" not in names
    assert "V3" in names


def replay_the_trust_cases(base: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        scene = set_the_scene(client)
        code = nobody_spends_the_elders_minutes_alone(scene)
        nobody_credits_themself(scene)
        tokens_an_admin_issued_are_marked(scene)
        enrolling_is_no_reason_to_read(scene)
        refusals_name_the_rule(scene, code)
        every_membership_can_be_ended(scene)
        not_everyone_sees_everyone(scene)


def test_the_trust_cases_replayed_over_http_on_sqlite(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path / 'ledger.db'}") as base:
        replay_the_trust_cases(base)


@pytest.mark.postgres
def test_the_trust_cases_replayed_over_http_on_postgres(postgres_url: str) -> None:
    with serving(postgres_url) as base:
        replay_the_trust_cases(base)
