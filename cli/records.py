"""`timebank import-service`: historical paper records, all entered or none."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar
from uuid import UUID

import typer

from cli.lookup import NotFoundByNameError, find, find_member, find_team
from cli.progress import progress_bar
from cli.views import opened
from projections.queries import Reader
from timebank.errors import InvalidRequestError, RecordsRejectedError, TimebankError
from timebank.imports import ServiceRecord
from timebank.rules import optional_text, parse_date, parse_whole_number, require_text

REQUIRED_COLUMNS = ("volunteer", "date", "minutes", "activity")
OPTIONAL_COLUMNS = ("beneficiary", "note")

T = TypeVar("T")


def import_service(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with a header: volunteer,date,minutes,activity[,beneficiary][,note]; "
            "volunteer is a member id or name, date YYYY-MM-DD, minutes a whole number."
        ),
    ],
    team: Annotated[str, typer.Option(help="The team (id or name) the records belong to.")],
    coordinator: Annotated[
        str, typer.Option(help="The importing coordinator (id or name), who certifies them.")
    ],
) -> None:
    """Enter paper records as logged and approved by the importing coordinator.

    Every bad row is reported with its line number, and nothing is written unless the
    whole file is valid. A file is imported once."""
    if not file.is_file():
        raise typer.BadParameter(f"no file {file}")
    raw = file.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        _refuse([(0, "file", f"not UTF-8 text ({error.reason} at byte {error.start})")])
    with opened() as views:
        team_id, actor_id, records, problems = _read(views.reader, text, team, coordinator)
        if problems:
            _refuse(problems)
        try:
            result = views.ledger.import_service_records(
                actor_id=actor_id,
                team_id=team_id,
                name=file.name,
                digest=hashlib.sha256(raw).hexdigest(),
                records=records,
            )
        except RecordsRejectedError as error:
            _refuse(error.problems)
        except TimebankError as error:
            _refuse([(0, "file", str(error))])
    typer.echo(
        f"imported {result.rows} records, {result.minutes} minutes, into team {team_id} "
        f"as {result.source}"
    )


def _read(
    views: Reader, text: str, team: str, coordinator: str
) -> tuple[UUID, UUID, list[ServiceRecord], list[tuple[int, str, str]]]:
    try:
        team_id = find_team(views, team)
        actor_id = find_member(views, coordinator)
    except NotFoundByNameError as error:
        raise typer.BadParameter(str(error)) from None
    members = [(m.id, m.name) for m in views.member_names(team_id=team_id)]
    # The csv module finds the rows itself: str.splitlines() would also break a row at
    # the separators and controls (\x1c, \x85, U+2028...) a cell may hold.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    records: list[ServiceRecord] = []
    problems: list[tuple[int, str, str]] = []
    try:
        header = [name.strip() for name in reader.fieldnames or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        unknown = [repr(c) for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
        if missing or unknown:
            detail = "; ".join(
                part
                for part in (
                    f"missing columns {', '.join(missing)}" if missing else "",
                    f"unknown columns {', '.join(unknown)}" if unknown else "",
                )
                if part
            )
            return team_id, actor_id, [], [(1, "header", detail)]
        with progress_bar("reading records", None) as step:
            for row in reader:
                step(1)
                line = reader.line_num
                record, row_problems = _record(members, line, row)
                problems.extend(row_problems)
                if record is not None:
                    records.append(record)
    except csv.Error as error:  # a cell over the csv module's size limit, say
        problems.append((reader.line_num, "file", f"not readable as CSV: {error}"))
    return team_id, actor_id, records, problems


def _record(
    members: list[tuple[UUID, str]], line: int, row: dict[str | None, Any]
) -> tuple[ServiceRecord | None, list[tuple[int, str, str]]]:
    """One row checked by the ledger's own rules (timebank.rules), every problem named."""
    problems: list[tuple[int, str, str]] = []
    # A short row leaves cells None; a long one puts the surplus in a list under None.
    if row.get(None):
        problems.append((line, "row", "has more cells than the header has columns"))
    cells = {key.strip(): value for key, value in row.items() if key and isinstance(value, str)}

    def checked(field: str, rule: Callable[[str, str], T], *, typed: bool = False) -> T | None:
        # Texts are trimmed by the rule itself; a date or a number may be padded with
        # spaces ("Li, 2026-06-01, 120"), and is shown back when it is refused.
        value = cells.get(field, "")
        if typed:
            value = value.strip(" \t")
        try:
            return rule(field, value)
        except InvalidRequestError as error:
            shown = f"{value[:40]!r}: " if typed else ""
            problems.append((line, field, f"{shown}{error.message}"))
            return None

    volunteer: UUID | None = None
    try:
        volunteer = find("member", cells.get("volunteer", "").strip(" \t"), members)
    except NotFoundByNameError as error:
        problems.append((line, "volunteer", f"{error} in this team"))
    service_date = checked("date", parse_date, typed=True)
    minutes = checked("minutes", parse_whole_number, typed=True)
    activity = checked("activity", require_text)
    beneficiary = checked("beneficiary", optional_text)
    note = checked("note", optional_text)
    if problems or volunteer is None or service_date is None or minutes is None or not activity:
        return None, problems
    record = ServiceRecord(
        line=line,
        volunteer_id=volunteer,
        service_date=service_date,
        minutes=minutes,
        activity=activity,
        beneficiary=beneficiary,
        note=note,
    )
    return record, problems


def _refuse(problems: list[tuple[int, str, str]]) -> NoReturn:
    for line, field, message in problems:
        where = f"line {line}" if line else "file"
        typer.echo(f"{where}: {field}: {message}", err=True)
    typer.echo(f"nothing imported: {len(problems)} problems", err=True)
    raise typer.Exit(1)
