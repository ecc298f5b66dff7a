"""`timebank demo` and `serve --demo` on real SQLite files, through typer's test runner."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner, Result

from api.settings import Settings
from cli import demo as demo_cli
from cli.main import app as cli
from projections import auditor
from projections.periods import ALL_TIME
from projections.visibility import Viewer
from tests.support import TODAY, TZ, event_count, fixed_clock, open_ledger, replayed, views_of
from timebank import TimeBank
from timebank.demo import (
    COMMUNITIES,
    SILVER,
    SILVER_ELDERS,
    SILVER_QUIET,
    SILVER_VOLUNTEERS,
    TEAM_KINDS,
    build_demo,
    months_before,
    service_period,
)

SMALL = ["--volunteers", "15", "--months", "2"]
ROLES = ("admin", "auditor", "coordinator", "volunteer")

RankRow = tuple[int, str, str, int, int, int, int]


@pytest.fixture
def ledger_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    return url


def run_demo(*args: str) -> Result:
    return CliRunner().invoke(cli, ["demo", *SMALL, *args])


def tokens_in(output: str) -> dict[str, tuple[UUID, str, str]]:
    """The printed token lines: role -> (member id, name, token)."""
    found = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) == 4 and words[0] in ROLES:
            found[words[0]] = (UUID(words[1]), words[2], words[3])
    return found


def summary_of(
    url: str,
) -> tuple[Counter[tuple[str, str]], dict[str, int], list[RankRow]]:
    """Teams, balances by member name, and the whole period's team ranking of a store."""
    ledger = open_ledger(url)
    try:
        with views_of(ledger) as views:
            reader, everyone = views.reader, views.everyone
            teams = Counter((t.name, t.community) for t in reader.teams(everyone, limit=500).items)
            names = {m.id: m.name for m in reader.member_names()}
            ranked = reader.team_rankings(everyone, ALL_TIME, limit=500).items
        balances = {
            names[row.member_id]: row.balance_minutes for row in auditor.replay(ledger).balances
        }
        ranking = [
            (r.rank, r.name, r.community, r.minutes, r.volunteers, r.person_times, r.sessions)
            for r in ranked
        ]
    finally:
        ledger.close()
    return teams, balances, ranking


