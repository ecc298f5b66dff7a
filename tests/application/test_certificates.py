"""Certificates as use cases: numbered without gaps or duplicates, issued once per request,
by whoever may certify, revoked with a reason."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from tests.support import TODAY, Community, build_community, event_count, open_ledger
from tests.workers import issue_certificates
from timebank import TimeBank
from timebank.certifying import CertificateView
from timebank.errors import InvalidRequestError, InvalidStateError, PermissionDeniedError

YEAR_START = date(2026, 1, 1)


def issue(community: Community, log_ids: list[UUID], **kwargs: Any) -> CertificateView:
    arguments: dict[str, Any] = {
        "actor_id": community.care_coordinator,
        "volunteer_id": community.li,
        "period_from": YEAR_START,
        "period_until": TODAY,
        "log_ids": log_ids,
        "team_id": community.care_team,
        **kwargs,
    }
    return community.app.issue_certificate(**arguments)


def test_a_certificate_states_the_approved_minutes_its_issuer_and_the_day(
    community: Community,
) -> None:
    first, second = community.earn(community.li, 90), community.earn(community.li, 45)
    certificate = issue(community, [first, second])
    assert certificate.number == "TB-2026-000001"
    assert certificate.organisation == "社区时间银行"
    assert certificate.total_minutes == 135
    assert sorted(log.minutes for log in certificate.logs) == [45, 90]
    assert certificate.issued_by == community.care_coordinator
    assert certificate.issued_on == TODAY
    assert certificate.volunteer_name == "Li"
    assert len(certificate.code) == 10


def test_numbers_follow_each_other_and_a_repeated_request_gives_one_certificate(
    community: Community,
) -> None:
    log = community.earn(community.li, 60)
    one = issue(community, [log], request_id="first")
    again = issue(community, [log], request_id="first")
    two = issue(community, [log])
    assert again == one
    assert [one.number, two.number] == ["TB-2026-000001", "TB-2026-000002"]


def test_logs_not_the_volunteers_approved_ones_in_the_period_are_left_out(
    community: Community,
) -> None:
    li_log = community.earn(community.li, 60)
    wang_log = community.earn(community.wang, 30)
    pending = community.app.log_service(
        actor_id=community.li,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=20,
        activity="home care",
    ).id
    certificate = issue(community, [li_log, wang_log, pending])
    assert [log.log_id for log in certificate.logs] == [li_log]
    before = event_count(community.app)
    with pytest.raises(InvalidRequestError, match="no approved service"):
        issue(community, [li_log], period_from=date(2025, 1, 1), period_until=date(2025, 12, 31))
    assert event_count(community.app) == before


def test_only_a_coordinator_of_the_volunteers_team_or_an_admin_certifies(
    community: Community,
) -> None:
    log = community.earn(community.li, 60)
    before = event_count(community.app)
    with pytest.raises(PermissionDeniedError, match="not a coordinator"):
        issue(community, [log], actor_id=community.patrol_coordinator)
    with pytest.raises(PermissionDeniedError, match="own service"):
        issue(community, [log], actor_id=community.li)
    with pytest.raises(PermissionDeniedError, match="name the team"):
        issue(community, [log], team_id=None)
    assert event_count(community.app) == before
    by_admin = issue(community, [log], actor_id=community.admin, team_id=None)
    assert by_admin.total_minutes == 60


def test_a_certificate_is_revoked_once_with_a_reason_by_an_issuer(community: Community) -> None:
    certificate = issue(community, [community.earn(community.li, 60)])
    app = community.app
    with pytest.raises(PermissionDeniedError):
        app.revoke_certificate(
            actor_id=community.patrol_coordinator, certificate_id=certificate.id, reason="no"
        )
    revoked = app.revoke_certificate(
        actor_id=community.care_coordinator, certificate_id=certificate.id, reason="名字写错了"
    )
    assert revoked.revoked_on == TODAY
    assert revoked.revoke_reason == "名字写错了"
    with pytest.raises(InvalidStateError):
        app.revoke_certificate(
            actor_id=community.admin, certificate_id=certificate.id, reason="again"
        )


def test_numbers_have_no_gaps_or_duplicates_when_issuers_race(app: TimeBank) -> None:
    community = build_community(app)
    log = community.earn(community.li, 60)
    threads, each = 4, 5
    start = threading.Barrier(threads)

    def issuer(_: int) -> list[str]:
        start.wait(timeout=30)
        return [issue(community, [log]).number for _ in range(each)]

    with ThreadPoolExecutor(threads) as pool:
        numbers = [n for batch in pool.map(issuer, range(threads)) for n in batch]
    assert sorted(numbers) == [f"TB-2026-{n:06d}" for n in range(1, threads * each + 1)]


@pytest.mark.slow
@pytest.mark.postgres
def test_numbers_have_no_gaps_or_duplicates_across_processes(postgres_url: str) -> None:
    app = open_ledger(postgres_url)
    try:
        community = build_community(app)
        log = community.earn(community.li, 60)
        processes, each = 3, 6
        context = multiprocessing.get_context("spawn")
        with (
            context.Manager() as manager,
            ProcessPoolExecutor(processes, mp_context=context) as pool,
        ):
            start = manager.Barrier(processes)
            futures = [
                pool.submit(
                    issue_certificates,
                    postgres_url,
                    issuer=str(community.care_coordinator),
                    volunteer=str(community.li),
                    team=str(community.care_team),
                    log=str(log),
                    count=each,
                    start=start,
                )
                for _ in range(processes)
            ]
            numbers = [n for f in futures for n in f.result(timeout=180)]
        assert sorted(numbers) == [f"TB-2026-{n:06d}" for n in range(1, processes * each + 1)]
    finally:
        app.close()
