"""The honour wall (光荣榜): ranked volunteers of a period with star levels, as a page and as
a PDF, naming only those who agreed to be named."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.api.conftest import World
from timebank import TimeBank


def _prepare(world: World) -> None:
    """Stars at 1, 2, 3... hours; Wang served an hour and chose to appear anonymously."""
    ledger: TimeBank = world.client.app.state.ledger  # type: ignore[attr-defined]
    ledger.adopt_policy(
        actor_id=world.admin,
        changes={"star_ladder_hours": [1, 2, 3, 4, 5]},
        reason="a small ladder for the test",
    )
    log = ledger.log_service(
        actor_id=world.coordinator,
        volunteer_id=world.wang,
        team_id=world.care_team,
        service_date=ledger.today(),
        minutes=60,
        activity="助餐",
    )
    ledger.approve_service(actor_id=world.admin, service_log_id=log.id)
    ledger.choose_publicity(actor_id=world.wang, member_id=world.wang, anonymous=True)


def test_the_page_ranks_volunteers_with_their_stars(world: World) -> None:
    _prepare(world)
    page = world.call("volunteer", "GET", f"/reports/honour-wall?team_id={world.care_team}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Day care 光荣榜" in page.text
    assert "<td>1</td><td>Li</td><td>3小时</td>" in page.text
    assert 'data-stars="3"' in page.text
    assert "<td>2</td><td>匿名志愿者</td><td>1小时</td>" in page.text  # Wang, who chose so
    assert "Wang" not in page.text
    elsewhere = world.call("other_coordinator", "GET", "/reports/honour-wall").text
    assert "Li" not in elsewhere  # Li serves in no community of Sun's


def test_the_pdf_is_printable_and_the_same_each_time(world: World) -> None:
    _prepare(world)
    path = "/reports/honour-wall?period=2026&format=pdf&community=Dongcheng"
    pdf = world.call("auditor", "GET", path)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert world.call("auditor", "GET", path).content == pdf.content
    text = "".join(PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().split())
    assert "Dongcheng光荣榜" in text
    assert "Li3小时★★★☆☆" in text
    assert "Wang1小时★☆☆☆☆" in text  # the auditor sees every name


def test_a_bad_wall_request_is_422(world: World) -> None:
    response = world.call("volunteer", "GET", "/reports/honour-wall?format=docx")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "format"
