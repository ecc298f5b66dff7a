"""The Linkou health-clinic story, replayed from outside against a real server over HTTP.

One Saturday the clinic team (a doctor who coordinates it and twelve volunteers, two hours
each) holds a free clinic (健康义诊) for residents over 65; during the week three of the
volunteers logged home check-ups of their own. The coordinator's work on Saturday evening
is two requests: the whole clinic, recorded with its attendees, and the week's logs,
reviewed at once. Then the lists name people, and the clinic counts as one session.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.server import ADMIN_TOKEN, serving
from tests.acceptance.test_trust_from_outside import Caller, ok

VOLUNTEERS = (
    "于桂芝",
    "马骁",
    "于再林",
    "王秀兰",
    "李建国",
    "张淑芬",
    "刘玉梅",
    "陈志强",
    "杨丽华",
    "赵德明",
    "孙桂英",
    "周海燕",
)


def last_saturday() -> date:
    """The Saturday of this week or the one before: never a day to come."""
    today = date.today()
    return today - timedelta(days=(today.weekday() - 5) % 7)


def the_team(client: httpx.Client, admin: Caller) -> tuple[str, Caller, dict[str, str]]:
    """The clinic team, its coordinator (Dr Ma) and the volunteers' ids, by name."""
    team = ok(
        admin.post(
            "/teams",
            {"name": "健康义诊服务小队", "community": "林口县城区", "founded_on": "2026-01-01"},
        )
    )
    people: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for name in ("马医生", *VOLUNTEERS):
        body = ok(admin.post("/members", {"name": name}))
        people[name], tokens[name] = body["id"], body["token"]
    for name, member_id in people.items():
        role = "coordinator" if name == "马医生" else "volunteer"
        body = {"member_id": member_id, "role": role, "effective_date": "2026-01-01"}
        ok(admin.post(f"/teams/{team['id']}/members", body))
    doctor = Caller(client, tokens["马医生"])
    for name in VOLUNTEERS[:3]:  # home check-ups they logged themselves during the week
        ok(
            Caller(client, tokens[name]).post(
                "/service-logs",
                {
                    "team_id": team["id"],
                    "service_date": (last_saturday() - timedelta(days=2)).isoformat(),
                    "minutes": 90,
                    "activity": "上门体检",
                    "beneficiary": "生活不能自理的老人",
                },
            )
        )
    return team["id"], doctor, people


def replay_the_clinic(base: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        admin = Caller(client, ADMIN_TOKEN)
        team, doctor, people = the_team(client, admin)
        pending = ok(doctor.get(f"/service-logs?status=pending&team_id={team}"), 200)["items"]
        assert sorted(log["volunteer_name"] for log in pending) == sorted(VOLUNTEERS[:3])

        requests: list[httpx.Request] = []
        client.event_hooks["request"].append(requests.append)
        clinic: dict[str, Any] = ok(
            doctor.post(
                "/activities",
                {
                    "team_id": team,
                    "service_date": last_saturday().isoformat(),
                    "activity": "健康义诊",
                    "place": "林口县城区社区卫生服务站",
                    "beneficiaries": "65岁以上老人",
                    "attendees": [
                        {"member_id": people[name], "minutes": 120} for name in VOLUNTEERS
                    ],
                },
            )
        )
        first, second, third = (log["id"] for log in pending)
        review = ok(
            doctor.post(
                "/service-logs/review",
                {
                    "decisions": [
                        {"service_log_id": first, "action": "approve"},
                        {
                            "service_log_id": second,
                            "action": "approve",
                            "minutes": 60,
                            "reason": "体检用时一小时",
                        },
                        {"service_log_id": third, "action": "reject", "reason": "重复登记"},
                    ]
                },
            ),
            200,
        )
        client.event_hooks["request"].clear()
        assert len(requests) == 2

        assert [a["status"] for a in clinic["attendees"]] == ["approved"] * 12
        assert sorted(a["name"] for a in clinic["attendees"]) == sorted(VOLUNTEERS)
        assert [o["outcome"] for o in review["items"]] == ["approved", "approved", "rejected"]
        assert ok(doctor.get(f"/service-logs?status=pending&team_id={team}"), 200)["items"] == []
        partial = ok(doctor.get(f"/service-logs/{second}"), 200)
        assert (partial["approved_minutes"], partial["reason"]) == (60, "体检用时一小时")

        month = last_saturday().strftime("%Y-%m")
        [row] = [
            r
            for r in ok(admin.get(f"/rankings/teams?period={month}"), 200)["items"]
            if r["team_id"] == team
        ]
        # The clinic is one session (场次) of twelve person-times (人次); the two approved
        # check-ups, logged one by one on one day with one text, are one more.
        assert (row["minutes"], row["person_times"], row["sessions"]) == (12 * 120 + 150, 14, 2)
        balances = {
            name: ok(admin.get(f"/members/{people[name]}/balance"), 200)["balance_minutes"]
            for name in VOLUNTEERS[:4]
        }
        assert balances == {
            VOLUNTEERS[0]: 210,
            VOLUNTEERS[1]: 180,
            VOLUNTEERS[2]: 120,
            VOLUNTEERS[3]: 120,
        }


@pytest.mark.slow  # a real server process
def test_the_saturday_clinic_takes_two_requests_on_sqlite(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path / 'ledger.db'}") as base:
        replay_the_clinic(base)


@pytest.mark.slow
@pytest.mark.postgres
def test_the_saturday_clinic_takes_two_requests_on_postgres(postgres_url: str) -> None:
    with serving(postgres_url) as base:
        replay_the_clinic(base)
