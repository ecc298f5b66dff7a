"""The certificate aggregates: a book that numbers without gaps, a certificate that states
what it covers and is revoked once."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from timebank.certificates import (
    Certificate,
    CertificateBook,
    CoveredLog,
    certificate_number,
    normalised_code,
)
from timebank.errors import InvalidRequestError, InvalidStateError

ISSUER = uuid4()
TODAY = date(2026, 11, 20)


def _log(minutes: int, day: date = date(2026, 10, 8)) -> CoveredLog:
    return CoveredLog(uuid4(), day, minutes, uuid4(), "陪老人就医")


def _certificate(*logs: CoveredLog, until: date = TODAY) -> Certificate:
    return Certificate.issue(
        actor_id=ISSUER,
        number="LK-2026-000001",
        code="ABCDE23456",
        organisation="林口县志愿服务中心",
        volunteer_id=uuid4(),
        volunteer_name="李秀英",
        period_from=date(2026, 1, 1),
        period_until=until,
        team_id=None,
        team_name=None,
        community=None,
        logs=list(logs),
        issued_on=TODAY,
        policy_version=1,
    )


def test_a_book_gives_each_number_of_the_year_once_in_order() -> None:
    book = CertificateBook(actor_id=ISSUER, prefix="LK", year=2026)
    numbers = [book.take(actor_id=ISSUER)[0] for _ in range(3)]
    assert numbers == ["LK-2026-000001", "LK-2026-000002", "LK-2026-000003"]
    events = book.collect_events()
    assert [type(e).__name__ for e in events] == [
        "Opened",
        "NumberTaken",
        "NumberTaken",
        "NumberTaken",
    ]
    # The certificate's id follows from its number: a number is stored once.
    assert book.take(actor_id=ISSUER)[1] == Certificate.create_id("LK-2026-000004")
    assert CertificateBook.create_id("LK", 2026) != CertificateBook.create_id("LK", 2027)


def test_a_certificate_totals_the_minutes_of_the_logs_it_covers_in_date_order() -> None:
    later, earlier = _log(45, date(2026, 10, 31)), _log(90, date(2026, 10, 8))
    certificate = _certificate(later, earlier)
    assert certificate.total_minutes == 135
    assert [log.minutes for log in certificate.logs] == [90, 45]
    assert certificate.issued_by == ISSUER


def test_a_certificate_needs_service_and_a_past_period() -> None:
    with pytest.raises(InvalidRequestError, match="no approved service"):
        _certificate()
    with pytest.raises(InvalidRequestError, match="past service only"):
        _certificate(_log(60), until=date(2026, 12, 31))


def test_a_revocation_states_its_reason_and_happens_once() -> None:
    certificate = _certificate(_log(60))
    certificate.collect_events()
    certificate.revoke(actor_id=ISSUER, reason="名字写错", today=TODAY)
    [revoked] = certificate.collect_events()
    assert isinstance(revoked, Certificate.Revoked)
    assert (revoked.reason, revoked.revoked_on) == ("名字写错", TODAY)
    with pytest.raises(InvalidStateError):
        certificate.revoke(actor_id=ISSUER, reason="again", today=TODAY)
    with pytest.raises(InvalidRequestError):
        _certificate(_log(60)).revoke(actor_id=ISSUER, reason="  ", today=TODAY)
    assert certificate.collect_events() == []


def test_numbers_and_codes_as_printed_and_typed() -> None:
    assert certificate_number("TB", 2026, 123) == "TB-2026-000123"
    assert normalised_code("abcde-23456 ") == "ABCDE23456"
