"""`timebank project`: only the projection runner, in the foreground, until SIGTERM or SIGINT."""

from __future__ import annotations

import signal

import typer

from api.settings import Settings
from projections.runner import ProjectionRunner
from projections.store import ViewStore

STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


def project() -> None:
    """Run only the projections: catch up with the log, then follow it until SIGTERM or SIGINT.

    For keeping the stored views current from a process of its own: it becomes the
    views' writer as soon as no other process is (API processes then only read them). A
    killed runner leaves the views as its last stored batch left them, and the next writer
    resumes from there."""
    settings = Settings()
    # The stop signals are blocked before any thread starts (threads inherit the mask) and
    # taken here with sigwait: no handler runs in the middle of anything, and the runner
    # stops between two stored batches.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        ledger = settings.open_ledger()
        store = ViewStore.open(ledger, pool_size=2)
        try:
            store.locks.hold_serving()
            store.prepare()
            runner = ProjectionRunner(ledger, store)
            head = ledger.recorder.max_notification_id() or 0
            writer = "writing them" if runner.claim() else "waiting to write them"
            typer.echo(
                f"views at position {runner.position} (log head {head}), {writer}; "
                "stop with SIGTERM or Ctrl-C"
            )
            runner.start(interval=settings.projection_interval)  # catches up, then follows
            signer = settings.checkpoint_signer(runner)
            sweeper = settings.expiry_sweeper(runner)
            try:
                received = signal.sigwait(STOP_SIGNALS)
            finally:
                signer.stop()
                sweeper.stop()
                runner.stop()
            typer.echo(f"stopped on {signal.Signals(received).name} at position {runner.position}")
        finally:
            store.close()
            ledger.close()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
