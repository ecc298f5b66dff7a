"""An admin's pages: register members (with a printable member card), teams, memberships."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.dependencies import Ledger
from projections.queries import Reader
from timebank.errors import PermissionDeniedError
from timebank.members import GlobalRole
from timebank.teams import TeamRole
from web.auth import FormVisitor, PageReads, PageRoute, SignedIn, Visitor
from web.cards import card_page
from web.pages.forms import back_to
from web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False, prefix="/admin")

TEXT = 200


def _require_admin(visitor: Visitor) -> None:
    if not visitor.actor.is_admin:
        raise PermissionDeniedError(visitor.actor.id, "open the admin's pages", "not an admin")


def _teams(reader: Reader, visitor: Visitor) -> list[tuple[UUID, str]]:
    page = reader.teams(visitor.viewer, limit=500)
    return [(team.id, f"{team.name} · {team.community}") for team in page.items]


@router.get("")
def admin_home(
    *, request: Request, visitor: SignedIn, reader: PageReads, done: str | None = None
) -> HTMLResponse:
    _require_admin(visitor)
    return render(
        request,
        "admin.html",
        {
            "visitor": visitor,
            "teams": _teams(reader, visitor),
            "today": reader.today().isoformat(),
            "done": done,
        },
    )


@router.post("/members")
def register_member(
    *,
    request: Request,
    ledger: Ledger,
    visitor: FormVisitor,
    name: Annotated[str, Form(min_length=1, max_length=TEXT)],
    birth_date: Annotated[date | None, Form()] = None,
    role: Annotated[list[GlobalRole] | None, Form()] = None,
) -> HTMLResponse:
    """Registered with a token, then a member card printed: its link and QR code sign
    the member in, its code confirms spending at the counter."""
    registered = ledger.register_member_with_token(
        actor_id=visitor.actor.id, name=name, birth_date=birth_date, roles=role or ()
    )
    card = ledger.issue_card(actor_id=visitor.actor.id, member_id=registered.member.id)
    return card_page(request, visitor, registered.member.name, card, back="/admin")


@router.post("/teams")
def form_team(
    *,
    ledger: Ledger,
    visitor: FormVisitor,
    name: Annotated[str, Form(min_length=1, max_length=TEXT)],
    community: Annotated[str, Form(min_length=1, max_length=TEXT)],
    founded_on: Annotated[date | None, Form()] = None,
) -> Response:
    ledger.form_team(
        actor_id=visitor.actor.id, name=name, community=community, founded_on=founded_on
    )
    return back_to("/admin", "team")


@router.post("/memberships")
def add_membership(
    *,
    ledger: Ledger,
    visitor: FormVisitor,
    reader: PageReads,
    team_id: Annotated[UUID, Form()],
    code: Annotated[str, Form(min_length=1, max_length=40)],
    role: Annotated[TeamRole, Form()] = TeamRole.VOLUNTEER,
    since: Annotated[date | None, Form()] = None,
) -> Response:
    """A member, found by the code on their card, joins a team from a day on."""
    member = reader.find_by_code(code)
    ledger.add_team_member(
        actor_id=visitor.actor.id,
        team_id=team_id,
        member_id=member.id,
        role=role,
        effective_date=since,
    )
    return back_to("/admin", "membership")
