"""A coordinator's pages: the review queue, recording an activity, rankings, honour wall."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.dependencies import Ledger
from projections.periods import parse_period
from projections.queries import Reader
from projections.queries.records import MemberTeam
from timebank.coordination import Attendee
from timebank.errors import InvalidRequestError, PermissionDeniedError
from timebank.reviews import Decision
from web.auth import FormVisitor, PageReads, PageRoute, SignedIn, Visitor
from web.cards import card_page
from web.pages.forms import Hours, Minutes, back_to, minutes_of, optional
from web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False, prefix="/coordinator")

TEXT = 200
QUEUE = 100
MAX_ROSTER = 1000


def coordinated_teams(reader: Reader, visitor: Visitor) -> list[MemberTeam]:
    """The teams the reader coordinates today; refused (403) when there are none: this is
    the same rule the ledger applies to every decision taken from these pages."""
    profile = reader.profile(visitor.viewer, visitor.actor.id)
    teams = [t for t in profile.teams if t.role == "coordinator" and t.accepted]
    if not teams:
        raise PermissionDeniedError(
            visitor.actor.id, "open the coordinator's pages", "coordinates no team"
        )
    return teams


@router.get("")
def review_queue(
    *, request: Request, visitor: SignedIn, reader: PageReads, done: str | None = None
) -> HTMLResponse:
    """Pending logs of the teams coordinated, oldest first, with names and activities."""
    teams = coordinated_teams(reader, visitor)
    queue = [
        log
        for team in teams
        for log in reader.service_logs(
            visitor.viewer, status="pending", team_id=team.team_id, limit=QUEUE
        ).items
    ]
    queue.sort(key=lambda log: (log.service_date, log.recorded_at))
    return render(
        request,
        "queue.html",
        {"visitor": visitor, "teams": teams, "queue": queue[:QUEUE], "done": done},
    )


@router.post("/review")
def review(
    *,
    request: Request,
    ledger: Ledger,
    visitor: FormVisitor,
    reader: PageReads,
    action: Annotated[str, Form(pattern="^(approve|partial|reject|approve_selected)$")],
    log: Annotated[UUID | None, Form()] = None,
    selected: Annotated[list[UUID] | None, Form()] = None,
    hours: Hours = 0,
    minutes: Minutes = 0,
    reason: Annotated[str, Form(max_length=TEXT)] = "",
) -> Response:
    """One log approved (in full or in part, saying why) or rejected (saying why), or the
    selected logs approved in one action: the ledger's one review use case."""
    if action == "approve_selected":
        if not selected:
            raise InvalidRequestError("selected", "tick at least one log")
        decisions = [Decision(log_id, "approve") for log_id in selected]
    elif log is None:
        raise InvalidRequestError("log", "choose a log")
    elif action == "approve":
        decisions = [Decision(log, "approve")]
    elif action == "partial":
        decisions = [Decision(log, "approve", minutes_of(hours, minutes), optional(reason))]
    else:
        decisions = [Decision(log, "reject", None, optional(reason))]
    outcomes = ledger.review_service_logs(actor_id=visitor.actor.id, decisions=decisions)
    refused = [o for o in outcomes if o.outcome == "refused"]
    if refused:
        return render(
            request,
            "refused.html",
            {"visitor": visitor, "refused": refused, "back": "/coordinator"},
            status_code=409,
        )
    return back_to("/coordinator", f"{action}")


@router.get("/activity")
def activity_form(
    *,
    request: Request,
    visitor: SignedIn,
    reader: PageReads,
    team: UUID | None = None,
) -> HTMLResponse:
    """Record a session (场次): the attendees ticked from the team's roster."""
    teams = coordinated_teams(reader, visitor)
    chosen = next((t for t in teams if t.team_id == team), teams[0])
    roster = reader.search_team_members(visitor.viewer, chosen.team_id)
    return render(
        request,
        "activity.html",
        {
            "visitor": visitor,
            "teams": teams,
            "team": chosen,
            "roster": roster,
            "today": reader.today().isoformat(),
        },
    )


@router.post("/activity")
def record_activity(
    *,
    ledger: Ledger,
    visitor: FormVisitor,
    team_id: Annotated[UUID, Form()],
    service_date: Annotated[date, Form()],
    activity: Annotated[str, Form(min_length=1, max_length=TEXT)],
    attendee: Annotated[list[UUID] | None, Form()] = None,
    roster: Annotated[list[UUID] | None, Form()] = None,
    own_minutes: Annotated[list[str] | None, Form(max_length=MAX_ROSTER)] = None,
    hours: Hours = 0,
    minutes: Minutes = 0,
    place: Annotated[str, Form(max_length=TEXT)] = "",
    beneficiaries: Annotated[str, Form(max_length=TEXT)] = "",
) -> Response:
    """One log per attendee ticked: the minutes typed beside their name, else the
    activity's own length."""
    if not attendee:
        raise InvalidRequestError("attendees", "tick at least one attendee")
    each = minutes_of(hours, minutes)
    typed = dict(zip(roster or [], own_minutes or [], strict=False))
    ledger.record_activity(
        actor_id=visitor.actor.id,
        team_id=team_id,
        service_date=service_date,
        activity=activity,
        place=optional(place),
        beneficiaries=optional(beneficiaries),
        attendees=[
            Attendee(member_id, _minutes_typed(typed.get(member_id, ""), each))
            for member_id in dict.fromkeys(attendee)
        ],
    )
    return back_to("/coordinator", "recorded")


