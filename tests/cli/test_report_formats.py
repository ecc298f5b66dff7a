"""Reports at the terminal: `--format table|csv|json|xlsx`, a plain table in a pipe, and
files that read back equal to the JSON of the same ledger position."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from tests.support import Community, build_community, open_ledger


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is never an answer
    return result.exit_code, result.output


@pytest.fixture
def community(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Community:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    app = open_ledger(url)
    community = build_community(app)
    community.earn(community.li, 90)
    community.earn(community.zhao, 45, team=community.patrol_team)
    app.close()
    return community


def _typed(row: dict[str, str]) -> dict[str, Any]:
    return {k: int(v) if v.lstrip("-").isdigit() else v for k, v in row.items()}


def test_rankings_as_csv_json_and_xlsx_agree(community: Community, tmp_path: Path) -> None:
    code, output = run("rankings", "--period", "2026", "--format", "json")
    assert code == 0, output
    as_json = json.loads(output)
    assert [item["team"] for item in as_json["items"]] == ["Day care", "Night patrol"]

    code, output = run("rankings", "--period", "2026", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(output.lstrip("\ufeff"))))
    assert {row.pop("as_of_position") for row in rows} == {str(as_json["position"])}
    assert [_typed(row) for row in rows] == as_json["items"]

    out = tmp_path / "teams.xlsx"
    code, output = run("rankings", "--period", "2026", "--format", "xlsx", "--out", str(out))
    assert code == 0, output
    sheet = openpyxl.load_workbook(out).worksheets[0]
    header, *values = list(sheet.iter_rows(values_only=True))
    items = [dict(zip(header, row, strict=True)) for row in values]
    assert {item.pop("as_of_position") for item in items} == {as_json["position"]}
    assert items == as_json["items"]


def test_a_pipe_gets_a_plain_table_with_the_ledger_position(community: Community) -> None:
    code, output = run("rankings", "--volunteers", "--period", "2026")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == "Volunteer rankings, 2026"
    assert lines[1].split() == [
        "rank",
        "member_id",
        "volunteer",
        "minutes",
        "hours",
        "person_times",
        "sessions",
    ]
    assert "Li" in lines[2]
    assert "1:30" in lines[2]
    assert lines[-1].startswith("at ledger position ")
    assert "│" not in output  # no box drawing in a pipe


def test_a_statement_and_service_logs_by_date_range(community: Community) -> None:
    code, output = run("statement", "Li", "--format", "json")
    assert code == 0, output
    assert [item["minutes"] for item in json.loads(output)["items"]] == [90]
    today = date(2026, 11, 20).isoformat()
    code, output = run(
        "service-logs",
        "--from",
        today,
        "--until",
        today,
        "--status",
        "approved",
        "--format",
        "json",
    )
    assert code == 0, output
    assert sorted(item["volunteer"] for item in json.loads(output)["items"]) == ["Li", "Zhao"]
    code, output = run("service-logs", "--from", "2026-02-30")
    assert code == 2
    assert "calendar" in output
