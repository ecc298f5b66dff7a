"""Trust over HTTP: who may read a member's data, and what rankings and rosters show."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import World
from tests.support import TODAY


def registered(world: World, name: str) -> dict[str, Any]:
    answer: dict[str, Any] = world.call("admin", "POST", "/members", {"name": name}).json()
    return answer


def as_member(world: World, token: str, method: str, path: str, body: Any = None) -> Any:
    return world.client.request(
        method, path, json=body, headers={"Authorization": f"Bearer {token}"}
    )


def test_enrolling_someone_is_no_reason_to_read_their_statement(world: World) -> None:
    """Case 4: a coordinator who adds a member sees their statement only once they accept."""
    newcomer = registered(world, "Zhou")
    statement = f"/members/{newcomer['id']}/statement"
    assert world.call("coordinator", "GET", statement).status_code == 403

    added = world.call(
        "coordinator",
        "POST",
        f"/teams/{world.care_team}/members",
        {"member_id": newcomer["id"], "role": "volunteer"},
    )

    assert added.status_code == 201
    for path in (statement, f"/members/{newcomer['id']}/balance", f"/members/{newcomer['id']}"):
        assert world.call("coordinator", "GET", path).status_code == 403, path
    accept = f"/teams/{world.care_team}/members/{newcomer['id']}/accept"
    assert world.call("coordinator", "POST", accept).status_code == 403  # not for him to say
    accepted = as_member(world, newcomer["token"], "POST", accept)
    assert accepted.status_code == 200, accepted.text
    assert world.call("coordinator", "GET", statement).status_code == 200


def test_an_agent_reads_the_members_balance(world: World) -> None:
    balance = world.call("volunteer", "GET", f"/members/{world.volunteer}/balance").json()
    wang_token = world.call("admin", "POST", f"/members/{world.wang}/tokens").json()["token"]

    as_agent = as_member(world, wang_token, "GET", f"/members/{world.volunteer}/balance")

    assert as_agent.status_code == 200
    assert as_agent.json() == balance


def test_rankings_name_only_members_of_ones_communities_and_not_the_anonymous(
    world: World,
) -> None:
    """Case 7: Li (Dongcheng) sees Wang by name but not the patrol volunteer in Xinghuo;
    a member who chose to be anonymous is 匿名志愿者 to her, never to their coordinator."""
    zhao = registered(world, "Zhao")
    world.call(
        "admin",
        "POST",
        f"/teams/{world.patrol_team}/members",
        {"member_id": zhao["id"], "role": "volunteer", "effective_date": "2026-01-01"},
    )
    wang_token = world.call("admin", "POST", f"/members/{world.wang}/tokens").json()["token"]
    chosen = as_member(
        world, wang_token, "POST", f"/members/{world.wang}/publicity", {"anonymous": True}
    )
    assert chosen.status_code == 200
    assert chosen.json()["anonymous"] is True

    seen_by_li = world.call("volunteer", "GET", "/rankings/volunteers?limit=500").json()["items"]
    seen_by_chen = world.call("coordinator", "GET", "/rankings/volunteers").json()["items"]

    names_li = {row["name"] for row in seen_by_li}
    assert "Li" in names_li
    assert "Zhao" not in names_li
    assert "Wang" not in names_li
    hidden = [row for row in seen_by_li if row["name"] == "匿名志愿者"]
    assert len(hidden) >= 2
    assert all(row["member_id"] is None for row in hidden)
    assert {"Wang", "Li"} <= {row["name"] for row in seen_by_chen}
    assert world.call("auditor", "GET", "/rankings/volunteers").json()["items"][0]["name"] != (
        "匿名志愿者"
    )


def test_hidden_rows_still_page_without_revealing_who_they_are(world: World) -> None:
    registered_ids = set()
    for n in range(3):
        member = registered(world, f"Patroller {n}")
        registered_ids.add(member["id"])
        world.call(
            "admin",
            "POST",
            f"/teams/{world.patrol_team}/members",
            {"member_id": member["id"], "role": "volunteer", "effective_date": "2026-01-01"},
        )
    seen: list[dict[str, Any]] = []
    path = "/rankings/volunteers?limit=1"
    while True:
        page = world.call("volunteer", "GET", path).json()
        seen.extend(page["items"])
        if page["next_after"] is None:
            break
        assert page["next_after"] not in registered_ids
        path = f"/rankings/volunteers?limit=1&after={page['next_after']}"

    everyone = world.call("volunteer", "GET", "/rankings/volunteers").json()["items"]
    assert seen == everyone


def test_team_rosters_are_for_the_teams_coordinators(world: World) -> None:
    """Case 7: a volunteer's team list shows her own membership, never the rosters."""
    as_li = {t["name"]: t for t in world.call("volunteer", "GET", "/teams").json()["items"]}
    as_chen = {t["name"]: t for t in world.call("coordinator", "GET", "/teams").json()["items"]}

    assert [m["member_id"] for m in as_li["Day care"]["members"]] == [str(world.volunteer)]
    assert as_li["Night patrol"]["members"] == []
    assert {m["member_id"] for m in as_chen["Day care"]["members"]} == {
        str(world.coordinator),
        str(world.volunteer),
        str(world.wang),
    }
    assert as_chen["Night patrol"]["members"] == []
    single = world.call("volunteer", "GET", f"/teams/{world.care_team}").json()
    assert single == as_li["Day care"]


