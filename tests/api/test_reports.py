"""Reports over HTTP: CSV and XLSX read back equal the JSON of the same ledger position; the
street office downloads October's team report as XLSX; service logs by service-date range."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import openpyxl
import pytest

from tests.api.conftest import World
from timebank import TimeBank

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def october(world: World) -> World:
    """Li served twice in October 2026 (approved), Wang once (pending)."""
    ledger: TimeBank = world.client.app.state.ledger  # type: ignore[attr-defined]
    for day, minutes in ((date(2026, 10, 8), 90), (date(2026, 10, 31), 45)):
        log = ledger.log_service(
            actor_id=world.volunteer,
            team_id=world.care_team,
            service_date=day,
            minutes=minutes,
            activity="陪老人就医",
        ).id
        ledger.approve_service(actor_id=world.coordinator, service_log_id=log)
    ledger.log_service(
        actor_id=world.wang,
        team_id=world.care_team,
        service_date=date(2026, 10, 15),
        minutes=30,
        activity="助餐",
    )
    return world


def _csv_items(content: bytes) -> tuple[list[dict[str, Any]], set[str]]:
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    positions = {row.pop("as_of_position") for row in rows}
    return [
        {k: int(v) if v.lstrip("-").isdigit() else v for k, v in row.items()} for row in rows
    ], positions


def _xlsx_items(content: bytes) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    header, *rows = list(book.worksheets[0].iter_rows(values_only=True))
    items = [dict(zip(header, row, strict=True)) for row in rows]
    about = {row[0]: row[1] for row in book["about"].iter_rows(values_only=True)}
    for item in items:
        assert item.pop("as_of_position") == about["ledger position"]
    return [{k: "" if v is None else v for k, v in item.items()} for item in items], about


def test_the_street_office_downloads_octobers_team_report_as_xlsx(october: World) -> None:
    world = october
    as_json = world.call("auditor", "GET", "/reports/team-rankings?period=2026-10").json()
    download = world.call("auditor", "GET", "/reports/team-rankings?period=2026-10&format=xlsx")
    assert download.status_code == 200
    assert download.headers["content-type"] == XLSX
    assert "team-rankings-2026-10-at-" in download.headers["content-disposition"]
    items, about = _xlsx_items(download.content)
    assert about["ledger position"] == as_json["position"] > 0
    assert items == as_json["items"]
    care = next(item for item in items if item["team"] == "Day care")
    assert (care["minutes"], care["hours"], care["volunteers"], care["person_times"]) == (
        135,
        "2:15",
        1,
        2,
    )
    assert care["sessions"] == 2


def test_csv_by_accept_header_reads_back_equal_to_the_json(october: World) -> None:
    world = october
    for path in (
        "/reports/team-rankings?period=2026",
        "/reports/volunteer-rankings?period=2026-10",
        f"/reports/members/{world.volunteer}/statement",
        "/reports/service-logs?served_from=2026-10-01&served_until=2026-10-31",
        "/reports/pairings?period=2026",
        "/reports/care-gaps?days=30",
    ):
        as_json = world.call("coordinator", "GET", path).json()
        response = world.client.get(
            path, headers={**world.headers("coordinator"), "Accept": "text/csv"}
        )
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("text/csv")
        assert response.headers["x-ledger-position"] == str(as_json["position"])
        items, positions = _csv_items(response.content)
        assert positions == {str(as_json["position"])}
        assert items == as_json["items"], path
    pairs = world.call("coordinator", "GET", "/reports/care-gaps?days=30").json()["items"]
    assert [(pair["elder"], pair["volunteer"]) for pair in pairs] == [("Wang", "Li")]


def test_statement_and_logs_as_xlsx_equal_their_json(october: World) -> None:
    world = october
    for path in (
        f"/reports/members/{world.volunteer}/statement",
        "/reports/service-logs?status=approved",
    ):
        as_json = world.call("volunteer", "GET", path).json()
        items, about = _xlsx_items(
            world.call(
                "volunteer", "GET", f"{path}&format=xlsx" if "?" in path else f"{path}?format=xlsx"
            ).content
        )
        assert about["ledger position"] == as_json["position"]
        assert items == as_json["items"]


def test_service_logs_by_service_date_range(october: World) -> None:
    world = october
    report = world.call(
        "coordinator",
        "GET",
        "/reports/service-logs?served_from=2026-10-01&served_until=2026-10-31&status=approved",
    ).json()
    assert [(i["service_date"], i["minutes"]) for i in report["items"]] == [
        ("2026-10-08", 90),
        ("2026-10-31", 45),
    ]
    listed = world.call(
        "coordinator", "GET", "/service-logs?served_from=2026-10-09&served_until=2026-10-31"
    ).json()
    assert sorted(log["service_date"] for log in listed["items"]) == ["2026-10-15", "2026-10-31"]


def test_bad_report_requests_are_422_naming_the_field(world: World) -> None:
    for path, field in (
        ("/reports/team-rankings?format=pdf", "format"),
        ("/reports/team-rankings?period=2026-13", "period"),
        ("/reports/service-logs?served_from=2026-02-30", "served_from"),
    ):
        response = world.call("auditor", "GET", path)
        assert response.status_code == 422, path
        assert response.json()["error"]["details"][0]["field"] == field
    assert (
        world.call(
            "other_coordinator", "GET", f"/reports/members/{world.volunteer}/statement"
        ).status_code
        == 403
    )


def test_the_rankings_themselves_answer_csv_and_xlsx_as_the_reports_do(october: World) -> None:
    world = october
    teams = world.call("coordinator", "GET", "/reports/team-rankings?period=2026-10").json()
    volunteers = world.call(
        "coordinator", "GET", f"/reports/volunteer-rankings?period=2026&team_id={world.care_team}"
    ).json()

    as_csv = world.call("coordinator", "GET", "/rankings/teams?period=2026-10&format=csv")
    by_accept = world.client.get(
        "/rankings/teams?period=2026-10",
        headers={**world.headers("coordinator"), "Accept": "text/csv"},
    )
    as_xlsx = world.call(
        "coordinator",
        "GET",
        f"/rankings/volunteers?period=2026&team_id={world.care_team}&format=xlsx",
    )
    paged = world.call("coordinator", "GET", "/rankings/teams?period=2026-10&format=json")

    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert _csv_items(as_csv.content)[0] == teams["items"]
    assert by_accept.content == as_csv.content
    assert as_xlsx.headers["content-type"] == XLSX
    assert _xlsx_items(as_xlsx.content)[0] == volunteers["items"]
    assert paged.json()["period"] == "2026-10"  # JSON stays the paged list it always was