def _minutes_typed(text: str, default: int) -> int:
    """Minutes typed beside an attendee's name (digits only), or the activity's length."""
    text = text.strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        raise InvalidRequestError("minutes", "must be a whole number of minutes")
    return int(text)


def _period(reader: Reader, period: str) -> str:
    return period.strip() or reader.today().strftime("%Y-%m")


@router.get("/rankings")
def rankings(
    *,
    request: Request,
    visitor: SignedIn,
    reader: PageReads,
    period: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """Teams ranked by approved minutes in a period, with person-times and sessions."""
    teams = coordinated_teams(reader, visitor)
    chosen = parse_period(_period(reader, period))
    communities = {t.community for t in teams}
    page = reader.team_rankings(
        visitor.viewer, chosen, community=next(iter(communities)) if len(communities) == 1 else None
    )
    return render(
        request,
        "rankings.html",
        {"visitor": visitor, "ranks": page.items, "period": chosen.name},
    )


@router.get("/honour")
def honour_wall(
    *,
    request: Request,
    visitor: SignedIn,
    reader: PageReads,
    team: UUID | None = None,
    period: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """A printable honour wall (光荣榜): a team's volunteers of a period with their stars."""
    teams = coordinated_teams(reader, visitor)
    chosen_team = next((t for t in teams if t.team_id == team), teams[0])
    chosen = parse_period(_period(reader, period))
    ranks = reader.volunteer_rankings(
        visitor.viewer, chosen, team_id=chosen_team.team_id, limit=20
    ).items
    stars = {
        rank.member_id: reader.profile(visitor.viewer, rank.member_id).star_level
        for rank in ranks
        if rank.member_id is not None and rank.minutes > 0
    }
    return render(
        request,
        "honour.html",
        {
            "visitor": visitor,
            "team": chosen_team,
            "teams": teams,
            "ranks": [r for r in ranks if r.minutes > 0],
            "stars": stars,
            "period": chosen.name,
        },
    )


@router.get("/redemptions")
def redemptions(
    request: Request, visitor: SignedIn, reader: PageReads, done: str | None = None
) -> HTMLResponse:
    """Services asked for from the teams coordinated, minutes held, oldest first."""
    teams = coordinated_teams(reader, visitor)
    ids = {team.team_id for team in teams}
    held = [r for r in reader.redemptions(visitor.viewer, status="held") if r.team_id in ids]
    names = {m.id: m.name for team in teams for m in reader.member_names(team_id=team.team_id)}
    team_names = {team.team_id: team.name for team in teams}
    return render(
        request,
        "redemptions.html",
        {
            "visitor": visitor,
            "held": held,
            "names": names,
            "team_names": team_names,
            "done": done,
        },
    )


@router.post("/redemptions/{redemption_id}/fulfil")
def fulfil_redemption(redemption_id: UUID, ledger: Ledger, visitor: FormVisitor) -> Response:
    """The service was given: the held minutes are spent."""
    ledger.fulfil_redemption(actor_id=visitor.actor.id, redemption_id=redemption_id)
    return back_to("/coordinator/redemptions", "fulfilled")


@router.post("/redemptions/{redemption_id}/cancel")
def cancel_redemption(
    redemption_id: UUID,
    ledger: Ledger,
    visitor: FormVisitor,
    reason: Annotated[str, Form(max_length=TEXT)] = "",
) -> Response:
    """Called off: the held minutes return to the member."""
    ledger.cancel_redemption(
        actor_id=visitor.actor.id, redemption_id=redemption_id, reason=optional(reason)
    )
    return back_to("/coordinator/redemptions", "cancelled")


@router.post("/log")
def log_for_a_member(
    *,
    ledger: Ledger,
    visitor: FormVisitor,
    team_id: Annotated[UUID, Form()],
    volunteer_id: Annotated[UUID, Form()],
    service_date: Annotated[date, Form()],
    activity: Annotated[str, Form(min_length=1, max_length=TEXT)],
    hours: Hours = 0,
    minutes: Minutes = 0,
) -> Response:
    """Service logged for a volunteer who does not use a phone; another coordinator of
    the team, or an admin, certifies it, as the ledger's rules say."""
    ledger.log_service(
        actor_id=visitor.actor.id,
        team_id=team_id,
        volunteer_id=volunteer_id,
        service_date=service_date,
        minutes=minutes_of(hours, minutes),
        activity=activity,
    )
    return back_to("/coordinator", "logged_for")


@router.post("/cards")
def print_card(
    request: Request,
    ledger: Ledger,
    visitor: FormVisitor,
    member_id: Annotated[UUID, Form()],
    team_id: Annotated[UUID, Form()],
) -> HTMLResponse:
    """A member card for someone in the team who accepted it (the card before stops
    working): its sign-in link as a QR code, and its confirmation code."""
    card = ledger.issue_card(actor_id=visitor.actor.id, member_id=member_id, team_id=team_id)
    name = ledger.get_member(member_id).name
    return card_page(request, visitor, name, card, back="/coordinator/activity")
