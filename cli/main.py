"""The `timebank` command: serve the API and administer the ledger from a terminal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NoReturn

import typer
from eventsourcing.persistence import (
    InterfaceError,
    MapperDeserialisationError,
    OperationalError,
)
from pydantic import ValidationError

from api.settings import Settings
from cli import (
    auditing,
    certificates,
    demo,
    keys,
    operations,
    policy,
    project,
    records,
    reports,
    tokens,
)
from cli.views import opened
from timebank.application import SYSTEM_ACTOR_ID
from timebank.members import GlobalRole
from timebank.sealing import StoredEventError, StoreKeyError

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
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="API processes; each keeps its own projections current from the shared log.",
        ),
    ] = 1,
) -> None:
    """Run the HTTP API on the configured store (TIMEBANK_DATABASE_URL)."""
    # The server's modules are imported here: every other command starts seconds sooner.
    import uvicorn  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415

    settings = Settings()
    settings.open_ledger().close()  # a store these keys cannot read: one line, before serving
    if with_demo:
        demo.fill_if_empty(settings)
    if workers == 1:
        uvicorn.run(
            create_app(settings, serving=True),
            host=host or settings.host,
            port=port or settings.port,
            log_level="info",
        )
    else:  # each worker process builds its own application from the same settings
        uvicorn.run(
            "api.app:serving_app",
            factory=True,
            workers=workers,
            host=host or settings.host,
            port=port or settings.port,
            log_level="info",
        )


@app.command()
def init(
    name: Annotated[str, typer.Option(help="The first admin's name.")] = "Admin",
) -> None:
    """Create the first admin member of a new ledger and print their token, once."""
    with opened() as views:
        admins = views.reader.admins()
        if admins:
            typer.echo(
                f"this ledger already has an admin: {admins[0].name} ({admins[0].id})", err=True
            )
            raise typer.Exit(1)
        registered = views.ledger.register_member_with_token(
            actor_id=SYSTEM_ACTOR_ID, name=name, roles=[GlobalRole.ADMIN]
        )
    typer.echo(f"admin member {registered.member.id} ({registered.member.name}) created")
    typer.echo(f"token (shown once; the ledger keeps only its digest): {registered.token.token}")


app.command()(auditing.verify)
app.command()(keys.checkpoint)
app.command("keygen-checkpoint")(keys.keygen_checkpoint)
app.command("keygen-event-key")(keys.keygen_event_key)
app.command()(auditing.replay)
app.command()(auditing.rebuild)
app.command()(auditing.export)
app.command("verify-export")(auditing.verify_export_command)
app.command("verify-certificate")(certificates.verify_certificate)
app.command("restore")(operations.restore_command)
app.command()(operations.backup)
app.command("import-service")(records.import_service)
app.command()(reports.rankings)
app.command()(reports.statement)
app.command("service-logs")(reports.service_logs)
app.add_typer(tokens.app, name="token")
app.command()(reports.balance)
app.command()(demo.demo)
app.command()(project.project)
app.add_typer(policy.app, name="policy")
app.command("what-if")(policy.what_if)
app.command()(policy.expire)


def main() -> None:
    """The console script: a bad setting, an unreachable store, a store whose events the
    keys given cannot read, or a stored event that does not read, is one line, not a
    traceback, and exit status 2."""
    try:
        app()
    except ValidationError as error:
        _fail(*(_setting_problem(problem) for problem in error.errors()))
    except (InterfaceError, OperationalError) as error:
        _fail(f"cannot open the store named by TIMEBANK_DATABASE_URL: {error}")
    except StoreKeyError as error:
        _fail(str(error))
    except (StoredEventError, MapperDeserialisationError) as error:
        _fail(f"a stored event cannot be read: {error}; run `timebank verify`")


def _setting_problem(problem: Mapping[str, Any]) -> str:
    names = [str(part) for part in problem.get("loc", ())]
    where = f"TIMEBANK_{names[0].upper()}" if names else "a TIMEBANK_ setting"
    return f"{where}: {problem.get('msg', 'invalid')}"


def _fail(*lines: str) -> NoReturn:
    for line in lines:
        typer.echo(f"timebank: {line}", err=True)
    raise SystemExit(2)
