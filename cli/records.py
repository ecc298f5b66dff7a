"""`timebank import-service`: historical paper records, all entered or none."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn
from uuid import UUID

import typer

from api.settings import Settings
from cli.lookup import NotFoundByNameError, find_member, find_team
from cli.progress import progress_bar
from projections.directory import Directory
from projections.runner import ProjectionRunner
from timebank.errors import RecordsRejectedError, TimebankError
from timebank.imports import ServiceRecord

REQUIRED_COLUMNS = ("volunteer", "date", "minutes", "activity")
OPTIONAL_COLUMNS = ("beneficiary", "note")


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
    ledger = Settings().open_ledger()
    try:
        runner = ProjectionRunner(ledger)
        runner.catch_up()
        with runner.lock:
            team_id, actor_id, records, problems = _read(
                runner.directory.state, text, team, coordinator
            )
        if problems:
            _refuse(problems)
        try:
            result = ledger.import_service_records(
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
    finally:
        ledger.close()
    typer.echo(
        f"imported {result.rows} records, {result.minutes} minutes, into team {team_id} "
        f"as {result.source}"
    )


def _read(
    directory: Directory, text: str, team: str, coordinator: str
) -> tuple[UUID, UUID, list[ServiceRecord], list[tuple[int, str, str]]]:
    try:
        team_id = find_team(directory, team)
        actor_id = find_member(directory, coordinator)
    except NotFoundByNameError as error:
        raise typer.BadParameter(str(error)) from None
    members = {row.member_id for row in directory.memberships.get(team_id, [])}
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
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
    records: list[ServiceRecord] = []
    problems: list[tuple[int, str, str]] = []
    with progress_bar("reading records", None) as step:
        for row in reader:
            step(1)
            line = reader.line_num
            record, row_problems = _record(directory, members, line, row)
            problems.extend(row_problems)
            if record is not None:
                records.append(record)
    return team_id, actor_id, records, problems


def _record(
    directory: Directory, members: set[UUID], line: int, row: dict[str, str | None]
) -> tuple[ServiceRecord | None, list[tuple[int, str, str]]]:
    problems: list[tuple[int, str, str]] = []
    values = {key.strip(): (value or "").strip() for key, value in row.items() if key}
    volunteer: UUID | None = None
    try:
        volunteer = find_member(directory, values["volunteer"], among=members)
    except NotFoundByNameError as error:
        problems.append((line, "volunteer", f"{error} in this team"))
    service_date: date | None = None
    try:
        service_date = date.fromisoformat(values["date"])
    except ValueError:
        problems.append((line, "date", f"{values['date']!r} is not a date YYYY-MM-DD"))
    minutes: int | None = None
    if values["minutes"].isdigit():
        minutes = int(values["minutes"])
    else:
        problems.append((line, "minutes", f"{values['minutes']!r} is not a whole number"))
    if volunteer is None or service_date is None or minutes is None:
        return None, problems
    record = ServiceRecord(
        line=line,
        volunteer_id=volunteer,
        service_date=service_date,
        minutes=minutes,
        activity=values["activity"],
        beneficiary=values.get("beneficiary") or None,
        note=values.get("note") or None,
    )
    return record, problems


def _refuse(problems: list[tuple[int, str, str]]) -> NoReturn:
    for line, field, message in problems:
        where = f"line {line}" if line else "file"
        typer.echo(f"{where}: {field}: {message}", err=True)
    typer.echo(f"nothing imported: {len(problems)} problems", err=True)
    raise typer.Exit(1)
