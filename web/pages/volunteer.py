"""A volunteer's own page ("my hours"): minutes, stars, statement, logs, gifts, redemptions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.dependencies import AppSettings, Ledger
from api.documents.certificate import certificate_pdf
from projections.queries import FoundMember, MemberName
from web.auth import FormVisitor, PageReads, PageRoute, SignedIn
from web.pages.forms import Hours, Minutes, back_to, minutes_of, optional
from web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATEMENT_LINES = 10
TEXT = 200


@router.get("/my")
def my_hours(
    *,
    request: Request,
    visitor: SignedIn,
    reader: PageReads,
    after: Annotated[int, Query(ge=0)] = 0,
    done: str | None = None,
) -> HTMLResponse:
    """The first page a volunteer sees: their minutes in large type, then what to do."""
    me = reader.me(visitor.viewer)
    statement = reader.statement(visitor.viewer, me.profile.id, after=after, limit=STATEMENT_LINES)
    mine = me.profile.id
    waiting = reader.service_logs(visitor.viewer, volunteer_id=mine, status="pending", limit=20)
    rejected = reader.service_logs(visitor.viewer, volunteer_id=mine, status="rejected", limit=20)
    held = reader.redemptions(visitor.viewer, status="held", member_id=mine)
    certificates = reader.certificates_of(visitor.viewer, mine)
    return render(
        request,
        "my.html",
        {
            "visitor": visitor,
            "me": me,
            "statement": statement,
            "pending": waiting.items,
            "rejected": rejected.items,
            "teams": [t for t in me.profile.teams if t.accepted],
            "invitations": [t for t in me.profile.teams if not t.accepted],
            "today": reader.today().isoformat(),
            "held": held,
            "certificates": certificates,
            "done": done,
        },
    )


@router.post("/my/log")
def log_service(
    *,
    ledger: Ledger,
    visitor: FormVisitor,
    team_id: Annotated[UUID, Form()],
    service_date: Annotated[date, Form()],
    activity: Annotated[str, Form(min_length=1, max_length=TEXT)],
    hours: Hours = 0,
    minutes: Minutes = 0,
    beneficiary: Annotated[str, Form(max_length=TEXT)] = "",
) -> Response:
    ledger.log_service(
        actor_id=visitor.actor.id,
        team_id=team_id,
        service_date=service_date,
        minutes=minutes_of(hours, minutes),
        activity=activity,
        beneficiary=optional(beneficiary),
    )
    return back_to("/my", "logged")


@router.get("/my/give")
def find_someone(
    *,
    request: Request,
    visitor: SignedIn,
    reader: PageReads,
    code: Annotated[str, Query(max_length=40)] = "",
    name: Annotated[str, Query(max_length=TEXT)] = "",
) -> HTMLResponse:
    """Whom to give to: by the code on their card, or by name among the people the
    volunteer may see (their agents and those they act for)."""
    found: list[MemberName | FoundMember] = []
    if code.strip():
        found = [reader.find_by_code(code)]
    elif name.strip():
        found = list(reader.family(visitor.viewer, name=name))
    return render(
        request,
        "give.html",
        {
            "visitor": visitor,
            "found": found,
            "code": code,
            "name": name,
            "searched": bool(code or name),
        },
    )


@router.post("/my/give")
def give(
    *,
    ledger: Ledger,
    visitor: FormVisitor,
    to_member_id: Annotated[UUID, Form()],
    hours: Hours = 0,
    minutes: Minutes = 0,
    note: Annotated[str, Form(max_length=TEXT)] = "",
) -> Response:
    ledger.transfer(
        actor_id=visitor.actor.id,
        to_member_id=to_member_id,
        minutes=minutes_of(hours, minutes),
        note=optional(note),
        credential_id=visitor.session.credential_id,
    )
    return back_to("/my", "given")


@router.post("/my/redeem")
def redeem(
    *,
    ledger: Ledger,
    visitor: FormVisitor,
    team_id: Annotated[UUID, Form()],
    service: Annotated[str, Form(min_length=1, max_length=TEXT)],
    hours: Hours = 0,
    minutes: Minutes = 0,
) -> Response:
    ledger.request_redemption(
        actor_id=visitor.actor.id,
        team_id=team_id,
        service=service,
        minutes=minutes_of(hours, minutes),
        credential_id=visitor.session.credential_id,
    )
    return back_to("/my", "redeemed")


@router.post("/my/redemptions/{redemption_id}/cancel")
def cancel_redemption(redemption_id: UUID, ledger: Ledger, visitor: FormVisitor) -> Response:
    """The member calls it off: the held minutes are theirs again."""
    ledger.cancel_redemption(actor_id=visitor.actor.id, redemption_id=redemption_id)
    return back_to("/my", "cancelled")


@router.post("/my/teams/{team_id}/accept")
def accept_membership(team_id: UUID, ledger: Ledger, visitor: FormVisitor) -> Response:
    """The member accepts a team's invitation: from then on they log service in it and
    its coordinators see their minutes."""
    ledger.accept_membership(actor_id=visitor.actor.id, team_id=team_id, member_id=visitor.actor.id)
    return back_to("/my", "joined")


@router.get("/my/certificates/{certificate_id}/pdf")
def download_certificate(
    request: Request,
    certificate_id: UUID,
    visitor: SignedIn,
    reader: PageReads,
    settings: AppSettings,
) -> Response:
    """A certificate of my service as the PDF the API gives (the same bytes), in the
    page's language."""
    record = reader.certificate(visitor.viewer, certificate_id)
    language: Literal["zh", "en"] = "en" if request.state.language == "en" else "zh"
    pdf = certificate_pdf(record, language=language, public_url=settings.public_url)
    name = f"{record.number}{'' if language == 'zh' else '-en'}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
