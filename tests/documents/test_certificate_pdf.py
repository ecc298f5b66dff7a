"""The certificate as a PDF: what a reader sees in it, its QR code, and the same bytes for
the same certificate and language."""

from __future__ import annotations

import io
from datetime import date

import pypdfium2
import zxingcpp
from pypdf import PdfReader

from api.documents.certificate import certificate_pdf, printed_code
from projections.queries.certificates import CertificateRecord
from tests.support import TODAY, Community, views_of
from timebank import TeamRole

PUBLIC = "https://timebank.example.org"


def _record(community: Community, name: str = "李秀英") -> CertificateRecord:
    app = community.app
    volunteer = app.register_member(actor_id=community.admin, name=name).id
    app.add_team_member(
        actor_id=community.admin,
        team_id=community.care_team,
        member_id=volunteer,
        role=TeamRole.VOLUNTEER,
        effective_date=date(2026, 1, 1),
    )
    app.accept_membership(actor_id=volunteer, team_id=community.care_team, member_id=volunteer)
    logs = [community.earn(volunteer, minutes) for minutes in (90, 45)]
    certificate = app.issue_certificate(
        actor_id=community.care_coordinator,
        volunteer_id=volunteer,
        period_from=date(2026, 1, 1),
        period_until=TODAY,
        log_ids=logs,
        team_id=community.care_team,
    )
    with views_of(app) as views:
        return views.caught_up().certificate(views.everyone, certificate.id)


def _text(pdf: bytes) -> str:
    """The text a reader sees, with the spaces and line breaks of its layout left out."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "".join("".join(page.extract_text().split()) for page in pages)


def _qr_codes(pdf: bytes) -> list[str]:
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=2).to_pil()
    return [found.text for found in zxingcpp.read_barcodes(image)]


def test_the_chinese_certificate_shows_its_number_the_name_and_the_hours(
    community: Community,
) -> None:
    record = _record(community)
    pdf = certificate_pdf(record, language="zh", public_url=PUBLIC)
    text = _text(pdf)
    assert pdf.startswith(b"%PDF")
    assert "志愿服务记录证明" in text
    assert record.number in text
    assert "李秀英" in text
    assert "2小时15分钟" in text
    assert "135" in text
    assert printed_code(record.code) in text
    assert "Chen" in text  # the issuer


def test_the_qr_code_leads_to_the_public_verification_page(community: Community) -> None:
    record = _record(community)
    pdf = certificate_pdf(record, language="zh", public_url=PUBLIC)
    assert _qr_codes(pdf) == [f"{PUBLIC}/verify/{record.code}"]


def test_the_same_certificate_is_the_same_bytes_in_each_language(community: Community) -> None:
    record = _record(community)
    chinese = certificate_pdf(record, language="zh", public_url=PUBLIC)
    english = certificate_pdf(record, language="en", public_url=PUBLIC)
    assert certificate_pdf(record, language="zh", public_url=PUBLIC) == chinese
    assert certificate_pdf(record, language="en", public_url=PUBLIC) == english
    assert chinese != english
    assert "CertificateofVolunteerService" in _text(english)
    assert "2hours15minutes" in _text(english)
    assert "李秀英" in _text(english)
