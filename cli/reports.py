"""`timebank rankings` and `timebank balance`: readable tables at a terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.settings import Settings
from cli.lookup import NotFoundByNameError, find_member, find_team
from projections.periods import PeriodError, parse_period
from projections.rankings import team_rankings, volunteer_rankings
from projections.runner import ProjectionRunner
from projections.stars import star_level


def rankings(
    period: Annotated[
        str, typer.Option(help="all, a year 2026, a month 2026-11 or a week 2026-W45.")
    ] = "all",
    community: Annotated[str | None, typer.Option(help="Only teams of this community.")] = None,
    volunteers: Annotated[
        bool, typer.Option("--volunteers", help="Rank volunteers instead of teams.")
    ] = False,
    team: Annotated[
        str | None, typer.Option(help="With --volunteers: only this team (id or name).")
    ] = None,
) -> None:
    """Team (or volunteer) rankings for a period, by minutes of approved service."""
    try:
        chosen = parse_period(period)
    except PeriodError as error:
        raise typer.BadParameter(str(error), param_hint="--period") from None
    settings = Settings()
    ledger = settings.open_ledger()
    try:
        runner = ProjectionRunner(ledger)
        runner.catch_up()
        with runner.lock:
            state = runner.directory.state
            if volunteers:
                team_id = None
                if team is not None:
                    try:
                        team_id = find_team(state, team)
                    except NotFoundByNameError as error:
                        raise typer.BadParameter(str(error), param_hint="--team") from None
                rows = volunteer_rankings(state, chosen, team_id=team_id, community=community)
                table = Table(
                    "rank",
                    "volunteer",
                    "hours",
                    "person-times",
                    "sessions",
                    title=f"Volunteers, {chosen.name}",
                )
                for v in rows:
                    table.add_row(
                        str(v.rank), v.name, _hours(v.minutes), str(v.person_times), str(v.sessions)
                    )
            else:
                ranks = team_rankings(state, chosen, community=community)
                table = Table(
                    "rank",
                    "team",
                    "community",
                    "hours",
                    "volunteers",
                    "person-times",
                    "sessions",
                    title=f"Teams, {chosen.name}",
                )
                for t in ranks:
                    table.add_row(
                        str(t.rank),
                        t.name,
                        t.community,
                        _hours(t.minutes),
                        str(t.volunteers),
                        str(t.person_times),
                        str(t.sessions),
                    )
    finally:
        ledger.close()
    Console(width=120).print(table)


def balance(
    member: Annotated[str, typer.Argument(help="The member's id or exact name.")],
) -> None:
    """A member's minutes: pending, earned, redeemed, held, given, received, available."""
    settings = Settings()
    ledger = settings.open_ledger()
    try:
        runner = ProjectionRunner(ledger)
        runner.catch_up()
        with runner.lock:
            try:
                member_id = find_member(runner.directory.state, member)
            except NotFoundByNameError as error:
                raise typer.BadParameter(str(error), param_hint="MEMBER") from None
            name = runner.directory.state.members[member_id].name
            minutes = runner.balances.state.members[member_id]
            figures = {
                "pending": minutes.pending,
                "earned": minutes.earned,
                "redeemed": minutes.redeemed,
                "held": minutes.held,
                "received": minutes.received,
                "given": minutes.given,
                "balance": minutes.balance,
                "available": minutes.available,
            }
            stars = star_level(minutes.earned, settings.ladder())
    finally:
        ledger.close()
    table = Table("", "minutes", "hours", title=f"{name}, {stars} stars", caption=str(member_id))
    for label, value in figures.items():
        table.add_row(label, str(value), _hours(value))
    Console(width=120).print(table)


def _hours(minutes: int) -> str:
    sign = "-" if minutes < 0 else ""
    whole, rest = divmod(abs(minutes), 60)
    return f"{sign}{whole}:{rest:02d}"
