"""The auditor's commands: verify, replay, rebuild, export and verify-export."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from api.settings import Settings
from cli.operations import KEY_FILE_HELP, export_lines, private_file, read_passphrase, text_out
from cli.progress import progress_bar
from cli.views import CATCH_UP_WAIT, opened
from projections import auditor
from projections.checkpoints import (
    Checkpoint,
    CheckpointFormatError,
    Finding,
    load_public_key,
    read_checkpoints,
)
from projections.export import ExportError, export_ledger, read_checkpoint, verify_export
from projections.lines import bounded_lines
from projections.restore import RestoreError, checked_part, write_stored_states
from projections.runner import ProjectionRunner
from projections.store import ViewStore
from projections.transport import TransportError, is_encrypted
from timebank.application import TimeBank

TARGETS = ("views", "audit")


def verify(
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            help="A checkpoint kept elsewhere (timebank checkpoint --out): the ledger's history "
            "must extend it. Give it again for more."
        ),
    ] = None,
    public_key: Annotated[
        list[str] | None,
        typer.Option(
            help="The public key checkpoints must be signed by (base64, PEM, or a file "
            "holding either); give it again to trust several."
        ),
    ] = None,
) -> None:
    """Check the hash chain, the books, the seals, what the events mean and every view,
    and that the history extends each kept checkpoint; exit 1 on any finding."""
    kept, unreadable = _kept_checkpoints(checkpoint or [])
    trusted = _trusted_keys(public_key or [])
    ledger = Settings().open_ledger()
    store = ViewStore.open(ledger, pool_size=2)
    try:
        store.prepare()
        _catch_up_for_verify(ledger, store)  # the audit trail sees every event it can
        report = auditor.verify(ledger, store, checkpoints=kept, trusted_keys=trusted)
    finally:
        store.close()
        ledger.close()
    problems = [*(auditor.Finding(*f) for f in unreadable), *report.problems]
    report = auditor.Report(report.events_checked, problems)
    if kept and not trusted:
        typer.echo(
            "note: each checkpoint was checked against the key it names; pass --public-key "
            "to accept only the ledger's own key",
            err=True,
        )
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
    encrypt: Annotated[
        bool,
        typer.Option(
            "--encrypt",
            help="Encrypt the file with a passphrase (AES-256-GCM), for transport and "
            "backup: it then also carries what `timebank restore` needs.",
        ),
    ] = False,
    passphrase_file: Annotated[Path | None, typer.Option(help=KEY_FILE_HELP)] = None,
) -> None:
    """Write the whole ledger as JSON Lines, one event a line, closed by a checkpoint; the
    file is readable by its owner alone, and holds no credential secret."""
    if passphrase_file is not None and not encrypt:
        raise typer.BadParameter("only with --encrypt", param_hint="--passphrase-file")
    passphrase = read_passphrase(passphrase_file) if encrypt else None
    partial = file.with_name(file.name + ".partial")
    try:
        # Every exported hash is checked against the audit trail, current with the log.
        with opened() as views:
            total = views.ledger.recorder.max_notification_id() or 0
            with (
                private_file(partial) as raw,
                text_out(raw, passphrase) as out,
                progress_bar("exporting", total) as step,
            ):
                checkpoint = export_ledger(views.ledger, views.store, out, progress=step)
                if passphrase is not None:
                    write_stored_states(
                        views.ledger, out, last_position=checkpoint["last_position"]
                    )
    except ExportError as error:
        partial.unlink(missing_ok=True)
        typer.echo(f"not exported: {error}; run `timebank verify`", err=True)
        raise typer.Exit(1) from None
    except OSError as error:  # no such directory, no room, no permission
        partial.unlink(missing_ok=True)
        typer.echo(f"not exported: cannot write {file}: {error.strerror}", err=True)
        raise typer.Exit(1) from None
    os.replace(partial, file)
    typer.echo(
        f"exported {checkpoint['count']} events to {file}; head hash {checkpoint['head_hash']}"
        + ("; encrypted" if passphrase is not None else "")
    )


def verify_export_command(  # noqa: PLR0917 -- typer's options are its parameters
    file: Annotated[Path, typer.Argument(help="An export written by `timebank export`.")],
    earlier: Annotated[
        Path | None,
        typer.Option(
            help="An earlier export of the same ledger: its history must be this one's start."
        ),
    ] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            help="A signed checkpoint kept elsewhere (timebank checkpoint --out): the "
            "export's history must extend it. Give it again for more."
        ),
    ] = None,
    public_key: Annotated[
        list[str] | None,
        typer.Option(
            help="The public key checkpoints must be signed by (base64, PEM, or a file "
            "holding either); give it again to trust several."
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            help="Where the ledger decides 'today', for the days an agent may act "
            "(default: TIMEBANK_TIMEZONE, else Asia/Shanghai)."
        ),
    ] = None,
    passphrase_file: Annotated[
        Path | None, typer.Option(help=f"For an encrypted export: {KEY_FILE_HELP}")
    ] = None,
) -> None:
    """Check an export from the file alone: every field of every line, the chain, the
    balances, zero sum, no overdraft, what the events mean, and kept checkpoints."""
    anchor = None
    if earlier is not None:
        if not earlier.is_file():
            raise typer.BadParameter(f"no file {earlier}", param_hint="--earlier")
        try:
            with earlier.open("rb") as old:
                anchor = read_checkpoint(bounded_lines(old))
        except ValueError as error:
            raise typer.BadParameter(f"{earlier}: {error}", param_hint="--earlier") from None
    zone = _zone(timezone)
    kept, unreadable = _kept_checkpoints(checkpoint or [])
    trusted = _trusted_keys(public_key or [])
    try:
        with export_lines(file, passphrase_file) as read, progress_bar("checking", None) as step:
            # An encrypted export's stored states, after its checkpoint, are restore's.
            lines = checked_part(read) if is_encrypted(file) else read
            check = verify_export(
                lines,
                earlier=anchor,
                checkpoints=kept,
                trusted_keys=trusted,
                timezone=zone,
                progress=step,
            )
    except (TransportError, RestoreError) as error:
        typer.echo(f"{file}: {error}", err=True)
        raise typer.Exit(1) from None
    findings = [*unreadable, *check.findings]
    for position, kind, detail in findings:
        where = "-" if position is None else str(position)
        typer.echo(f"{where}\t{kind}\t{detail}", err=True)
    if check.problem is not None:
        line, message = check.problem
        typer.echo(f"line {line}: {message}", err=True)
        raise typer.Exit(1)
    if findings:
        typer.echo(f"{file}: {len(findings)} problems", err=True)
        raise typer.Exit(1)
    checkpoint_line = check.checkpoint or {}
    typer.echo(
        f"{file}: {checkpoint_line.get('count')} events verified; "
        f"head hash {checkpoint_line.get('head_hash')}"
    )


def _kept_checkpoints(files: list[Path]) -> tuple[list[Checkpoint], list[Finding]]:
    """Every checkpoint in the given files, and a finding for each that cannot be read."""
    kept: list[Checkpoint] = []
    unreadable: list[Finding] = []
    for path in files:
        found, problems = read_checkpoints(path)
        kept += found
        unreadable += problems
    return kept, unreadable


def _trusted_keys(given: list[str]) -> list[Ed25519PublicKey]:
    keys = []
    for text in given:
        path = Path(text)
        try:
            value = path.read_text(encoding="utf-8") if path.is_file() else text
            keys.append(load_public_key(value))
        except (OSError, UnicodeDecodeError, CheckpointFormatError) as error:
            raise typer.BadParameter(f"{text}: {error}", param_hint="--public-key") from None
    return keys


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or Settings().timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(f"unknown time zone {name!r}", param_hint="--timezone") from None


def _catch_up_for_verify(ledger: TimeBank, store: ViewStore) -> None:
    """Let the audit trail see every event before the check, as `cli.views.opened` does,
    except that a log the views cannot be folded to its end (an event that does not decode
    or does not fit) is exactly what verify is for: it reports that event, so the failure
    is told and verify goes on."""
    runner = ProjectionRunner(ledger, store)
    head = ledger.recorder.max_notification_id() or 0
    if not runner.claim():
        if not runner.wait_for(head, timeout=CATCH_UP_WAIT):
            typer.echo(
                f"the server's views stop at position {runner.position}; verifying the "
                "stored events as they stand",
                err=True,
            )
        return
    try:
        with progress_bar("catching up", max(head - runner.position, 0)) as advance:
            runner.catch_up(progress=advance)
    # Any failure of the fold is evidence for verify to report, never a reason to stop it.
    except Exception as error:
        typer.echo(
            f"the views stop at position {runner.position} ({type(error).__name__}); "
            "verifying the stored events as they stand",
            err=True,
        )
    finally:
        store.locks.release_writer()
        runner.is_writer = False


def _where(problem: auditor.Finding) -> str:
    return "-" if problem.position is None else str(problem.position)
