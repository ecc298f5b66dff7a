"""Every error has one shape, the right status, and is described in the OpenAPI document."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient

from tests.api.conftest import World
from timebank.errors import ConcurrencyError


def test_an_unknown_path_is_404_in_the_error_envelope(client: TestClient) -> None:
    response = client.get("/nowhere")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found"}}


def test_a_wrong_method_is_405_naming_the_allowed_ones(client: TestClient) -> None:
    response = client.put("/health")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET"


def test_a_body_that_is_not_json_is_invalid(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/teams", content=b"{not json", headers=admin | {"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body"


def test_a_body_that_is_not_even_text_is_invalid(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/teams", content=b"\xff\xfe\x00", headers=admin | {"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_every_bad_field_is_listed(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/members",
        json={"name": 7, "roles": ["mayor"], "birth_date": "1950-02-30", "email": "x@y.z"},
        headers=admin,
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert {(d["field"], d["location"]) for d in error["details"]} == {
        ("name", "body"),
        ("roles.0", "body"),
        ("birth_date", "body"),
        ("email", "body"),
    }


def test_a_malformed_id_in_the_path_is_invalid_not_a_crash(world: World) -> None:
    response = world.call("admin", "GET", "/service-logs/not-a-uuid")

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["location"] == "path"


def test_authentication_comes_before_validation(client: TestClient) -> None:
    response = client.post("/teams", json={"bogus": True})

    assert response.status_code == 401


@pytest.mark.parametrize("failure", [ConcurrencyError(50), OperationalError("database is locked")])
def test_a_busy_ledger_says_503_and_when_to_retry(
    world: World, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    def give_up(**_: object) -> None:
        raise failure

    monkeypatch.setattr(world.client.app.state.ledger, "transfer", give_up)  # type: ignore[attr-defined]

    response = world.call(
        "volunteer", "POST", "/transfers", {"to_member_id": str(world.wang), "minutes": 5}
    )

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] in {"busy", "unavailable"}


PUBLIC = {"/health", "/health/ready", "/verification/{code}", "/verify/{code}"}
"""What anyone may call without a token: the health check and a certificate's verification."""


def test_the_openapi_document_describes_every_error_body(client: TestClient) -> None:
    document = client.get("/openapi.json").json()

    assert "ErrorResponse" in document["components"]["schemas"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path in PUBLIC:
                assert operation.get("security") is None
                continue
            assert {"401", "403", "422"} <= set(operation["responses"]), (method, path)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
            assert operation["security"] == [{"bearer": []}]


def test_the_docs_need_no_token(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/health").json() == {"status": "ok"}


def test_a_query_parameter_given_twice_is_invalid_not_the_last_one_taken(world: World) -> None:
    """Which community would the list be of? The request is refused, naming the parameter."""
    response = world.call("admin", "GET", "/teams?community=Jinhua&community=Sanlitun")

    assert response.status_code == 422
    problem = response.json()["error"]["details"][0]
    assert (problem["field"], problem["location"]) == ("community", "query")
    assert world.call("admin", "GET", "/teams?community=Jinhua").status_code == 200
