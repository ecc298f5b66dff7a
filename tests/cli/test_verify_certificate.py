"""`timebank verify-certificate EXPORT NUMBER`: a certificate checked against an export's
events alone, after a reversal and a revocation too."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from tests.support import TODAY, build_community, open_ledger


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is never an answer
    return result.exit_code, result.output


@pytest.fixture
def ledger_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    monkeypatch.setenv("TIMEBANK_TIMEZONE", "Asia/Shanghai")
    return url


def _export(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    code, output = run("export", str(out))
    assert code == 0, output
    return out


def test_a_certificate_is_valid_then_superseded_then_revoked_in_later_exports(
    ledger_url: str, tmp_path: Path
) -> None:
    app = open_ledger(ledger_url)
    community = build_community(app)
    kept, wrong = community.earn(community.li, 90), community.earn(community.li, 30)
    certificate = app.issue_certificate(
        actor_id=community.care_coordinator,
        volunteer_id=community.li,
        period_from=date(2026, 1, 1),
        period_until=TODAY,
        log_ids=[kept, wrong],
        team_id=community.care_team,
    )
    app.close()
    first = _export(tmp_path, "first.jsonl")
    code, output = run("verify-certificate", str(first), certificate.number.lower())
    assert code == 0, output
    assert f"{certificate.number}: valid" in output
    assert "2:00 hours (120 minutes)" in output

    app = open_ledger(ledger_url)
    app.reverse_service(actor_id=community.care_coordinator, service_log_id=wrong, reason="dup")
    app.close()
    code, output = run(
        "verify-certificate", str(_export(tmp_path, "second.jsonl")), certificate.number
    )
    assert code == 1
    assert "superseded" in output

    app = open_ledger(ledger_url)
    app.revoke_certificate(
        actor_id=community.admin, certificate_id=certificate.id, reason="reissued"
    )
    app.close()
    code, output = run(
        "verify-certificate", str(_export(tmp_path, "third.jsonl")), certificate.number
    )
    assert code == 1
    assert "revoked" in output
    assert "reissued" in output

    code, output = run("verify")  # the ledger with its certificates verifies as a whole
    assert code == 0, output
    code, output = run("verify-certificate", str(first), "TB-2026-999999")
    assert code == 1
    assert "unknown" in output


def test_a_certificate_whose_minutes_were_edited_in_the_file_does_not_hold(
    ledger_url: str, tmp_path: Path
) -> None:
    app = open_ledger(ledger_url)
    community = build_community(app)
    log = community.earn(community.li, 90)
    certificate = app.issue_certificate(
        actor_id=community.admin,
        volunteer_id=community.li,
        period_from=date(2026, 1, 1),
        period_until=TODAY,
        log_ids=[log],
    )
    app.close()
    out = _export(tmp_path, "ledger.jsonl")
    lines = out.read_text(encoding="utf-8").splitlines()
    edited = []
    for line in lines:
        record = json.loads(line)
        if record.get("topic") == "timebank:Certificate.Issued":
            record["data"]["total_minutes"] = 900
        edited.append(json.dumps(record, ensure_ascii=False))
    out.write_text("\n".join(edited) + "\n", encoding="utf-8")
    code, output = run("verify-certificate", str(out), certificate.number)
    assert code == 1
    assert "damaged" in output or "does not hold" in output
