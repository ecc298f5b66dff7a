"""The `timebank` command: serve the API and administer the ledger from a terminal."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
import uvicorn

from api.app import create_app
from api.settings import Settings
from projections import auditor
from projections.runner import ProjectionRunner

app = typer.Typer(
    help="Timebank: an event-sourced ledger for community time banks.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the HTTP API on the configured store (TIMEBANK_DATABASE_URL)."""
    settings = Settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
    )


@app.command()
def init(
    name: Annotated[str, typer.Option(help="The first admin's name.")] = "Admin",
) -> None:
    """Create the first admin member of a new ledger."""
    ledger = Settings().open_ledger()
    try:
        admin = ledger.bootstrap_admin(name=name)
    finally:
        ledger.close()
    typer.echo(f"admin member {admin.id} ({admin.name}) created")


PROJECTIONS = ("directory", "balances", "audit")


@app.command()
def verify() -> None:
    """Check the hash chain, the books and every projection; exit 1 on any finding."""
    ledger = Settings().open_ledger()
    try:
        runner = ProjectionRunner(ledger)
        runner.catch_up()  # the audit sees every event before the check
        report = auditor.verify(ledger, runner.store)
    finally:
        ledger.close()
    for problem in report.problems:
        where = "-" if problem.position is None else str(problem.position)
        typer.echo(f"{where}\t{problem.kind}\t{problem.detail}")
    verdict = "verified" if report.ok else f"{len(report.problems)} problems"
    typer.echo(f"{report.events_checked} events checked: {verdict}")
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def replay(
    as_of: Annotated[
        datetime | None,
        typer.Option(help="A recorded instant, ISO 8601 with a UTC offset (default: now)."),
    ] = None,
) -> None:
    """Every member's balance recomputed from the stored events alone."""
    if as_of is not None and as_of.tzinfo is None:
        raise typer.BadParameter("give the instant with its UTC offset, e.g. +08:00")
    ledger = Settings().open_ledger()
    try:
        result = auditor.replay(ledger, as_of)
    finally:
        ledger.close()
    typer.echo(f"as of {result.as_of.isoformat()}: {result.events_replayed} events replayed")
    typer.echo("member_id\tbalance\theld\tavailable")
    for row in result.balances:
        typer.echo(
            f"{row.member_id}\t{row.balance_minutes}\t{row.held_minutes}\t{row.available_minutes}"
        )
    typer.echo(f"system accounts: {result.system}; total {result.total}")


@app.command()
def rebuild(
    projection: Annotated[
        str | None, typer.Argument(help=f"One of {', '.join(PROJECTIONS)} (default: all).")
    ] = None,
) -> None:
    """Drop a projection (or all) with its position, and fold the log again."""
    if projection is not None and projection not in PROJECTIONS:
        raise typer.BadParameter(f"choose one of {', '.join(PROJECTIONS)}")
    ledger = Settings().open_ledger()
    try:
        runner = ProjectionRunner(ledger)
        applied = runner.rebuild([projection] if projection else None)
    finally:
        ledger.close()
    typer.echo(f"rebuilt {projection or 'all projections'} from {applied} events")


def main() -> None:
    app()