def test_a_refusal_for_another_member_names_the_rule_not_their_minutes(world: World) -> None:
    """Case 5: at the counter, a redemption of 100,000,000 minutes says nothing of what
    Li holds; she herself is told."""
    body = {
        "minutes": 100_000_000,
        "service": "home care",
        "team_id": str(world.care_team),
        "member_id": str(world.volunteer),
        "card_code": world.card_code,
    }
    available = world.call("volunteer", "GET", f"/members/{world.volunteer}/balance").json()[
        "available_minutes"
    ]

    for_her = world.call("coordinator", "POST", "/redemptions", body)
    own = world.call("volunteer", "POST", "/redemptions", body)

    assert for_her.status_code == own.status_code == 409
    assert f"{available} minutes" not in for_her.json()["error"]["message"]
    assert f"has {available} minutes available" in own.json()["error"]["message"]


def test_a_card_prints_a_sign_in_link_and_a_code_that_works_at_the_counter(world: World) -> None:
    card = world.call(
        "coordinator", "POST", f"/members/{world.volunteer}/card", {"team_id": str(world.care_team)}
    )

    assert card.status_code == 201
    printed = card.json()
    assert printed["card_number"] == 2
    assert len(printed["code"]) == 8
    link = as_member(world, printed["token"], "GET", f"/members/{world.volunteer}")
    assert link.status_code == 200
    record = world.call("admin", "GET", f"/tokens/{printed['credential_id']}").json()
    assert (record["kind"], record["issued_by_other"]) == ("card", True)
    old_code = {
        "minutes": 5,
        "service": "haircut",
        "team_id": str(world.care_team),
        "member_id": str(world.volunteer),
        "card_code": world.card_code,
    }
    assert world.call("admin", "POST", "/redemptions", old_code).status_code == 403
    new_code = old_code | {"card_code": printed["code"]}
    assert world.call("coordinator", "POST", "/redemptions", new_code).status_code == 403  # his
    assert world.call("admin", "POST", "/redemptions", new_code).status_code == 201


def test_the_trust_report_lists_spends_with_a_token_an_admin_issued(world: World) -> None:
    """Case 3: an admin's token for Li, used to give her minutes to the admin."""
    issued = world.call("admin", "POST", f"/members/{world.volunteer}/tokens").json()
    gift = as_member(
        world,
        issued["token"],
        "POST",
        "/transfers",
        {"to_member_id": str(world.admin), "minutes": 5},
    )
    assert gift.status_code == 201

    report = world.call("auditor", "GET", "/audit/trust-report").json()

    [spend] = report["with_others_credentials"]
    assert (spend["id"], spend["credential_id"], spend["credential_issued_by"]) == (
        gift.json()["id"],
        issued["credential_id"],
        str(world.admin),
    )


def test_a_far_future_role_change_is_refused_and_any_membership_can_be_ended(
    world: World,
) -> None:
    """Case 6."""
    far = world.call(
        "admin",
        "POST",
        f"/teams/{world.care_team}/members",
        {"member_id": str(world.coordinator), "role": "volunteer", "effective_date": "9999-12-31"},
    )
    assert far.status_code == 422
    soon = world.call(
        "admin",
        "POST",
        f"/teams/{world.care_team}/members",
        {"member_id": str(world.coordinator), "role": "volunteer", "effective_date": "2026-12-10"},
    )
    assert soon.status_code == 201

    ended = world.call("admin", "DELETE", f"/teams/{world.care_team}/members/{world.coordinator}")
    again = world.call(
        "admin",
        "POST",
        f"/teams/{world.care_team}/members",
        {"member_id": str(world.coordinator), "role": "coordinator"},
    )

    assert ended.status_code == 200, ended.text
    assert again.status_code == 201, again.text
    assert {"member_id": str(world.coordinator), "role": "coordinator"}.items() <= next(
        m for m in again.json()["members"] if m["member_id"] == str(world.coordinator)
    ).items()
    assert TODAY.isoformat() == again.json()["members"][-1]["since"]
