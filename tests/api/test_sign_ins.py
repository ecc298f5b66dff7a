"""Tokens with a lifetime, a limit on refused sign-ins per address, and their record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import ADMIN_TOKEN, bearer, make_settings
from tests.support import fixed_clock
from tests.web.conftest import csrf_of

ADMIN = bearer(ADMIN_TOKEN)


def serve(tmp_path: Path, **settings: Any) -> TestClient:
    return TestClient(create_app(make_settings(tmp_path, **settings), clock=fixed_clock))


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[TestClient]:
    """Tokens live an hour; three refused tokens a minute from one address."""
    with serve(tmp_path, token_lifetime=3600, sign_in_failure_limit=3) as client:
        yield client


def register(client: TestClient, name: str) -> tuple[str, str]:
    body = client.post("/members", json={"name": name}, headers=ADMIN).json()
    return body["id"], body["token"]


def later(client: TestClient, by: timedelta) -> None:
    """Move the sign-in clock of the server on by `by`."""
    guard = client.app.state.sign_ins  # type: ignore[attr-defined]
    guard.now = lambda: datetime.now(UTC) + by


def test_a_token_past_its_lifetime_is_refused_with_its_own_code(strict: TestClient) -> None:
    member, token = register(strict, "Li")
    assert strict.get(f"/members/{member}", headers=bearer(token)).status_code == 200

    later(strict, timedelta(hours=1, seconds=1))
    refused = strict.get(f"/members/{member}", headers=bearer(token))

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_expired"
    assert refused.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert strict.get(f"/members/{member}", headers=ADMIN).status_code == 200


def test_a_token_that_expires_after_its_answer_was_kept_is_refused_all_the_same(
    strict: TestClient,
) -> None:
    """A kept answer (api/answers.py) is given only to a caller signed in now."""
    member, token = register(strict, "Li")
    path = f"/members/{member}/balance"
    first = strict.get(path, headers=bearer(token))
    again = strict.get(path, headers=bearer(token))
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"

    later(strict, timedelta(hours=1, seconds=1))
    refused = strict.get(path, headers=bearer(token))

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_expired"
    failures = strict.get("/audit/sign-in-failures", headers=ADMIN).json()["items"]
    assert [item["reason"] for item in failures] == ["expired"]


def test_a_token_past_its_lifetime_does_not_sign_in_to_the_pages(strict: TestClient) -> None:
    _, token = register(strict, "Li")
    later(strict, timedelta(hours=1, seconds=1))
    form = strict.get("/signin")
    refused = strict.post("/signin", data={"token": token, "csrf": csrf_of(form.text)})

    assert refused.status_code == 401
    assert "这个令牌已过期，请向您的协调员或管理员申领新的令牌。" in refused.text
    assert strict.get("/my", follow_redirects=False).status_code != 200
    failures = strict.get("/audit/sign-in-failures", headers=ADMIN).json()["items"]
    assert [item["reason"] for item in failures] == ["expired"]


def test_refused_sign_ins_on_the_pages_count_toward_the_same_limit_as_the_apis(
    strict: TestClient,
) -> None:
    """Guessing through the sign-in form or card links is limited and recorded as through
    the API: one count per address, whichever way the tokens came."""
    _, token = register(strict, "Li")
    csrf = csrf_of(strict.get("/signin").text)
    guesses = [strict.post("/signin", data={"token": f"wrong-{n}", "csrf": csrf}) for n in (1, 2)]
    guesses.append(strict.get("/card/a-guessed-card-link"))
    limited = strict.post("/signin", data={"token": "wrong-3", "csrf": csrf})
    through_the_api = strict.get("/me", headers=bearer("wrong-4"))

    assert [r.status_code for r in guesses] == [401, 401, 401]
    assert "令牌或卡片链接无效或已失效" in guesses[0].text
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "此设备的登录失败次数过多" in limited.text
    assert through_the_api.status_code == 429
    signed_in = strict.post("/signin", data={"token": token, "csrf": csrf})
    assert signed_in.status_code == 200
    assert "Li，您好" in signed_in.text
    kept = strict.get("/audit/sign-in-failures", headers=ADMIN).json()["items"]
    assert [item["reason"] for item in kept] == ["limited", "unknown", "unknown", "unknown"]


def test_a_live_token_is_rotated_for_a_new_one_and_an_expired_one_cannot_be(
    strict: TestClient,
) -> None:
    member, token = register(strict, "Li")
    _, other = register(strict, "Wang")
    later(strict, timedelta(minutes=50))
    rotated = strict.post("/tokens/rotate", headers=bearer(token))
    assert rotated.status_code == 201, rotated.text
    assert (
        strict.get(f"/members/{member}", headers=bearer(rotated.json()["token"])).status_code == 200
    )
    assert strict.get(f"/members/{member}", headers=bearer(token)).status_code == 401

    later(strict, timedelta(hours=2))
    too_late = strict.post("/tokens/rotate", headers=bearer(other))

    assert too_late.status_code == 401
    assert too_late.json()["error"]["code"] == "token_expired"


def test_without_a_lifetime_tokens_do_not_expire(tmp_path: Path) -> None:
    with serve(tmp_path) as client:
        member, token = register(client, "Li")
        later(client, timedelta(days=3650))
        assert client.get(f"/members/{member}", headers=bearer(token)).status_code == 200


def test_refused_tokens_from_one_address_are_limited_but_a_valid_token_still_signs_in(
    strict: TestClient,
) -> None:
    member, token = register(strict, "Li")
    wrong = [strict.get("/me", headers=bearer(f"wrong-{n}")) for n in range(5)]

    assert [r.status_code for r in wrong] == [401, 401, 401, 429, 429]
    limited = wrong[-1]
    assert limited.json()["error"]["code"] == "too_many_attempts"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert strict.get(f"/members/{member}", headers=bearer(token)).status_code == 200
    assert strict.get(f"/members/{member}", headers=ADMIN).status_code == 200
    kept = strict.get("/audit/sign-in-failures", headers=ADMIN).json()["items"]
    assert [item["reason"] for item in kept] == ["limited", "unknown", "unknown", "unknown"]


def test_admins_read_the_refused_sign_ins_and_no_token_is_in_them(strict: TestClient) -> None:
    _, token = register(strict, "Li")
    strict.get("/me", headers=bearer("a-guessed-token"))
    later(strict, timedelta(hours=2))
    strict.get("/me", headers=bearer(token))

    listed = strict.get("/audit/sign-in-failures", headers=ADMIN)

    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [item["reason"] for item in items] == ["expired", "unknown"]
    assert items[0]["credential_id"] is not None
    assert items[1]["credential_id"] is None
    assert all(item["address"] == "testclient" for item in items)
    assert "a-guessed-token" not in listed.text
    assert token not in listed.text


def test_a_printed_cards_link_does_not_expire_with_the_tokens(strict: TestClient) -> None:
    """A card lives until a new card replaces it: nobody rotates a card in their wallet."""
    member, _ = register(strict, "Grandma Wu")
    card = strict.post(f"/members/{member}/card", json={}, headers=ADMIN)
    assert card.status_code == 201, card.text

    later(strict, timedelta(days=400))

    assert strict.get(f"/members/{member}", headers=bearer(card.json()["token"])).status_code == 200
