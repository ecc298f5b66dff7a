"""The community's rules, tried from outside as an operator would meet them: a server seeded
with a cap, then the `timebank` commands run by someone whose shell has other settings.
The import that once put a member over the cap is refused, and so is a second day's worth
of minutes for one day; an admin changes the rules with a reason; "what if" writes nothing;
a credit forged over the cap is a finding of verify.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from tests.acceptance.server import ADMIN_TOKEN, TOKEN_SECRET, serving
from tests.acceptance.test_insider_from_outside import timebank
from tests.acceptance.test_trust_from_outside import Scene, ok, set_the_scene
from tests.cli.test_insider_commands import forged_earning
from timebank import TimeBank
from timebank.storage import ledger_env

pytestmark = pytest.mark.slow  # a real server and several command processes


def sheet(path: Path, rows: list[tuple[str, str, int]]) -> Path:
    lines = ["姓名,日期,分钟,活动"] + [
        f"{who},{day},{minutes},居家照料" for who, day, minutes in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def balance(url: str, member: str) -> tuple[int, int]:
    """The member's balance and earned minutes, as the ledger holds them."""
    ledger = TimeBank(ledger_env(url))
    try:
        account = ledger.get_account(UUID(member))
        return account.balance_minutes, account.earned_minutes
    finally:
        ledger.close()


def test_the_rules_hold_whichever_command_decides(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with (
        serving(url, TIMEBANK_BALANCE_CAP_MINUTES="600") as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        scene: Scene = set_the_scene(client)  # V3 earns 300 and gives 120 to grandma
        policy = ok(scene.by("v2").get("/policy"), 200)
    v2, v3, c1, zhao, c2 = (scene.id(name) for name in ("v2", "v3", "c1", "zhao", "c2"))
    # The operator's shell knows nothing of the cap, or says another one.
    env = {
        **os.environ,
        "TIMEBANK_DATABASE_URL": url,
        "TIMEBANK_ADMIN_TOKEN": ADMIN_TOKEN,
        "TIMEBANK_TOKEN_SECRET": TOKEN_SECRET,
        "TIMEBANK_BALANCE_CAP_MINUTES": "900000",
    }

    over_cap = sheet(tmp_path / "march.csv", [(v3, "2026-03-02", 300), (v3, "2026-03-03", 200)])
    refused_cap = timebank(
        env, "import-service", str(over_cap), "--team", scene.care, "--coordinator", c1
    )

    # An insider with the database adds a day's credit for V2 while the cap is 600.
    insider = TimeBank(ledger_env(url))
    try:
        forged_earning(insider, UUID(v2))
    finally:
        insider.close()
    verified = timebank(env, "verify")

    no_cap = tmp_path / "no-cap.toml"
    no_cap.write_text("balance_cap_minutes = false\n", encoding="utf-8")
    adopted = timebank(env, "policy", "adopt", str(no_cap), "--reason", "the fund lifted its cap")

    two_days_in_one = sheet(
        tmp_path / "patrol.csv", [(zhao, "2026-03-05", 1440), (zhao, "2026-03-05", 60)]
    )
    refused_day = timebank(
        env, "import-service", str(two_days_in_one), "--team", scene.patrol, "--coordinator", c2
    )

    beijing = tmp_path / "beijing.toml"
    beijing.write_text("star_ladder_hours = [4, 200, 500, 800, 1000]\n", encoding="utf-8")
    what_if = timebank(env, "what-if", str(beijing), "--format", "json")
    shown = timebank(env, "policy", "show", "--format", "json")

    assert policy["in_force"]["rules"]["balance_cap_minutes"] == 600
    code, output = refused_cap
    assert code != 0
    assert "over the balance cap of 600 minutes" in output
    assert balance(url, v3) == (180, 300)  # all or none: not one row entered
    code, output = verified
    assert code == 1
    assert f"rule_breach\ta credit took member {v2} to 1440 minutes, over the cap of 600" in output
    assert adopted[0] == 0, adopted[1]
    code, output = refused_day
    assert code != 0
    assert "daily limit of 1440 minutes" in output
    assert "1440 already credited" in output
    assert balance(url, zhao) == (0, 0)
    code, output = what_if
    assert code == 0, output
    report = json.loads(output)
    # V3's 300 lifetime minutes are five hours, V2's forged day 24: a star each under a
    # ladder starting at four hours, and nobody else has served.
    assert {(c["member_id"], c["before"], c["after"]) for c in report["star_changes"]} == {
        (v3, 0, 1),
        (v2, 0, 1),
    }
    code, output = shown
    assert code == 0, output
    versions = json.loads(output)
    assert [(v["version"], v["in_force"], v["reason"]) for v in versions][1:] == [
        (2, True, "the fund lifted its cap")  # what-if adopted nothing
    ]
    assert versions[1]["rules"]["balance_cap_minutes"] is None
    assert versions[1]["adopted_by_name"] == "the operator (system)"
