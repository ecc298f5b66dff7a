"""`timebank rankings` and `timebank balance`: readable tables at a terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.lookup import NotFoundByNameError, find_member, find_team
from cli.views import opened
from projections.periods import PeriodError, parse_period
from projections.visibility import Viewer
from timebank.application import SYSTEM_ACTOR_ID

_ALL = 1_000_000  # a terminal shows the whole ranking


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
    with opened() as views:
        reader, everyone = views.reader, Viewer(SYSTEM_ACTOR_ID, sees_everything=True)
        if volunteers:
            team_id = None
            if team is not None:
                try:
                    team_id = find_team(reader, team)
                except NotFoundByNameError as error:
                    raise typer.BadParameter(str(error), param_hint="--team") from None
            rows = reader.volunteer_rankings(
                everyone, chosen, team_id=team_id, community=community, limit=_ALL
            ).items
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
            ranks = reader.team_rankings(everyone, chosen, community=community, limit=_ALL).items
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
    Console(width=120).print(table)


def balance(
    member: Annotated[str, typer.Argument(help="The member's id or exact name.")],
) -> None:
    """A member's minutes: pending, earned, redeemed, held, given, received, available."""
    with opened() as views:
        reader, everyone = views.reader, Viewer(SYSTEM_ACTOR_ID, sees_everything=True)
        try:
            member_id = find_member(reader, member)
        except NotFoundByNameError as error:
            raise typer.BadParameter(str(error), param_hint="MEMBER") from None
        profile = reader.profile(everyone, member_id)
        minutes = reader.balance(everyone, member_id)
    name, stars = profile.name, profile.star_level
    figures = {
        "pending": minutes.pending_minutes,
        "earned": minutes.earned_minutes,
        "redeemed": minutes.redeemed_minutes,
        "held": minutes.held_minutes,
        "received": minutes.received_minutes,
        "given": minutes.given_minutes,
        "balance": minutes.balance_minutes,
        "available": minutes.available_minutes,
    }
    table = Table("", "minutes", "hours", title=f"{name}, {stars} stars", caption=str(member_id))
    for label, value in figures.items():
        table.add_row(label, str(value), _hours(value))
    Console(width=120).print(table)


def _hours(minutes: int) -> str:
    sign = "-" if minutes < 0 else ""
    whole, rest = divmod(abs(minutes), 60)
    return f"{sign}{whole}:{rest:02d}"
