"""The `timebank` command: serve the API and administer the ledger from a terminal."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from api.app import create_app
from api.settings import Settings
from cli import auditing, demo, records, reports

app = typer.Typer(
    help="Timebank: an event-sourced ledger for community time banks.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    with_demo: Annotated[
        bool, typer.Option("--demo", help="Fill an empty store with the demo community first.")
    ] = False,
) -> None:
    """Run the HTTP API on the configured store (TIMEBANK_DATABASE_URL)."""
    settings = Settings()
    if with_demo:
        demo.fill_if_empty(settings)
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


app.command()(auditing.verify)
app.command()(auditing.replay)
app.command()(auditing.rebuild)
app.command()(auditing.export)
app.command("verify-export")(auditing.verify_export_command)
app.command("import-service")(records.import_service)
app.command()(reports.rankings)
app.command()(reports.balance)
app.command()(demo.demo)


def main() -> None:
    app()
