"""Work done in separate processes by the cross-process race tests."""

from __future__ import annotations

from threading import Barrier as BarrierType
from uuid import UUID

from timebank import TimeBank
from timebank.errors import InsufficientMinutesError


def spend(
    url: str,
    *,
    spender: str,
    receiver: str,
    team: str,
    attempts: int,
    minutes: int,
    start: BarrierType,
) -> int:
    """Alternate redemptions and gifts from one member; count the ones that went through.

    Every process opens its own application on the store and waits for the others, so
    that they really race. Any refusal but "not enough minutes" fails the test.
    """
    app = TimeBank.from_url(url)
    succeeded = 0
    start.wait(timeout=60)
    try:
        for attempt in range(attempts):
            try:
                if attempt % 2:
                    app.transfer(
                        actor_id=UUID(spender), to_member_id=UUID(receiver), minutes=minutes
                    )
                else:
                    app.request_redemption(
                        actor_id=UUID(spender), team_id=UUID(team), service="care", minutes=minutes
                    )
            except InsufficientMinutesError:
                continue
            succeeded += 1
    finally:
        app.close()
    return succeeded


def issue_certificates(
    url: str,
    *,
    issuer: str,
    volunteer: str,
    team: str,
    log: str,
    count: int,
    start: BarrierType,
) -> list[str]:
    """Issue certificates of one log from a process of its own; the numbers given."""
    from datetime import date

    from tests.support import open_ledger

    app = open_ledger(url)
    numbers: list[str] = []
    start.wait(timeout=60)
    try:
        for _ in range(count):
            certificate = app.issue_certificate(
                actor_id=UUID(issuer),
                volunteer_id=UUID(volunteer),
                period_from=date(2026, 1, 1),
                period_until=date(2026, 11, 20),
                log_ids=[UUID(log)],
                team_id=UUID(team),
            )
            numbers.append(certificate.number)
    finally:
        app.close()
    return numbers


def import_paper_records(url: str, *, coordinator: str, team: str, volunteers: list[str]) -> None:
    """Import 5,000 half hours of paper records in one go: ten a day over 250 days for each
    of two volunteers (test_large_writes runs it in a process it can kill if it hangs)."""
    from datetime import timedelta

    from tests.support import TODAY
    from timebank.imports import ServiceRecord

    app = TimeBank.from_url(url)
    try:
        app.import_service_records(
            actor_id=UUID(coordinator),
            team_id=UUID(team),
            name="ledger-book-2025.csv",
            digest="ledger-book-2025",
            records=[
                ServiceRecord(
                    line=i + 2,
                    volunteer_id=UUID(volunteers[i % 2]),
                    service_date=TODAY - timedelta(days=(i // 2) % 250),
                    minutes=30,
                    activity=f"home care, paper record {i:05d} of the 2025 ledger book",
                )
                for i in range(5_000)
            ],
        )
    finally:
        app.close()
