"""Keys and signed checkpoints: `timebank checkpoint` and the key generators."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from api.settings import Settings
from cli.views import opened
from projections.checkpoints import CheckpointError, new_key_pair, sign_checkpoint
from timebank.sealing import new_event_key


def checkpoint(
    out: Annotated[
        Path | None,
        typer.Option(help="Also append the checkpoint to this file, to keep elsewhere."),
    ] = None,
) -> None:
    """Sign where the ledger stands now (position, chain head, totals) with
    TIMEBANK_CHECKPOINT_KEY, keep it in the ledger's table of checkpoints, and print it."""
    settings = Settings()
    key = settings.checkpoint_signing_key()
    if key is None:
        typer.echo(
            "timebank: TIMEBANK_CHECKPOINT_KEY is not set; make a key pair with "
            "`timebank keygen-checkpoint`",
            err=True,
        )
        raise typer.Exit(2)
    try:
        with opened(settings) as views:  # the audit trail covers every event stored so far
            signed = sign_checkpoint(views.ledger, views.store, key)
    except CheckpointError as error:
        typer.echo(f"not signed: {error}", err=True)
        raise typer.Exit(1) from None
    line = signed.line()
    if out is not None:
        with out.open("a", encoding="utf-8") as kept:
            kept.write(line)
            kept.flush()
            os.fsync(kept.fileno())
    typer.echo(line, nl=False)


def keygen_checkpoint() -> None:
    """Make an Ed25519 key pair for signing checkpoints: the private key goes into
    TIMEBANK_CHECKPOINT_KEY, the public key to the auditors (verify --public-key)."""
    private, public = new_key_pair()
    typer.echo(f"TIMEBANK_CHECKPOINT_KEY={private}")
    typer.echo(f"public key (for auditors: --public-key): {public}")


def keygen_event_key() -> None:
    """Make a key for sealing events (TIMEBANK_EVENT_KEY): 32 random bytes in base64."""
    typer.echo(f"TIMEBANK_EVENT_KEY={new_event_key()}")
