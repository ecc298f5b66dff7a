"""The auditor's commands: verify, replay, rebuild, export and verify-export."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from api.settings import Settings
from cli.progress import progress_bar
from cli.views import opened
from projections import auditor
from projections.export import ExportError, export_ledger, read_checkpoint, verify_export
from projections.runner import ProjectionRunner
from projections.store import ViewStore

TARGETS = ("views", "audit")


def verify() -> None:
    """Check the hash chain, the books and every view; exit 1 on any finding."""
    with opened() as views:  # the audit trail sees every event before the check
        report = auditor.verify(views.ledger, views.store)
    for problem in report.problems:
        typer.echo(f"{_where(problem)}\t{problem.kind}\t{problem.detail}")
    verdict = "verified" if report.ok else f"{len(report.problems)} problems"
    typer.echo(f"{report.events_checked} events checked: {verdict}")
    raise typer.Exit(0 if report.ok else 1)


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
        total = ledger.recorder.max_notification_id() or 0
        with progress_bar("replaying", total) as step:
            result = auditor.replay(ledger, as_of, progress=step)
    finally:
        ledger.close()
    typer.echo(f"as of {result.as_of.isoformat()}: {result.events_replayed} events replayed")
    typer.echo("member_id\tbalance\theld\tavailable")
    for row in result.balances:
        typer.echo(
            f"{row.member_id}\t{row.balance_minutes}\t{row.held_minutes}\t{row.available_minutes}"
        )
    typer.echo(f"system accounts: {result.system}; total {result.total}")


def rebuild(
    target: Annotated[
        str,
        typer.Argument(help="views (every view; the default) or audit (the audit trail)."),
    ] = "views",
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Rebuild the audit trail even though verify finds evidence of tampering.",
        ),
    ] = False,
) -> None:
    """Fold the log again into empty views (or chain the audit trail again).

    It runs only while no server or projector serves the store: it holds the store alone
    for as long as it runs, and a server started meanwhile waits for it. Every batch is
    stored whole, so a rebuild that is stopped or killed leaves views a server goes on
    from. The audit trail is rebuilt only when named, and only on a ledger whose chain
    verifies: chaining it again would erase the evidence of a tampered store."""
    if target not in TARGETS:
        raise typer.BadParameter(f"choose one of {', '.join(TARGETS)}")
    if force and target != "audit":
        raise typer.BadParameter("only `rebuild audit` is forced", param_hint="--force")
    ledger = Settings().open_ledger()
    store = ViewStore.open(ledger, pool_size=2)
    try:
        if not store.locks.try_alone():
            typer.echo(
                "not rebuilt: a server or projector is serving this store; stop it first "
                "(`timebank serve`, `timebank project`), then rebuild",
                err=True,
            )
            raise typer.Exit(1)
        store.prepare()
        total = ledger.recorder.max_notification_id() or 0
        if target == "audit":
            with progress_bar("checking the chain, then rebuilding audit", total) as advance:
                applied = auditor.rebuild_audit_trail(ledger, store, force=force, progress=advance)
        else:
            runner = ProjectionRunner(ledger, store)
            runner.claim()
            with progress_bar("rebuilding the views", total) as advance:
                applied = runner.rebuild(progress=advance)
    except auditor.UnverifiedChainError as refused:
        for problem in refused.findings:
            typer.echo(f"{_where(problem)}\t{problem.kind}\t{problem.detail}")
        typer.echo(
            f"the audit trail was not rebuilt: {refused}, and rebuilding it would erase "
            "them. Keep a copy of the database, compare it with an export kept elsewhere "
            "(timebank verify-export), and only then rebuild with --force.",
            err=True,
        )
        raise typer.Exit(1) from None
    finally:
        store.close()
        ledger.close()
    what = "the audit trail" if target == "audit" else "the views (the audit trail is kept)"
    typer.echo(f"rebuilt {what} from {applied} events")


def export(
    file: Annotated[Path, typer.Argument(help="Where to write the JSON Lines export.")],
) -> None:
    """Write the whole ledger as JSON Lines, one event a line, closed by a checkpoint."""
    partial = file.with_name(file.name + ".partial")
    try:
        # Every exported hash is checked against the audit trail, current with the log.
        with opened() as views:
            total = views.ledger.recorder.max_notification_id() or 0
            with (
                partial.open("w", encoding="utf-8") as out,
                progress_bar("exporting", total) as step,
            ):
                checkpoint = export_ledger(views.ledger, views.store, out, progress=step)
    except ExportError as error:
        partial.unlink(missing_ok=True)
        typer.echo(f"not exported: {error}; run `timebank verify`", err=True)
        raise typer.Exit(1) from None
    os.replace(partial, file)
    typer.echo(
        f"exported {checkpoint['count']} events to {file}; head hash {checkpoint['head_hash']}"
    )


def verify_export_command(
    file: Annotated[Path, typer.Argument(help="An export written by `timebank export`.")],
    earlier: Annotated[
        Path | None,
        typer.Option(
            help="An earlier export of the same ledger: its history must be this one's start."
        ),
    ] = None,
) -> None:
    """Check an export from the file alone: chain, balances, zero sum, no overdraft."""
    if not file.is_file():
        raise typer.BadParameter(f"no file {file}")
    anchor = None
    if earlier is not None:
        if not earlier.is_file():
            raise typer.BadParameter(f"no file {earlier}", param_hint="--earlier")
        try:
            with earlier.open(encoding="utf-8") as old:
                anchor = read_checkpoint(old)
        except ValueError as error:
            raise typer.BadParameter(f"{earlier}: {error}", param_hint="--earlier") from None
    with file.open(encoding="utf-8") as lines, progress_bar("checking", None) as step:
        check = verify_export(lines, earlier=anchor, progress=step)
    if check.problem is not None:
        line, message = check.problem
        typer.echo(f"line {line}: {message}", err=True)
        raise typer.Exit(1)
    checkpoint = check.checkpoint or {}
    typer.echo(
        f"{file}: {checkpoint.get('count')} events verified; "
        f"head hash {checkpoint.get('head_hash')}"
    )


def _where(problem: auditor.Finding) -> str:
    return "-" if problem.position is None else str(problem.position)
