"""`timebank demo`: fill an empty store with a demo community, and say how to try it."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Annotated

import typer

from api.settings import Settings
from cli.progress import progress_bar
from timebank.application import TimeBank
from timebank.demo import (
    COMMUNITIES,
    MONTHS,
    SEED,
    VOLUNTEERS,
    LedgerNotEmptyError,
    Summary,
    build_demo,
    steps,
    stored_events,
)

BASE_URL = "http://127.0.0.1:8000"


def demo(
    seed: Annotated[int, typer.Option(help="Same seed, same community and history.")] = SEED,
    volunteers: Annotated[
        int, typer.Option(min=1, max=10_000, help="How many volunteers serve.")
    ] = VOLUNTEERS,
    months: Annotated[
        int, typer.Option(min=1, max=120, help="Months of service, ending yesterday.")
    ] = MONTHS,
) -> None:
    """Fill an empty store (TIMEBANK_DATABASE_URL) with a demo community: the twenty kinds of
    service team of the Linkou story across six communities, grid workers, volunteers,
    elders and a year of service, redemptions and gifts; then print a token per role."""
    ledger = Settings().open_ledger()
    try:
        fill(ledger, seed=seed, volunteers=volunteers, months=months)
    except LedgerNotEmptyError as error:
        typer.echo(f"Refusing to run the demo: {error}.", err=True)
        raise typer.Exit(1) from None
    finally:
        ledger.close()


def fill_if_empty(
    settings: Settings, *, seed: int = SEED, volunteers: int = VOLUNTEERS, months: int = MONTHS
) -> bool:
    """`serve --demo`: fill an empty store with the (default) demo; leave any other alone."""
    ledger = settings.open_ledger()
    try:
        if stored_events(ledger):
            typer.echo("The store already holds a ledger: serving it as it is, without the demo.")
            return False
        fill(ledger, seed=seed, volunteers=volunteers, months=months)
    finally:
        ledger.close()
    return True


def fill(
    ledger: TimeBank, *, seed: int = SEED, volunteers: int = VOLUNTEERS, months: int = MONTHS
) -> Summary:
    """Build the demo with a progress bar on a terminal, then print what to try next."""
    started = time.perf_counter()
    total = steps(ledger.today(), volunteers=volunteers, months=months)
    with progress_bar("Building the demo community", total) as advance:
        summary = build_demo(
            ledger,
            seed=seed,
            volunteers=volunteers,
            months=months,
            progress=advance,
        )
    seconds = time.perf_counter() - started
    _report(summary, stored_events(ledger), seconds, ledger.today())
    return summary


def _report(summary: Summary, events: int, seconds: float, today: date) -> None:
    s = summary
    echo = typer.echo
    echo(
        f"Demo community: {len(COMMUNITIES)} communities, {len(s.teams)} service teams, "
        f"{s.members} members ({s.volunteers} volunteers, {s.elders} elders, "
        f"{s.coordinators} grid workers as coordinators, an admin and an auditor)."
    )
    echo(
        f"Service from {s.first_day} to {s.last_day}: {s.logged} logs "
        f"({s.approved} approved, {s.partly_approved} approved in part, {s.rejected} rejected, "
        f"{s.pending} pending; {s.reversed} approvals reversed); {s.redemptions} redemptions "
        f"({s.fulfilled} fulfilled, {s.cancelled} cancelled, {s.held} held); "
        f"{s.transfers} gifts of hours to parents."
    )
    echo(
        f"{s.activities} sessions recorded as activities (场次) with their attendees; "
        f"{s.pairings} elders living alone paired with the silver-age team (银龄互助), "
        f"{s.visits} visits logged."
    )
    echo(f"{events} events stored in {seconds:.1f} s.")
    echo("")
    echo("Tokens (shown once: the ledger keeps only their digests):")
    for token in s.tokens:
        echo(f"  {token.role:<12} {token.member_id}  {token.name}  {token.token}")
    echo("")
    echo("Open the web app in a browser (after `timebank serve`) with a sign-in link per role:")
    for token in s.tokens:
        echo(f"  {token.role:<12} {token.name}  {BASE_URL}/card/{token.token}")
    tokens = {t.role: t for t in s.tokens}
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    volunteer = tokens["volunteer"]
    echo("")
    echo("Try next (start the API with `timebank serve`):")
    for line in (
        f"curl {BASE_URL}/health",
        f'curl -H "Authorization: Bearer {volunteer.token}" '
        f"{BASE_URL}/members/{volunteer.member_id}/balance",
        f'curl -H "Authorization: Bearer {tokens["coordinator"].token}" '
        f'"{BASE_URL}/rankings/teams?period={month}"',
        f'curl -H "Authorization: Bearer {tokens["coordinator"].token}" '
        f'"{BASE_URL}/pairings/care-gaps?days=7"',
        f'curl -H "Authorization: Bearer {tokens["coordinator"].token}" {BASE_URL}/activities',
        f'curl -H "Authorization: Bearer {tokens["auditor"].token}" {BASE_URL}/audit/verify',
        f"timebank rankings --period {month}",
        "timebank verify",
    ):
        echo(f"  {line}")
