"""`timebank verify-certificate`: a certificate checked against an export's events alone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from projections.certificate_check import check_certificate
from projections.export import verify_export
from projections.lines import bounded_lines


def verify_certificate(
    export: Annotated[Path, typer.Argument(help="An export written by `timebank export`.")],
    number: Annotated[str, typer.Argument(help="The certificate's number, e.g. LK-2026-000123.")],
) -> None:
    """Check a certificate offline: the export must be intact, the certificate issued in
    it, and every log it states approved with the minutes it states. Prints whether it is
    valid, superseded (a log it covers was reversed later) or revoked; exits 1 unless it
    is valid."""
    if not export.is_file():
        raise typer.BadParameter(f"no file {export}", param_hint="EXPORT")
    with export.open("rb") as stream:
        intact = verify_export(bounded_lines(stream))
    if intact.problem is not None:
        line, message = intact.problem
        typer.echo(f"{export}: the export is damaged at line {line}: {message}", err=True)
        raise typer.Exit(1)
    with export.open("rb") as stream:
        check = check_certificate(bounded_lines(stream), number)
    if check.status == "unknown":
        typer.echo(f"{check.number}: unknown: no certificate has this number in {export}")
        raise typer.Exit(1)
    stated = check.stated
    minutes = int(stated.get("total_minutes", 0))
    typer.echo(
        f"{check.number}: {stated.get('volunteer_name')}, {stated.get('period_from')} to "
        f"{stated.get('period_until')}, {minutes // 60}:{minutes % 60:02d} hours "
        f"({minutes} minutes), issued {stated.get('issued_on')} by {stated.get('organisation')}"
    )
    for problem in check.problems:
        typer.echo(f"{check.number}: does not hold: {problem}")
    if check.status == "revoked":
        typer.echo(f"{check.number}: revoked at {check.revoked_at}: {check.revoke_reason}")
    elif check.status == "superseded":
        typer.echo(
            f"{check.number}: superseded: a service log it covers was reversed at "
            f"{check.superseded_at}"
        )
    elif not check.problems:
        typer.echo(f"{check.number}: valid")
    if not check.holds:
        raise typer.Exit(1)
