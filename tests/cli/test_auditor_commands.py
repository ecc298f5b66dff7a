"""The auditor's commands on a real SQLite file, through typer's test runner."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from tests.projections.test_runner import busy_community
from tests.support import open_ledger


@pytest.fixture
def ledger_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = open_ledger(url)
    busy_community(ledger)
    ledger.close()
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    return url


def test_verify_passes_on_an_untouched_ledger(ledger_url: str) -> None:
    result = CliRunner().invoke(cli, ["verify"])
    assert result.exit_code == 0, result.output
    assert "verified" in result.output


def test_verify_fails_and_names_the_tampered_event(ledger_url: str) -> None:
    CliRunner().invoke(cli, ["verify"])  # the audit projection has seen every event
    path = ledger_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM stored_events WHERE rowid = 7")
    result = CliRunner().invoke(cli, ["verify"])
    assert result.exit_code == 1
    assert "7\tmissing" in result.output


def test_replay_prints_every_balance_and_a_zero_total(ledger_url: str) -> None:
    result = CliRunner().invoke(cli, ["replay"])
    assert result.exit_code == 0, result.output
    assert "total 0" in result.output
    assert "\t130\t20\t110" in result.output  # Li: balance, held, available


def test_replay_as_of_long_ago_replays_nothing(ledger_url: str) -> None:
    result = CliRunner().invoke(cli, ["replay", "--as-of", "2000-01-01T00:00:00+08:00"])
    assert result.exit_code == 0, result.output
    assert ": 0 events replayed" in result.output


def test_replay_refuses_an_instant_without_offset(ledger_url: str) -> None:
    result = CliRunner().invoke(cli, ["replay", "--as-of", "2026-01-01T00:00:00"])
    assert result.exit_code == 2
    assert "UTC offset" in result.output


def test_rebuild_the_views_or_the_audit_trail(ledger_url: str) -> None:
    every = CliRunner().invoke(cli, ["rebuild"])
    assert every.exit_code == 0, every.output
    assert "rebuilt the views (the audit trail is kept)" in every.output
    trail = CliRunner().invoke(cli, ["rebuild", "audit"])
    assert trail.exit_code == 0, trail.output
    assert "rebuilt the audit trail from" in trail.output
    assert CliRunner().invoke(cli, ["verify"]).exit_code == 0
    unknown = CliRunner().invoke(cli, ["rebuild", "rankings"])
    assert unknown.exit_code == 2
    forced_views = CliRunner().invoke(cli, ["rebuild", "--force"])
    assert forced_views.exit_code == 2
    assert "only `rebuild audit` is forced" in forced_views.output


def test_rebuild_refuses_to_chain_the_audit_trail_over_a_deleted_event(ledger_url: str) -> None:
    CliRunner().invoke(cli, ["verify"])  # the audit projection has seen every event
    with sqlite3.connect(ledger_url.removeprefix("sqlite:///")) as db:
        db.execute("DELETE FROM stored_events WHERE rowid = 9")
    for rebuild in (["rebuild"], ["rebuild", "audit"]):
        result = CliRunner().invoke(cli, rebuild)
        still = CliRunner().invoke(cli, ["verify"])
        assert still.exit_code == 1, rebuild
        assert "9\tmissing" in still.output, rebuild
    assert result.exit_code == 1
    assert "9\tmissing" in result.output
    assert "the audit trail was not rebuilt" in result.output
    forced = CliRunner().invoke(cli, ["rebuild", "audit", "--force"])
    assert forced.exit_code == 0, forced.output
    final = CliRunner().invoke(cli, ["verify"])
    assert final.exit_code == 0, final.output
