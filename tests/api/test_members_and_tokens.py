"""Members and their tokens over HTTP: registration, sign-in, new tokens, revocation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import ADMIN_TOKEN, World, bearer, make_settings
from tests.support import TODAY, fixed_clock


def test_an_admin_registers_a_member_who_signs_in_with_the_token_shown(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/members",
        json={"name": "  Wang Fang ", "birth_date": "1950-03-15", "roles": ["auditor"]},
        headers=admin,
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "roles", "registered_at", "token", "credential_id"}
    assert (body["name"], body["roles"]) == ("Wang Fang", ["auditor"])
    assert body["registered_at"].endswith("Z")
    member = client.get(f"/members/{body['id']}", headers=bearer(body["token"]))
    assert member.status_code == 200
    profile = member.json()
    assert {k: profile[k] for k in ("id", "name", "roles", "registered_at")} == {
        k: body[k] for k in ("id", "name", "roles", "registered_at")
    }
    assert (profile["teams"], profile["star_level"], profile["lifetime_minutes"]) == ([], 0, 0)


def test_the_ledger_keeps_no_token_in_the_clear(
    client: TestClient, admin: dict[str, str], tmp_path: Path
) -> None:
    token = client.post("/members", json={"name": "Li"}, headers=admin).json()["token"]

    stored = b"".join(path.read_bytes() for path in tmp_path.glob("timebank.db*"))
    assert b"Li" in stored
    assert token.encode() not in stored


def test_a_member_registered_as_admin_may_register_others(
    client: TestClient, admin: dict[str, str]
) -> None:
    token = client.post("/members", json={"name": "Zhou", "roles": ["admin"]}, headers=admin)

    response = client.post("/members", json={"name": "Qian"}, headers=bearer(token.json()["token"]))

    assert response.status_code == 201


def test_a_birth_date_in_the_future_is_invalid(client: TestClient, admin: dict[str, str]) -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()

    response = client.post("/members", json={"name": "Li", "birth_date": tomorrow}, headers=admin)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [d["field"] for d in error["details"]] == ["birth_date"]


def test_an_unknown_member_is_not_found(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get("/members/3f0c1a52-8f6b-4a2e-9d7c-2b1e5a6c9d10", headers=admin)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_without_a_token_the_answer_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.post("/members", json={"name": "Li"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"


def test_an_unknown_token_or_another_scheme_is_401(client: TestClient) -> None:
    unknown = client.get("/teams/3f0c1a52-8f6b-4a2e-9d7c-2b1e5a6c9d10", headers=bearer("nope"))
    basic = client.get(
        "/teams/3f0c1a52-8f6b-4a2e-9d7c-2b1e5a6c9d10", headers={"Authorization": "Basic YTpi"}
    )

    assert unknown.status_code == 401
    assert unknown.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert basic.status_code == 401


def test_the_admin_token_works_only_when_configured(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, admin_token=None)
    with TestClient(create_app(settings, clock=fixed_clock)) as client:
        response = client.post("/members", json={"name": "Li"}, headers=bearer(ADMIN_TOKEN))

    assert response.status_code == 401


def test_an_admin_issues_another_token_and_both_work(world: World) -> None:
    response = world.call("admin", "POST", f"/members/{world.volunteer}/tokens")

    assert response.status_code == 201
    issued = response.json()
    assert issued["member_id"] == str(world.volunteer)
    for token in (issued["token"], world.tokens["volunteer"]):
        assert world.client.get(f"/members/{world.volunteer}", headers=bearer(token)).is_success


def test_a_token_for_an_unknown_member_is_not_issued(world: World) -> None:
    response = world.call("admin", "POST", "/members/3f0c1a52-8f6b-4a2e-9d7c-2b1e5a6c9d10/tokens")

    assert response.status_code == 404


def test_a_member_revokes_their_own_token_and_it_stops_working_at_once(world: World) -> None:
    me = world.call("volunteer", "GET", f"/members/{world.volunteer}").json()
    own = world.call("admin", "POST", f"/members/{world.volunteer}/tokens").json()

    revoked = world.client.delete(f"/tokens/{own['credential_id']}", headers=bearer(own["token"]))

    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    after = world.client.get(f"/members/{world.volunteer}", headers=bearer(own["token"]))
    assert after.status_code == 401
    assert world.call("volunteer", "GET", f"/members/{world.volunteer}").json() == me


def test_a_token_is_revoked_once(world: World) -> None:
    path = f"/tokens/{world.spare_credential}"
    world.call("admin", "DELETE", path)

    again = world.call("admin", "DELETE", path)
    record = world.call("volunteer", "GET", path)

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_state"
    assert record.json()["status"] == "revoked"
    assert "token" not in record.json()


def test_an_unknown_credential_is_not_found(world: World) -> None:
    response = world.call("admin", "DELETE", "/tokens/3f0c1a52-8f6b-4a2e-9d7c-2b1e5a6c9d10")

    assert response.status_code == 404


def test_a_retried_registration_shows_the_same_token_even_after_a_restart(
    tmp_path: Path,
) -> None:
    headers = bearer(ADMIN_TOKEN) | {"Idempotency-Key": "register-li-1"}
    with TestClient(create_app(make_settings(tmp_path), clock=fixed_clock)) as client:
        first = client.post("/members", json={"name": "Li"}, headers=headers)
    with TestClient(create_app(make_settings(tmp_path), clock=fixed_clock)) as client:
        repeat = client.post("/members", json={"name": "Li"}, headers=headers)
        signed_in = client.get(
            f"/members/{first.json()['id']}", headers=bearer(first.json()["token"])
        )

    assert (first.status_code, repeat.status_code) == (201, 201)
    assert repeat.json() == first.json()
    assert signed_in.status_code == 200


def test_after_the_token_secret_changes_a_retry_cannot_show_the_token_again(
    tmp_path: Path,
) -> None:
    headers = bearer(ADMIN_TOKEN) | {"Idempotency-Key": "register-li-1"}
    with TestClient(create_app(make_settings(tmp_path), clock=fixed_clock)) as client:
        first = client.post("/members", json={"name": "Li"}, headers=headers).json()
    rotated = make_settings(tmp_path, token_secret="a-rotated-secret-0123456789abcdef0123456789")
    with TestClient(create_app(rotated, clock=fixed_clock)) as client:
        repeat = client.post("/members", json={"name": "Li"}, headers=headers)
        signed_in = client.get(f"/members/{first['id']}", headers=bearer(first["token"]))

    assert repeat.status_code == 201
    assert repeat.json() == first | {"token": None}
    assert signed_in.status_code == 200
