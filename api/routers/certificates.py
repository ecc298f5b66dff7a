"""Certificates of service: issued, listed, downloaded as PDF and revoked by members; verified
by anyone, without an account, from the code or QR code printed on them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import HTMLResponse
from fastapi.responses import Response as RawResponse

from api.bodies import StrictJSONRoute
from api.certificate_schemas import (
    CertificateIn,
    CertificateOut,
    CertificatesOut,
    PageQuery,
    PdfQuery,
    RevocationIn,
    VerificationOut,
)
from api.dependencies import (
    ActorId,
    AppSettings,
    Ledger,
    Reads,
    ReadsAfterWrite,
    RequestId,
    ViewerOf,
)
from api.documents.certificate import certificate_pdf, verification_url
from api.documents.pages import verification_page
from api.errors import StaleViewsError, error_responses
from projections.queries import Reader
from projections.queries.certificates import CertificateRecord
from projections.runner import ProjectionRunner

router = APIRouter(
    route_class=StrictJSONRoute,
    tags=["certificates"],
    responses=error_responses(401, 403, 413, 422, 503),
)

_READERS = "the member, their coordinators, auditors and admins; the issuer"
Code = Annotated[str, Path(min_length=1, max_length=40, description="The printed code.")]


def _out(record: CertificateRecord, public_url: str) -> CertificateOut:
    return CertificateOut.model_validate(
        {
            **record.__dict__,
            "logs": [log.__dict__ for log in record.logs],
            "pdf_url": f"/certificates/{record.id}/pdf",
            "verification_url": verification_url(public_url, record.code),
        }
    )


@router.get(
    "/members/{member_id}/certificates",
    responses=error_responses(404),
    summary="List a member's certificates (whoever reads their statement)",
)
def list_certificates(
    member_id: UUID, reader: Reads, viewer: ViewerOf, settings: AppSettings
) -> CertificatesOut:
    records = reader.certificates_of(viewer, member_id)
    return CertificatesOut(
        member_id=member_id, items=[_out(record, settings.public_url) for record in records]
    )


@router.post(
    "/members/{member_id}/certificates",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409),
    summary="Issue a certificate of a member's approved service in a period "
    "(a coordinator of their team, or an admin)",
)
def issue_certificate(
    member_id: UUID,
    body: CertificateIn,
    *,
    ledger: Ledger,
    actor_id: ActorId,
    request_id: RequestId,
    reader: Reads,
    after_write: ReadsAfterWrite,
    viewer: ViewerOf,
    settings: AppSettings,
) -> CertificateOut:
    """Certifies every approved log of the member served in the period (of the team or
    community given), under the next number of the organisation's year. The same
    Idempotency-Key gives the same certificate. A period with no approved service is 422;
    a coordinator names their own team, and nobody certifies their own service (403)."""
    log_ids = reader.certifiable_logs(
        member_id,
        body.period_from,
        body.period_until,
        team_id=body.team_id,
        community=body.community,
    )
    issued = ledger.issue_certificate(
        actor_id=actor_id,
        volunteer_id=member_id,
        period_from=body.period_from,
        period_until=body.period_until,
        log_ids=log_ids,
        team_id=body.team_id,
        community=body.community,
        request_id=request_id,
    )
    return _out(after_write().certificate(viewer, issued.id), settings.public_url)


@router.get(
    "/certificates/{certificate_id}",
    responses=error_responses(404),
    summary=f"Read a certificate ({_READERS})",
)
def get_certificate(
    certificate_id: UUID, reader: Reads, viewer: ViewerOf, settings: AppSettings
) -> CertificateOut:
    return _out(reader.certificate(viewer, certificate_id), settings.public_url)


@router.get(
    "/certificates/{certificate_id}/pdf",
    responses={
        **error_responses(404),
        200: {"content": {"application/pdf": {}}, "description": "The certificate, A4."},
    },
    response_class=RawResponse,
    summary=f"Download a certificate as a PDF ({_READERS})",
)
def download_certificate(
    certificate_id: UUID,
    reader: Reads,
    viewer: ViewerOf,
    settings: AppSettings,
    query: Annotated[PdfQuery, Query()],
) -> RawResponse:
    """The same bytes each time for the same certificate and language."""
    record = reader.certificate(viewer, certificate_id)
    pdf = certificate_pdf(record, language=query.language, public_url=settings.public_url)
    name = f"{record.number}{'' if query.language == 'zh' else '-en'}.pdf"
    return RawResponse(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/certificates/{certificate_id}/revoke",
    responses=error_responses(404, 409),
    summary="Revoke a certificate, saying why (its issuer, a coordinator of its team, admins)",
)
def revoke_certificate(
    certificate_id: UUID,
    body: RevocationIn,
    *,
    ledger: Ledger,
    actor_id: ActorId,
    request_id: RequestId,
    after_write: ReadsAfterWrite,
    viewer: ViewerOf,
    settings: AppSettings,
) -> CertificateOut:
    """Anyone verifying it then reads that it was revoked, when, and the reason. A
    certificate already revoked is 409."""
    ledger.revoke_certificate(
        actor_id=actor_id, certificate_id=certificate_id, reason=body.reason, request_id=request_id
    )
    return _out(after_write().certificate(viewer, certificate_id), settings.public_url)


def _public_reader(request: Request) -> Reader:
    """The read side for someone without an account, once its views include every event
    this process saved: a certificate revoked here a moment ago verifies as revoked."""
    runner: ProjectionRunner = request.app.state.projections
    head = request.app.state.ledger.last_position()
    if not runner.wait_for(head):
        raise StaleViewsError(head)
    reader: Reader = request.app.state.reader
    return reader


@router.get(
    "/verification/{code}",
    responses=error_responses(404),
    summary="Verify a certificate by its code (anyone, without an account)",
)
def verify(code: Code, request: Request) -> VerificationOut:
    """What the certificate states and whether it still holds: `valid`, `superseded` (a
    log it covers was reversed after issue, with when) or `revoked` (with the day and
    reason). An unknown code is 404. Case, spaces and dashes do not matter."""
    return VerificationOut.model_validate(_public_reader(request).verify_certificate(code))


@router.get(
    "/verify/{code}",
    responses={
        200: {"content": {"text/html": {}}, "description": "The verification page."},
        404: {
            "content": {"text/html": {}},
            "description": "No certificate has this code (a page saying so).",
        },
    },
    summary="The verification page a certificate's QR code leads to (anyone)",
)
def verification_page_of(
    code: Code, request: Request, ledger: Ledger, query: Annotated[PageQuery, Query()]
) -> HTMLResponse:
    found = _public_reader(request).verification(code)
    page = verification_page(found, language=query.language, timezone=ledger.policy.timezone)
    return HTMLResponse(page, status_code=404 if found is None else 200)
