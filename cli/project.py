"""`timebank project`: only the projection runner, in the foreground, until SIGTERM or SIGINT."""

from __future__ import annotations

import signal

import typer

from api.settings import Settings
from projections.runner import ProjectionRunner

STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


def project() -> None:
    """Run only the projections: catch up with the log, then follow it until SIGTERM or SIGINT.

    For keeping the stored views current from a process of their own. A killed runner
    resumes after the last batch it stored; API processes on the same store keep their own
    views current as well."""
    settings = Settings()
    # The stop signals are blocked before any thread starts (threads inherit the mask) and
    # taken here with sigwait: no handler runs in the middle of anything, and the runner
    # stops between two stored batches.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        ledger = settings.open_ledger()
        try:
            runner = ProjectionRunner(ledger)
            head = ledger.recorder.max_notification_id() or 0
            typer.echo(
                f"projecting from position {runner.position} (log head {head}); "
                "stop with SIGTERM or Ctrl-C"
            )
            runner.start(interval=settings.projection_interval)  # catches up, then follows
            try:
                received = signal.sigwait(STOP_SIGNALS)
            finally:
                runner.stop()
            typer.echo(f"stopped on {signal.Signals(received).name} at position {runner.position}")
        finally:
            ledger.close()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
