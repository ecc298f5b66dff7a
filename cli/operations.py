"""The operator's commands for keeping a ledger: backup, restore, and the files they share.

Every file these commands write (exports, backups) is created readable by its owner
alone (mode 0600): it holds every member's name and history.
"""

from __future__ import annotations

import io
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, BinaryIO, NoReturn, TextIO

import typer

from api.settings import Settings
from cli.progress import progress_bar
from cli.views import opened
from projections.export import ExportError, export_ledger, verify_export
from projections.lines import Oversized, bounded_lines
from projections.restore import RestoreError, checked_lines, restore, split_export
from projections.transport import (
    EncryptingStream,
    TransportError,
    check_passphrase,
    decrypted,
    is_encrypted,
    plain_lines,
)
from timebank.storage import persistence_env

KEY_FILE_HELP = (
    "A file whose first line is the passphrase (12+ characters) the export is encrypted "
    "with. Keep it apart from the export."
)


def read_passphrase(path: Path | None) -> str:
    """The passphrase from the first line of a file, checked."""
    if path is None:
        raise typer.BadParameter("give --passphrase-file", param_hint="--passphrase-file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(f"{path}: {error}", param_hint="--passphrase-file") from None
    try:
        return check_passphrase(text.splitlines()[0] if text else "")
    except TransportError as error:
        raise typer.BadParameter(f"{path}: {error}", param_hint="--passphrase-file") from None


@contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """`path` created or emptied for writing, readable and writable by its owner alone."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # a file that was there keeps its mode otherwise
    with os.fdopen(descriptor, "wb") as stream:
        yield stream


def text_out(raw: BinaryIO, passphrase: str | None) -> TextIO:
    """What an export writes to: the file itself, or an encrypting stream over it."""
    if passphrase is None:
        return io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
    sealed = io.BufferedWriter(EncryptingStream(raw, passphrase))
    return io.TextIOWrapper(sealed, encoding="utf-8", newline="\n")


@contextmanager
def export_lines(file: Path, passphrase_file: Path | None) -> Iterator[Iterator[bytes | Oversized]]:
    """The lines of an export, decrypted when it is an encrypted one."""
    if not file.is_file():
        raise typer.BadParameter(f"no file {file}")
    encrypted = is_encrypted(file)
    if encrypted and passphrase_file is None:
        raise typer.BadParameter(
            f"{file} is an encrypted export: give --passphrase-file", param_hint="--passphrase-file"
        )
    with file.open("rb") as stream:
        if encrypted:
            yield plain_lines(decrypted(stream, read_passphrase(passphrase_file)))
        else:
            yield bounded_lines(stream)


def restore_command(
    file: Annotated[
        Path, typer.Argument(help="An encrypted export (timebank export --encrypt) to load.")
    ],
    passphrase_file: Annotated[Path | None, typer.Option(help=KEY_FILE_HELP)] = None,
) -> None:
    """Load an export into an empty store (TIMEBANK_DATABASE_URL): the file is verified
    first, and the restored ledger's own export then holds the same events, hashes and
    totals. Members sign in with the tokens they had."""
    try:
        with export_lines(file, passphrase_file) as lines:
            parts = split_export(lines)
    except (TransportError, RestoreError) as error:
        _refuse(f"{file}: {error}")
    with progress_bar("checking", None) as step:
        check = verify_export(
            checked_lines(parts), timezone=Settings().policy().timezone, progress=step
        )
    if check.problem is not None:
        line, message = check.problem
        _refuse(f"{file} is damaged: line {line}: {message}")
    for position, kind, detail in check.findings:
        typer.echo(f"note: {'-' if position is None else position}\t{kind}\t{detail}", err=True)
    exported = check.checkpoint or {}
    ledger = Settings().open_ledger()
    try:
        count = restore(ledger, parts)
    except RestoreError as error:
        _refuse(str(error))
    finally:
        ledger.close()
    try:
        with opened() as views:  # folds the views and the audit trail of what was stored
            again = export_ledger(views.ledger, views.store, io.StringIO())
    except ExportError as error:
        _refuse(f"restored, but the ledger does not export: {error}; run `timebank verify`")
    for name in ("count", "last_position", "head_hash", "totals"):
        if again[name] != exported.get(name):
            _refuse(f"restored, but its {name} is {again[name]}, not the export's {exported[name]}")
    typer.echo(f"restored {count} events from {file}; head hash {again['head_hash']}")


def backup(
    destination: Annotated[Path, typer.Argument(help="The file to write the copy to.")],
) -> None:
    """Copy a SQLite store (events and views) to a file while it is being served, with
    SQLite's online backup: a consistent copy, and writers are not stopped. For
    PostgreSQL, use pg_dump (see the README's operations section)."""
    settings = Settings()
    url = settings.database_url
    if not url.lower().startswith("sqlite:"):
        _refuse(
            "timebank backup copies SQLite stores; back PostgreSQL up with pg_dump "
            "(see the README's operations section)"
        )
    source_path = Path(persistence_env(url)["SQLITE_DBNAME"])
    if not source_path.is_file():
        _refuse(f"no SQLite store at {source_path}")
    if destination.exists() and destination.resolve() == source_path.resolve():
        raise typer.BadParameter("the copy cannot be the store itself")
    partial = destination.with_name(destination.name + ".partial")
    try:
        with private_file(partial):
            pass  # created with its owner-only mode before SQLite writes into it
    except OSError as error:
        _refuse(f"cannot write {destination}: {error.strerror}")
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(partial)
    try:
        source.backup(target, pages=4096)
        events = target.execute("SELECT count(*) FROM stored_events").fetchone()[0]
        checked = target.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        _refuse(f"not backed up: {error}")
    finally:
        target.close()
        source.close()
    if checked != "ok":
        partial.unlink(missing_ok=True)
        _refuse(f"not backed up: the copy does not check ({checked})")
    os.replace(partial, destination)
    typer.echo(f"backed up {events} events (and the views) to {destination}")


def _refuse(message: str) -> NoReturn:
    typer.echo(f"timebank: {message}", err=True)
    raise typer.Exit(1)
