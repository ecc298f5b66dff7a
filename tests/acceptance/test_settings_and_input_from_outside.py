"""An operator's shell and a coordinator's spreadsheet, from outside (issue 18, items 2 and
6): real servers and commands in their own processes, on a SQLite file.

- a shell holding the eventsourcing library's own variables (a store in memory, a short
  token secret) changes nothing: the server keeps writing to the configured file, and a
  member registered before a restart is there after it;
- a sign-in sheet with control characters, an ISO week date, Arabic-Indic and superscript
  digits is refused a line per bad row, never with a traceback, and nothing is entered.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.acceptance.server import ADMIN_TOKEN, TOKEN_SECRET, serving

pytestmark = pytest.mark.slow  # real servers and command processes

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
STRAY = {
    "TIMEBANK_PERSISTENCE_MODULE": "eventsourcing.popo",
    "PERSISTENCE_MODULE": "eventsourcing.popo",
    "TOKEN_SECRET": "short",
    "TIMEBANK_SQLITE_DBNAME": "elsewhere.db",
}


def test_the_librarys_variables_in_a_shell_change_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with serving(url, **STRAY) as base:
        registered = httpx.post(f"{base}/members", json={"name": "李秀英"}, headers=ADMIN)
    with serving(url, **STRAY) as base:
        after_restart = httpx.get(f"{base}/members/{registered.json()['id']}", headers=ADMIN)

    assert registered.status_code == 201, registered.text
    assert after_restart.status_code == 200, after_restart.text
    assert after_restart.json()["name"] == "李秀英"
    assert not (tmp_path / "elsewhere.db").exists()


def test_a_sheet_of_odd_cells_is_refused_a_line_per_row_and_enters_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with serving(url) as base, httpx.Client(base_url=base, headers=ADMIN, timeout=30) as client:
        team = client.post(
            "/teams",
            json={"name": "日间照料", "community": "方泰东", "founded_on": "2026-01-01"},
        ).json()["id"]
        people = {}
        for name, role in (("杨欣", "coordinator"), ("李秀英", "volunteer")):
            member = client.post("/members", json={"name": name}).json()["id"]
            joined = client.post(
                f"/teams/{team}/members",
                json={"member_id": member, "role": role, "effective_date": "2026-01-01"},
            )
            assert joined.status_code == 201, joined.text
            people[name] = member
        events_before = len(client.get("/audit/events?limit=500").json()["items"])
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "姓名,日期,分钟,活动,备注\n"
        "李秀英,2026-03-01,60,care\x01\x1b[31m,\n"  # terminal control characters
        "李秀英,2025-W02-3,60,居家照料,\n"  # an ISO week date
        "李秀英,2026-03-02,١٢٠,居家照料,\n"  # Arabic-Indic digits
        "李秀英,2026-03-03,²,居家照料,\n"  # a superscript two
        "李秀英,2026-03-04,60,居家照料,bell\x07 and nul\x00\n",
        encoding="utf-8",
    )
    env = {**os.environ, "TIMEBANK_DATABASE_URL": url, "TIMEBANK_TOKEN_SECRET": TOKEN_SECRET}

    command = ["import-service", str(sheet), "--team", team, "--coordinator", people["杨欣"]]
    done = subprocess.run(
        [sys.executable, "-m", "cli", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Traceback" not in output
    for line in (2, 3, 4, 5, 6):
        assert f"line {line}" in output, output
    with serving(url) as base:
        events_after = len(
            httpx.get(f"{base}/audit/events?limit=500", headers=ADMIN).json()["items"]
        )
    assert events_after == events_before  # all or none: not one row entered
