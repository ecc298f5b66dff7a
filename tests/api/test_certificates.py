"""Certificates over HTTP: the volunteer downloads one, a stranger verifies it from its QR
code without an account, a reversal supersedes it, an issuer revokes it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from pypdf import PdfReader

from api.documents import fonts
from tests.api.conftest import World
from tests.support import TODAY

YEAR = {"period_from": "2026-01-01", "period_until": TODAY.isoformat()}


def _issue(world: World, role: str = "coordinator", **body: Any) -> Any:
    return world.call(
        role,
        "POST",
        f"/members/{world.volunteer}/certificates",
        {**YEAR, "team_id": str(world.care_team), **body},
    )


def _qr_codes(pdf: bytes) -> list[str]:
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=2).to_pil()
    return [found.text for found in zxingcpp.read_barcodes(image)]


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_the_volunteer_downloads_a_certificate_a_stranger_verifies_from_its_qr_code(
    world: World,
) -> None:
    issued = _issue(world)
    assert issued.status_code == 201, issued.text
    certificate = issued.json()
    assert certificate["number"] == "TB-2026-000001"
    assert certificate["total_minutes"] == 180
    assert certificate["status"] == "valid"
    assert certificate["issued_by_name"] == "Chen"

    listed = world.call("volunteer", "GET", f"/members/{world.volunteer}/certificates").json()
    assert [c["number"] for c in listed["items"]] == ["TB-2026-000001"]
    download = world.call("volunteer", "GET", certificate["pdf_url"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert "TB-2026-000001.pdf" in download.headers["content-disposition"]
    assert world.call("volunteer", "GET", certificate["pdf_url"]).content == download.content
    text = "".join(PdfReader(io.BytesIO(download.content)).pages[0].extract_text().split())
    assert "TB-2026-000001" in text
    assert "3小时" in text

    [link] = _qr_codes(download.content)
    assert link == certificate["verification_url"]
    stranger = TestClient(world.client.app)  # no token at all
    page = stranger.get(_path(link))
    assert page.status_code == 200
    assert "有效" in page.text
    assert "Li" in page.text
    assert "TB-2026-000001" in page.text
    verified = stranger.get(f"/verification/{certificate['code'].lower()}").json()
    assert verified["status"] == "valid"
    assert set(verified) == {
        "status",
        "number",
        "organisation",
        "volunteer_name",
        "period_from",
        "period_until",
        "total_minutes",
        "issued_on",
        "superseded_at",
        "revoked_on",
        "revoke_reason",
    }


def test_a_reversal_after_issue_shows_the_certificate_as_superseded(world: World) -> None:
    certificate = _issue(world).json()
    reversed_ = world.call(
        "coordinator",
        "POST",
        f"/service-logs/{world.approved_log}/reverse",
        {"reason": "entered twice"},
    )
    assert reversed_.status_code == 200, reversed_.text
    stranger = TestClient(world.client.app)
    verified = stranger.get(f"/verification/{certificate['code']}").json()
    assert verified["status"] == "superseded"
    assert verified["superseded_at"] is not None
    assert verified["total_minutes"] == 180  # what it states, unchanged
    page = stranger.get(f"/verify/{certificate['code']}?language=en")
    assert "Superseded" in page.text
    assert "2026-11-20" in page.text


def test_an_issuer_revokes_a_certificate_and_verification_gives_the_reason(
    world: World,
) -> None:
    certificate = _issue(world).json()
    path = f"/certificates/{certificate['id']}/revoke"
    assert world.call("other_coordinator", "POST", path, {"reason": "x"}).status_code == 403
    revoked = world.call("coordinator", "POST", path, {"reason": "名字写错，已重开"})
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    again = world.call("admin", "POST", path, {"reason": "again"})
    assert again.status_code == 409
    page = TestClient(world.client.app).get(f"/verify/{certificate['code']}")
    assert "已撤销" in page.text
    assert "名字写错，已重开" in page.text


def test_one_certificate_per_idempotency_key(world: World) -> None:
    headers = {**world.headers("coordinator"), "Idempotency-Key": "october"}
    path = f"/members/{world.volunteer}/certificates"
    body = {**YEAR, "team_id": str(world.care_team)}
    first = world.client.post(path, json=body, headers=headers)
    second = world.client.post(path, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["number"] == second.json()["number"] == "TB-2026-000001"
    assert _issue(world).json()["number"] == "TB-2026-000002"


def test_bad_requests_are_refused_clearly_and_change_nothing(world: World) -> None:
    empty = _issue(world, period_from="2025-01-01", period_until="2025-12-31")
    assert empty.status_code == 422
    assert "no approved service" in empty.json()["error"]["message"]
    backwards = _issue(world, period_from="2026-11-01", period_until="2026-10-01")
    assert backwards.status_code == 422
    assert "ends before it begins" in str(backwards.json()["error"])
    future = _issue(world, period_until="2026-12-31")
    assert future.status_code == 422
    assert "past service only" in future.json()["error"]["message"]
    assert _issue(world, role="other_coordinator").status_code == 403
    assert _issue(world, role="volunteer").status_code == 403
    listed = world.call("admin", "GET", f"/members/{world.volunteer}/certificates").json()
    assert listed["items"] == []
    stranger = TestClient(world.client.app)
    unknown = stranger.get("/verify/ABCDE-23456")
    assert unknown.status_code == 404
    assert "查无此证明" in unknown.text
    assert stranger.get("/verification/ABCDE-23456").status_code == 404
    assert world.call("admin", "GET", f"/certificates/{world.care_team}/pdf").status_code == 404
    certificate = _issue(world).json()
    french = world.call("volunteer", "GET", f"{certificate['pdf_url']}?language=fr")
    assert french.status_code == 422
    assert french.json()["error"]["details"][0]["field"] == "language"


def test_without_a_chinese_font_the_pdf_is_503_naming_the_package(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    certificate = _issue(world).json()
    monkeypatch.setattr(fonts, "CANDIDATES", (tmp_path / "none.ttc",))
    response = world.call("volunteer", "GET", certificate["pdf_url"])
    assert response.status_code == 503
    assert "fonts-wqy-microhei" in response.json()["error"]["message"]
