"""`timebank import-service`: paper records and attendance sheets, all entered or none."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar
from uuid import UUID

import typer

from cli.lookup import NotFoundByNameError, find, find_member, find_team
from cli.progress import progress_bar
from cli.sheets import Row, Sheet, SheetError, decoded, read_sheet
from cli.views import Opened, opened
from projections.queries import Reader
from timebank.coordination import Attendee
from timebank.errors import (
    IdempotencyKeyReusedError,
    InvalidRequestError,
    RecordsRejectedError,
    TimebankError,
)
from timebank.imports import ServiceRecord
from timebank.rules import optional_text, parse_date, parse_whole_number, require_text

T = TypeVar("T")
Problem = tuple[int, str, str]

RECORD_COLUMNS = ("volunteer", "date", "minutes", "activity")
OPTIONAL_RECORD_COLUMNS = ("beneficiary", "note")


def import_service(
    file: Annotated[
        Path,
        typer.Argument(
            help=(
                "A CSV file (UTF-8, GB18030/GBK as Excel saves it in Chinese, or Excel's "
                "Unicode text). Paper records have the columns volunteer (姓名), date "
                "(日期, YYYY-MM-DD), minutes (分钟), activity (活动), and optionally "
                "beneficiary (服务对象) and note (备注). An attendance sheet (with "
                "--activity) has volunteer (姓名) and optionally minutes (分钟). A volunteer "
                "is named by name, member code or id."
            )
        ),
    ],
    *,
    team: Annotated[str, typer.Option(help="The team (id or name) the records belong to.")],
    coordinator: Annotated[
        str, typer.Option(help="The importing coordinator (id or name), who certifies them.")
    ],
    activity: Annotated[
        str | None,
        typer.Option(help="The file is the attendance sheet (签到表) of this one activity (场次)."),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option("--date", help="The day of the activity, YYYY-MM-DD (with --activity)."),
    ] = None,
    minutes: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=1440,
            help="Minutes each attendee served, where the sheet has no minutes column.",
        ),
    ] = None,
    place: Annotated[str | None, typer.Option(help="Where the activity was held.")] = None,
    beneficiaries: Annotated[
        str | None, typer.Option(help="Whom the activity served (服务对象).")
    ] = None,
) -> None:
    """Enter paper records, or one activity's attendance sheet, as certified by the
    importing coordinator.

    Every bad row is reported with its line number, and nothing is written unless the
    whole file is valid. A file is entered once."""
    if not file.is_file():
        raise typer.BadParameter(f"no file {file}")
    if activity is None and (on, minutes, place, beneficiaries) != (None,) * 4:
        raise typer.BadParameter(
            "--date, --minutes, --place and --beneficiaries go with --activity"
        )
    if activity is not None and on is None:
        raise typer.BadParameter("an attendance sheet needs --date, the day of the activity")
    raw = file.read_bytes()
    try:
        text, encoding = decoded(raw)
    except SheetError as error:
        _refuse([(error.line, error.field, error.message)])
    source = _File(file.name, hashlib.sha256(raw).hexdigest(), text)
    with opened() as views:
        try:
            team_id = find_team(views.reader, team)
            actor_id = find_member(views.reader, coordinator)
        except NotFoundByNameError as error:
            raise typer.BadParameter(str(error)) from None
        if activity is None:
            _import_records(views, source, team_id, actor_id)
        else:
            day = _option_date(on or "")
            sheet = _AttendanceSheet(activity, day, minutes, place, beneficiaries)
            sheet.record(views, source, team_id, actor_id)
    typer.echo(f"(read as {encoding})")


@dataclass(frozen=True)
class _File:
    name: str
    digest: str  # a file is entered once: its digest says which
    text: str


def _option_date(text: str) -> date:
    try:
        return parse_date("--date", text)
    except InvalidRequestError as error:
        raise typer.BadParameter(error.message, param_hint="--date") from None


# Paper records: one log per row ------------------------------------------------------------


def _import_records(views: Opened, source: _File, team_id: UUID, actor_id: UUID) -> None:
    records, problems = _records(views.reader, source.text, team_id)
    if problems:
        _refuse(problems)
    try:
        result = views.ledger.import_service_records(
            actor_id=actor_id,
            team_id=team_id,
            name=source.name,
            digest=source.digest,
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


def _records(reader: Reader, text: str, team_id: UUID) -> tuple[list[ServiceRecord], list[Problem]]:
    members = [(m.id, m.name) for m in reader.member_names(team_id=team_id)]
    records: list[ServiceRecord] = []
    problems: list[Problem] = []
    try:
        sheet = read_sheet(
            text, required=RECORD_COLUMNS, allowed=RECORD_COLUMNS + OPTIONAL_RECORD_COLUMNS
        )
        with progress_bar("reading records", None) as step:
            for row in sheet.rows:
                step(1)
                record, row_problems = _record(sheet, members, row)
                problems.extend(row_problems)
                if record is not None:
                    records.append(record)
    except SheetError as error:
        problems.append((error.line, error.field, error.message))
    return records, problems


class _Cells:
    """A row's cells checked by the ledger's own rules (timebank.rules), every problem
    named by its line and the column as the file names it."""

    def __init__(self, sheet: Sheet, row: Row) -> None:
        self.sheet, self.row = sheet, row
        self.problems: list[Problem] = []
        if row.surplus:
            self.problems.append((row.line, "row", "has more cells than the header has columns"))

    def checked(
        self, column: str, rule: Callable[[str, str], T], *, typed: bool = False
    ) -> T | None:
        # Texts are trimmed by the rule itself; a date or a number may be padded with
        # spaces ("Li, 2026-06-01, 120"), and is shown back when it is refused.
        value = self.row.cells.get(column, "")
        if typed:
            value = value.strip(" \t")
        try:
            return rule(column, value)
        except InvalidRequestError as error:
            shown = f"{value[:40]!r}: " if typed else ""
            self.problems.append(
                (self.row.line, self.sheet.named(column), f"{shown}{error.message}")
            )
            return None

    def member(self, members: list[tuple[UUID, str]]) -> UUID | None:
        try:
            return find("member", self.row.cells.get("volunteer", "").strip(" \t"), members)
        except NotFoundByNameError as error:
            self.problems.append(
                (self.row.line, self.sheet.named("volunteer"), f"{error} in this team")
            )
            return None


def _record(
    sheet: Sheet, members: list[tuple[UUID, str]], row: Row
) -> tuple[ServiceRecord | None, list[Problem]]:
    cells = _Cells(sheet, row)
    volunteer = cells.member(members)
    service_date = cells.checked("date", parse_date, typed=True)
    minutes = cells.checked("minutes", parse_whole_number, typed=True)
    activity = cells.checked("activity", require_text)
    beneficiary = cells.checked("beneficiary", optional_text)
    note = cells.checked("note", optional_text)
    if cells.problems or volunteer is None or service_date is None or minutes is None:
        return None, cells.problems
    record = ServiceRecord(
        line=row.line,
        volunteer_id=volunteer,
        service_date=service_date,
        minutes=minutes,
        activity=activity or "",
        beneficiary=beneficiary,
        note=note,
    )
    return record, []


# An attendance sheet: one activity -----------------------------------------------------------


class _AttendanceSheet:
    """The sign-in sheet (签到表) of one activity: who came, and how long each served."""

    def __init__(
        self,
        activity: str,
        day: date,
        minutes: int | None,
        place: str | None,
        beneficiaries: str | None,
    ) -> None:
        self.activity, self.day, self.minutes = activity, day, minutes
        self.place, self.beneficiaries = place, beneficiaries

    def record(self, views: Opened, source: _File, team_id: UUID, actor_id: UUID) -> None:
        attendees, problems = self._attendees(views.reader, source.text, team_id)
        if problems:
            _refuse(problems)
        try:
            recorded = views.ledger.record_activity(
                actor_id=actor_id,
                team_id=team_id,
                service_date=self.day,
                activity=self.activity,
                place=self.place,
                beneficiaries=self.beneficiaries,
                attendees=attendees,
                # The same sheet again is the same activity, not a second one.
                request_id=f"attendance-sheet:{source.digest}",
            )
        except IdempotencyKeyReusedError:
            _refuse([(0, "file", "this sheet was already entered, as another activity")])
        except TimebankError as error:
            _refuse([(0, "file", str(error))])
        total = sum(a.minutes for a in attendees)
        typer.echo(
            f"recorded activity {recorded.id}: {self.activity} on {self.day}, "
            f"{len(attendees)} attendees, {total} minutes"
        )

    def _attendees(
        self, reader: Reader, text: str, team_id: UUID
    ) -> tuple[list[Attendee], list[Problem]]:
        members = [(m.id, m.name) for m in reader.member_names(team_id=team_id)]
        required = ("volunteer",) if self.minutes else ("volunteer", "minutes")
        attendees: list[Attendee] = []
        problems: list[Problem] = []
        seen: dict[UUID, int] = {}
        try:
            sheet = read_sheet(text, required=required, allowed=("volunteer", "minutes"))
            for row in sheet.rows:
                cells = _Cells(sheet, row)
                member = cells.member(members)
                minutes = self.minutes
                if "minutes" in sheet.columns and (
                    row.cells.get("minutes", "").strip() or not minutes
                ):
                    minutes = cells.checked("minutes", parse_whole_number, typed=True)
                if member is not None and member in seen:
                    cells.problems.append(
                        (
                            row.line,
                            sheet.named("volunteer"),
                            f"signed in twice (line {seen[member]})",
                        )
                    )
                problems.extend(cells.problems)
                if member is not None and minutes is not None and not cells.problems:
                    seen[member] = row.line
                    attendees.append(Attendee(member, minutes))
        except SheetError as error:
            problems.append((error.line, error.field, error.message))
        if not attendees and not problems:
            problems.append((0, "file", "the sheet names nobody"))
        return attendees, problems


def _refuse(problems: list[Problem]) -> NoReturn:
    for line, field, message in problems:
        where = f"line {line}" if line else "file"
        typer.echo(f"{where}: {field}: {message}", err=True)
    typer.echo(f"nothing imported: {len(problems)} problems", err=True)
    raise typer.Exit(1)
