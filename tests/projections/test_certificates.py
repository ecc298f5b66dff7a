"""The certificates' read model: a member's list, superseded after a reversal folded in a
later batch, revoked with a reason, and the public verification of a code."""

from __future__ import annotations

from datetime import date

import pytest

from projections.visibility import Viewer
from tests.support import TODAY, Community, views_of
from timebank.certifying import CertificateView
from timebank.errors import NotFoundError, PermissionDeniedError

YEAR_START = date(2026, 1, 1)


def _issue(community: Community, *logs: object) -> CertificateView:
    return community.app.issue_certificate(
        actor_id=community.care_coordinator,
        volunteer_id=community.li,
        period_from=YEAR_START,
        period_until=TODAY,
        log_ids=list(logs),  # type: ignore[arg-type]
        team_id=community.care_team,
    )


def test_a_member_reads_their_certificates_newest_first(community: Community) -> None:
    log = community.earn(community.li, 90)
    first, second = _issue(community, log), _issue(community, log)
    with views_of(community.app) as views:
        listed = views.caught_up().certificates_of(views.everyone, community.li)
    assert [c.number for c in listed] == [second.number, first.number]
    assert listed[0].status == "valid"
    assert listed[0].issued_by_name == "Chen"
    assert [(log.minutes, log.team_name) for log in listed[0].logs] == [(90, "Day care")]


def test_a_reversal_after_issue_supersedes_the_certificate(community: Community) -> None:
    kept, taken_back = community.earn(community.li, 60), community.earn(community.li, 30)
    certificate = _issue(community, kept, taken_back)
    with views_of(community.app) as views:
        reader = views.caught_up()
        assert reader.verify_certificate(certificate.code).status == "valid"
        community.app.reverse_service(
            actor_id=community.care_coordinator, service_log_id=taken_back, reason="录错了"
        )
        reader = views.caught_up()  # the reversal comes in a later batch
        verified = reader.verify_certificate(certificate.code.lower())
        record = reader.certificate(views.everyone, certificate.id)
    assert verified.status == "superseded"
    assert verified.superseded_at is not None
    assert verified.total_minutes == 90  # what the certificate states, unchanged
    assert sorted((log.minutes, log.status) for log in record.logs) == [
        (30, "reversed"),
        (60, "approved"),
    ]


def test_a_revoked_certificate_verifies_as_revoked_with_its_reason(
    community: Community,
) -> None:
    certificate = _issue(community, community.earn(community.li, 60))
    community.app.revoke_certificate(
        actor_id=community.admin, certificate_id=certificate.id, reason="issued twice"
    )
    with views_of(community.app) as views:
        verified = views.caught_up().verify_certificate(certificate.code)
        with pytest.raises(NotFoundError):
            views.reader.verify_certificate("ABCDEFGHJK")
    assert (verified.status, verified.revoked_on, verified.revoke_reason) == (
        "revoked",
        TODAY,
        "issued twice",
    )


def test_certificates_are_read_by_whoever_reads_the_statement(community: Community) -> None:
    certificate = _issue(community, community.earn(community.li, 60))
    with views_of(community.app) as views:
        reader = views.caught_up()
        li, zhao = Viewer(community.li, False), Viewer(community.zhao, False)
        assert reader.certificate(li, certificate.id).number == certificate.number
        assert len(reader.certificates_of(li, community.li)) == 1
        with pytest.raises(PermissionDeniedError):
            reader.certificate(zhao, certificate.id)
        with pytest.raises(PermissionDeniedError):
            reader.certificates_of(zhao, community.li)


def test_certifiable_logs_are_the_volunteers_approved_ones_in_the_period(
    community: Community,
) -> None:
    care = community.earn(community.li, 60)
    community.earn(community.wang, 60)
    with views_of(community.app) as views:
        reader = views.caught_up()
        assert reader.certifiable_logs(community.li, YEAR_START, TODAY) == [care]
        assert reader.certifiable_logs(community.li, YEAR_START, TODAY, community="Xinghuo") == []
        assert reader.certifiable_logs(community.li, date(2025, 1, 1), date(2025, 12, 31)) == []
