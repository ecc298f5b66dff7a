"""What the API takes as text, numbers and dates, and the JSON it reads: one set of rules."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World
from tests.support import TODAY, event_count
from timebank import TimeBank


def ledger_of(world: World) -> TimeBank:
    ledger: TimeBank = world.client.app.state.ledger  # type: ignore[attr-defined]
    return ledger


def refused_field(response: Any) -> tuple[str, str]:
    """The one field a 422 names, and what it says about it."""
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    [problem] = error["details"]
    return problem["field"], problem["message"]


def log_body(world: World, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "team_id": str(world.care_team),
        "service_date": TODAY.isoformat(),
        "minutes": 90,
        "activity": "home care",
    }
    body.update(fields)
    return body


# Texts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"activity": "\u200b\u200b\u200b"}, "activity", "must not be blank"),
        ({"activity": "care\x01\x1b[31m"}, "activity", "must not contain control characters"),
        ({"note": "bathed\x00and\x07fed"}, "note", "must not contain control characters"),
        (
            {"beneficiary": "Grandma \u202eLiu"},
            "beneficiary",
            "must not contain characters that reverse or reorder the text",
        ),
        (
            {"activity": "home\u2060care"},
            "activity",
            "must not contain invisible formatting characters",
        ),
    ],
)
def test_a_service_log_with_hidden_or_invisible_text_is_refused_naming_the_field(
    world: World, fields: dict[str, str], field: str, message: str
) -> None:
    before = event_count(ledger_of(world))

    response = world.call("volunteer", "POST", "/service-logs", log_body(world, **fields))

    assert refused_field(response) == (field, message)
    assert event_count(ledger_of(world)) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/members", {"name": "Li \u202eGNAW"}),
        ("/teams", {"name": "Day care", "community": "\u2067Dongcheng\u2069"}),
    ],
)
def test_names_with_a_right_to_left_override_are_refused(
    world: World, path: str, body: dict[str, str]
) -> None:
    response = world.call("admin", "POST", path, body)

    field, message = refused_field(response)
    assert field in body
    assert message == "must not contain characters that reverse or reorder the text"


def test_texts_are_stored_in_nfc_trimmed_of_invisible_edges_with_their_lines(
    world: World,
) -> None:
    member = world.call("admin", "POST", "/members", {"name": "\u200bRene\u0301 Li\ufeff"})
    assert member.status_code == 201, member.text
    assert member.json()["name"] == "Ren\u00e9 Li"

    log = world.call(
        "volunteer", "POST", "/service-logs", log_body(world, note="bathed\r\n\tthen fed")
    )
    assert log.status_code == 201, log.text
    assert log.json()["note"] == "bathed\n\tthen fed"


# Dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("0001-01-01", "must not be before 1900-01-01"),
        ("1899-12-31", "must not be before 1900-01-01"),
        ("2025-W02-3", "must be a date written YYYY-MM-DD"),
        ("2025-002", "must be a date written YYYY-MM-DD"),
        ("\u0662\u0660\u0662\u0666-01-02", "must be a date written YYYY-MM-DD"),
    ],
)
def test_service_dates_are_year_month_day_from_1900(world: World, day: str, message: str) -> None:
    response = world.call("volunteer", "POST", "/service-logs", log_body(world, service_date=day))

    assert refused_field(response) == ("service_date", message)


def test_a_birth_date_before_1900_is_refused(world: World) -> None:
    response = world.call("admin", "POST", "/members", {"name": "Li", "birth_date": "1899-12-31"})

    assert refused_field(response) == ("birth_date", "must not be before 1900-01-01")


# Numbers and periods in the query ---------------------------------------------------------


@pytest.mark.parametrize(
    "period",
    ["\u0662\u0660\u0662\u0666", "\uff12\uff10\uff12\uff16-11", "\u0968\u0966\u0968\u096c"],
)
@pytest.mark.parametrize("ranking", ["teams", "volunteers"])
def test_a_period_in_other_digits_is_refused_not_echoed(
    world: World, ranking: str, period: str
) -> None:
    response = world.call("volunteer", "GET", f"/rankings/{ranking}?period={period}")

    field, _ = refused_field(response)
    assert field == "period"
    assert world.call("volunteer", "GET", f"/rankings/{ranking}?period=2026").status_code == 200


@pytest.mark.parametrize("limit", ["\u0661\u0660", "\u00b2", "\uff15", "+5", "5_0", "5.0", " 5"])
def test_a_number_in_the_query_is_the_digits_0_to_9(world: World, limit: str) -> None:
    response = world.client.get(
        "/teams", params={"limit": limit}, headers=world.headers("volunteer")
    )

    assert refused_field(response) == (
        "limit",
        "must be a whole number written with the digits 0-9",
    )
    member = world.volunteer
    statement = world.call("volunteer", "GET", f"/members/{member}/statement?after=\u0660")
    assert refused_field(statement)[0] == "after"
    assert world.call("volunteer", "GET", "/teams?limit=5").status_code == 200


# JSON bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"name": "Li", "name": "Wang"}', "name"),
        (b'{"name": "Li", "roles": [], "roles": ["admin"]}', "roles"),
        (b'{"to_member_id": "x", "minutes": 10, "note": {"a": 1, "a": 2}}', "a"),
    ],
)
def test_a_body_with_a_key_given_twice_is_refused_naming_the_key(
    world: World, body: bytes, key: str
) -> None:
    """Which name was meant? The request is refused rather than the last value taken."""
    before = event_count(ledger_of(world))
    path = "/transfers" if b"to_member_id" in body else "/members"

    response = world.client.post(
        path,
        content=body,
        headers=world.headers("admin") | {"Content-Type": "application/json"},
    )

    assert refused_field(response) == (key, f"the key {key!r} appears more than once")
    assert event_count(ledger_of(world)) == before


def test_a_body_with_distinct_keys_in_nested_objects_is_read_as_before(
    world: World,
) -> None:
    response = world.client.post(
        "/members",
        content=b'{"name": "Li Na", "roles": ["auditor"]}',
        headers=world.headers("admin") | {"Content-Type": "application/json"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["roles"] == ["auditor"]


def test_every_operation_that_takes_a_body_refuses_a_key_given_twice(
    client: TestClient, admin: dict[str, str]
) -> None:
    """A router added later without the strict route class would take duplicate keys."""
    document = client.get("/openapi.json").json()
    operations = [
        (method, re.sub(r"\{[^}]*\}", str(uuid4()), path))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    ]

    assert len(operations) >= 10
    for method, path in operations:
        response = client.request(
            method,
            path,
            content=b'{"reason": "a", "reason": "b"}',
            headers=admin | {"Content-Type": "application/json"},
        )
        assert refused_field(response)[0] == "reason", (method, path)