def test_a_small_demo_prints_a_token_per_role_and_what_to_try(ledger_url: str) -> None:
    result = run_demo()
    assert result.exit_code == 0, result.output
    tokens = tokens_in(result.output)
    assert set(tokens) == set(ROLES)
    volunteer_id, _, volunteer_token = tokens["volunteer"]
    last_month = (datetime.now(TZ).date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    for command in (
        "curl http://127.0.0.1:8000/health",
        f"Bearer {volunteer_token}",
        f"http://127.0.0.1:8000/members/{volunteer_id}/balance",
        f"/rankings/teams?period={last_month}",
        "http://127.0.0.1:8000/audit/verify",
        f"timebank rankings --period {last_month}",
        "timebank verify",
        f"http://127.0.0.1:8000/card/{volunteer_token}",
        f"http://127.0.0.1:8000/card/{tokens['admin'][2]}",
    ):
        assert command in result.output


def test_the_demo_ledger_verifies_and_its_accounts_sum_to_zero(ledger_url: str) -> None:
    assert run_demo().exit_code == 0
    ledger = open_ledger(ledger_url)
    try:
        with views_of(ledger) as views:
            report = auditor.verify(ledger, views.store)
            ranking = views.reader.team_rankings(views.everyone, ALL_TIME, limit=500).items
        replay = auditor.replay(ledger)
    finally:
        ledger.close()
    assert report.ok, report.problems
    assert replay.total == 0
    assert sum(row.minutes for row in ranking) > 0
    assert len(ranking) == sum(kind.teams for kind in TEAM_KINDS)


def test_the_printed_tokens_sign_in_their_members(ledger_url: str) -> None:
    result = run_demo()
    tokens = tokens_in(result.output)
    ledger = open_ledger(ledger_url)
    try:
        for member_id, name, token in tokens.values():
            assert ledger.authenticate(token) == member_id
            assert ledger.get_member(member_id).name == name
        assert "admin" in ledger.get_member(tokens["admin"][0]).roles
        assert "auditor" in ledger.get_member(tokens["auditor"][0]).roles
        coordinator = tokens["coordinator"][0]
        with views_of(ledger) as views:
            profile = views.reader.profile(views.everyone, coordinator)
        assert any(team.role == "coordinator" for team in profile.teams)
    finally:
        ledger.close()


def test_the_same_seed_gives_the_same_ledger_and_another_seed_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stores = {}
    for store, seed in (("first", "7"), ("again", "7"), ("other", "8")):
        url = f"sqlite:///{tmp_path / store}.db"
        monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
        assert run_demo("--seed", seed).exit_code == 0
        stores[store] = summary_of(url)
    teams, balances, ranking = stores["first"]
    assert stores["again"] == (teams, balances, ranking)
    assert len(teams) == sum(kind.teams for kind in TEAM_KINDS)
    assert {community for _, community in teams} == set(COMMUNITIES)
    _, other_balances, other_ranking = stores["other"]
    assert other_balances != balances
    assert other_ranking != ranking


def test_the_demo_refuses_a_store_that_holds_a_ledger(ledger_url: str) -> None:
    ledger = open_ledger(ledger_url)
    ledger.bootstrap_admin(name="A real admin")
    before = event_count(ledger)
    ledger.close()
    result = run_demo()
    assert result.exit_code == 1
    assert "the demo only fills an empty store" in result.output
    ledger = open_ledger(ledger_url)
    try:
        assert event_count(ledger) == before
    finally:
        ledger.close()


def test_the_demo_runs_only_once_on_a_store(ledger_url: str) -> None:
    assert run_demo().exit_code == 0
    again = run_demo()
    assert again.exit_code == 1
    assert "already holds a ledger" in again.output


def test_serve_demo_fills_an_empty_store_once(
    ledger_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings()
    assert demo_cli.fill_if_empty(settings, volunteers=15, months=2)
    assert set(tokens_in(capsys.readouterr().out)) == set(ROLES)
    ledger = open_ledger(ledger_url)
    events = event_count(ledger)
    ledger.close()
    assert not demo_cli.fill_if_empty(settings, volunteers=15, months=2)
    assert "serving it as it is" in capsys.readouterr().out
    ledger = open_ledger(ledger_url)
    try:
        assert event_count(ledger) == events
    finally:
        ledger.close()


def test_every_command_has_help() -> None:
    for command, options in (
        (["demo"], ("--seed", "--volunteers", "--months")),
        (["serve"], ("--demo",)),
    ):
        result = CliRunner().invoke(cli, [*command, "--help"])
        assert result.exit_code == 0
        for option in options:
            assert option in result.output


@pytest.mark.slow  # the full demo: sixty volunteers, a year of service
def test_a_year_of_service_shows_every_lifecycle() -> None:
    """A larger community, in memory with a fixed clock: each kind of fact the stories
    and the domain describe happens, and only elders spend hours."""
    ledger = open_ledger("memory://")
    summary = build_demo(ledger, seed=4, volunteers=60, months=12)
    balances = replayed(ledger)
    first, last = service_period(TODAY, 12)
    assert (first, last) == (summary.first_day, summary.last_day)
    assert last == TODAY - timedelta(days=1)
    assert summary.volunteers == 60 + SILVER_VOLUNTEERS
    for count in (
        summary.approved,
        summary.partly_approved,
        summary.rejected,
        summary.reversed,
        summary.pending,
        summary.fulfilled,
        summary.cancelled,
        summary.transfers,
        summary.activities,
        summary.visits,
    ):
        assert count > 0
    spenders = [m for m, minutes in balances.members.items() if minutes.redeemed]
    assert spenders
    for member_id in spenders:
        assert _age(ledger, member_id) >= 80
    assert balances.total() == 0


def _age(ledger: TimeBank, member_id: UUID) -> int:
    member = ledger.get_member(member_id)
    assert member.birth_date is not None
    return (fixed_clock().date() - member.birth_date).days // 365


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 19), 12, date(2025, 11, 19)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2026, 1, 15), 1, date(2025, 12, 15)),
    ],
)
def test_months_before_keeps_the_day_or_takes_the_month_end(
    day: date, months: int, expected: date
) -> None:
    assert months_before(day, months) == expected


def test_the_grid_worker_of_the_silver_age_team_sees_whom_nobody_visited() -> None:
    """Seed 003: 26 elders living alone paired with the silver-age team; a few of its
    volunteers stopped visiting lately, and the printed coordinator's care-gap list of the
    last week names their elders (and nobody visited within the week)."""
    ledger = open_ledger("memory://")
    summary = build_demo(ledger, seed=3, volunteers=15, months=2)
    [coordinator] = [t.member_id for t in summary.tokens if t.role == "coordinator"]
    grid_worker = Viewer(coordinator, sees_everything=False)
    with views_of(ledger) as views:
        paired = views.reader.pairings(grid_worker, active_on=TODAY)
        gaps = views.reader.care_gaps(grid_worker, days=7)

    assert len(paired) == SILVER_ELDERS
    assert {p.community for p in paired} == {SILVER.community}
    assert sum(p.visits for p in paired) > SILVER_ELDERS  # visits are logs that name them
    assert len(gaps) >= SILVER_QUIET
    week_ago = TODAY - timedelta(days=7)
    assert all(p.last_visit is None or p.last_visit <= week_ago for p in gaps)
