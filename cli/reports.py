"""`timebank rankings`, `statement`, `service-logs` and `balance`: readable tables at a
terminal, plain ones in a pipe, and CSV, JSON or XLSX files of the same reports."""

from __future__ import annotations

import json
import sys
import unicodedata
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.documents.tables import to_csv, to_xlsx
from cli.lookup import NotFoundByNameError, find_member, find_team
from cli.views import opened
from projections.periods import PeriodError, parse_period
from projections.queries import reports
from projections.queries.reports import Report
from projections.visibility import Viewer
from timebank.application import SYSTEM_ACTOR_ID
from timebank.errors import InvalidRequestError
from timebank.rules import parse_date
from timebank.service_logs import ServiceStatus


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


FormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        help="table (a plain one when the output is not a terminal), csv, json or xlsx.",
    ),
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write to this file instead (xlsx needs one).")
]


def rankings(
    *,
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
    output: FormatOption = Format.TABLE,
    out: OutOption = None,
) -> None:
    """Team (or volunteer) rankings for a period, by minutes of approved service, with the
    ledger position they were computed at."""
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
            report = reports.volunteer_rankings(
                reader, everyone, chosen, team_id=team_id, community=community
            )
        else:
            report = reports.team_rankings(reader, everyone, chosen, community=community)
    emit(report, output, out)


def statement(
    member: Annotated[str, typer.Argument(help="The member's id or exact name.")],
    output: FormatOption = Format.TABLE,
    out: OutOption = None,
) -> None:
    """A member's whole statement: every posting with the balance after it."""
    with opened() as views:
        reader, everyone = views.reader, Viewer(SYSTEM_ACTOR_ID, sees_everything=True)
        try:
            member_id = find_member(reader, member)
        except NotFoundByNameError as error:
            raise typer.BadParameter(str(error), param_hint="MEMBER") from None
        report = reports.statement(reader, everyone, member_id)
    emit(report, output, out)


def service_logs(
    *,
    team: Annotated[str | None, typer.Option(help="Only this team (id or name).")] = None,
    status: Annotated[
        ServiceStatus | None, typer.Option(help="pending, approved, rejected or reversed.")
    ] = None,
    served_from: Annotated[
        str | None, typer.Option("--from", help="Served on or after this day (YYYY-MM-DD).")
    ] = None,
    served_until: Annotated[
        str | None, typer.Option("--until", help="Served on or before this day (YYYY-MM-DD).")
    ] = None,
    output: FormatOption = Format.TABLE,
    out: OutOption = None,
) -> None:
    """Service logs by team, status and service-date range, in the order recorded."""
    start, end = _day(served_from, "--from"), _day(served_until, "--until")
    with opened() as views:
        reader, everyone = views.reader, Viewer(SYSTEM_ACTOR_ID, sees_everything=True)
        team_id = None
        if team is not None:
            try:
                team_id = find_team(reader, team)
            except NotFoundByNameError as error:
                raise typer.BadParameter(str(error), param_hint="--team") from None
        report = reports.service_logs(
            reader,
            everyone,
            team_id=team_id,
            status=None if status is None else status.value,
            served_from=start,
            served_until=end,
        )
    emit(report, output, out)


def emit(report: Report, output: Format, out: Path | None) -> None:
    """The report in the format asked for, to the file or the terminal."""
    if output is Format.XLSX:
        if out is None and sys.stdout.isatty():
            raise typer.BadParameter(
                "an XLSX file goes to a file: add --out FILE", param_hint="--out"
            )
        content = to_xlsx(report)
    elif output is Format.CSV:
        content = to_csv(report)
    elif output is Format.JSON:
        content = (json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n").encode()
    else:
        content = b""
    if output is Format.TABLE:
        if out is not None:
            out.write_text(_plain_table(report), encoding="utf-8")
        elif sys.stdout.isatty():
            _rich_table(report)
        else:
            typer.echo(_plain_table(report), nl=False)
        return
    if out is not None:
        out.write_bytes(content)
        typer.echo(f"{out}: {report.title}, at ledger position {report.position}", err=True)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()


def _rich_table(report: Report) -> None:
    table = Table(
        *report.columns,
        title=report.title,
        caption=f"at ledger position {report.position}",
    )
    for row in report.rows:
        table.add_row(*(str(value) for value in row))
    Console(width=160).print(table)


def _plain_table(report: Report) -> str:
    """Columns aligned with spaces, no boxes or colours: for a pipe, a file or a printer."""
    cells = [list(report.columns), *([str(v) for v in row] for row in report.rows)]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(report.columns))]
    lines = [report.title]
    for row in cells:
        padded = (
            cell + " " * (width - _width(cell)) for cell, width in zip(row, widths, strict=True)
        )
        lines.append("  ".join(padded).rstrip())
    lines.append(f"at ledger position {report.position}")
    return "\n".join(lines) + "\n"


def _width(text: str) -> int:
    """Columns a text takes at a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return parse_date(option, text)
    except InvalidRequestError as error:
        raise typer.BadParameter(error.message, param_hint=option) from None


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
