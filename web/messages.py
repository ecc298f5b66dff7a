"""What a refusal means for people, in their language, naming people and teams by name.

The JSON API keeps its stable `code`; its `message` and the pages' error boxes come from
here. The English texts are the catalogs' message ids (extracted with `N_`)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from eventsourcing.persistence import OperationalError
from fastapi import Request

from timebank.application import TimeBank
from timebank.errors import (
    BalanceCapExceededError,
    DailyLimitExceededError,
    InsufficientMinutesError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
)
from web.i18n import N_, gettext

Names = Callable[[UUID], str | None]

# One line per stable code of the API's error table (api/errors.py).
BY_CODE: dict[str, str] = {
    "unauthorized": N_("Please sign in: the token or card link is unknown or no longer valid."),
    "forbidden": N_("You may not do this. Ask a coordinator or an admin."),
    "not_found": N_("We could not find that. Check what you typed and try again."),
    "method_not_allowed": N_("This address does not take that kind of request."),
    "invalid_request": N_("Something in the form is missing or not right. Check it and try again."),
    "insufficient_minutes": N_("There are not enough available minutes for this."),
    "invalid_state": N_("This was already decided; nothing was changed."),
    "idempotency_key_reused": N_("This request key was already used for a different request."),
    "balance_cap_exceeded": N_("This would take the balance over the community's cap."),
    "daily_limit_exceeded": N_("This is more service than one day allows."),
    "conflict": N_("The ledger refused this in its current state."),
    "busy": N_("The ledger is busy. Please try again in a moment."),
    "unavailable": N_("The ledger is unavailable just now. Please try again in a moment."),
    "stale": N_("Your last change is still on its way. Please try again in a moment."),
    "payload_too_large": N_("What was sent is too large."),
    "csrf": N_("This form has expired or did not come from this site. Open the page again."),
}


def hours_and_minutes(language: str, minutes: int | None) -> str:
    """Minutes as people say them: 2 h 30 min, 2小时30分."""
    if minutes is None:
        return ""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    if hours and rest:
        text = gettext(language, N_("%(hours)d h %(minutes)d min"))
    elif hours:
        text = gettext(language, N_("%(hours)d h"))
    else:
        text = gettext(language, N_("%(minutes)d min"))
    return sign + text % {"hours": hours, "minutes": rest}


def describe(error: Exception, code: str, language: str, names: Names) -> str:
    """The message for a refusal: specific where the error carries the facts, by name."""
    _ = gettext

    def who(member_id: UUID) -> str:
        return names(member_id) or _(language, N_("this member"))

    if isinstance(error, InsufficientMinutesError) and not error.disclosed:
        return _(language, N_("%(name)s does not have %(requested)s available.")) % {
            "name": who(error.member_id),
            "requested": hours_and_minutes(language, error.requested),
        }
    if isinstance(error, InsufficientMinutesError):
        return _(
            language,
            N_("%(name)s has only %(available)s available, not the %(requested)s asked for."),
        ) % {
            "name": who(error.member_id),
            "available": hours_and_minutes(language, error.available),
            "requested": hours_and_minutes(language, error.requested),
        }
    if isinstance(error, BalanceCapExceededError):
        return _(language, N_("%(name)s would hold more than the cap of %(cap)s.")) % {
            "name": who(error.member_id),
            "cap": hours_and_minutes(language, error.cap),
        }
    if isinstance(error, DailyLimitExceededError):
        return _(
            language, N_("%(name)s already has %(already)s on %(day)s; a day allows %(limit)s.")
        ) % {
            "name": who(error.member_id),
            "already": hours_and_minutes(language, error.already),
            "day": error.service_date.isoformat(),
            "limit": hours_and_minutes(language, error.limit),
        }
    if isinstance(error, PermissionDeniedError):
        return _(language, BY_CODE["forbidden"])
    if isinstance(error, InvalidStateError):
        return _(language, BY_CODE["invalid_state"])
    if isinstance(error, NotFoundError):
        if error.kind == "member code":
            return _(language, N_("No member has the code %(code)s. Check the card.")) % {
                "code": error.id
            }
        return _(language, BY_CODE["not_found"])
    if isinstance(error, InvalidRequestError):
        return _(language, N_("%(field)s: %(problem)s")) % {
            "field": _(language, field_label(error.field)),
            "problem": _(language, error.message),
        }
    return _(language, BY_CODE.get(code, BY_CODE["conflict"]))


FIELD_LABELS = {
    "minutes": N_("Minutes"),
    "service_date": N_("Service date"),
    "activity": N_("Activity"),
    "reason": N_("Reason"),
    "name": N_("Name"),
    "service": N_("Service"),
    "attendees": N_("Attendees"),
    "team_id": N_("Team"),
    "hours": N_("Hours"),
    "birth_date": N_("Birth date"),
    "code": N_("Member code on their card"),
    "as_of": N_("Date and time"),
    "period": N_("Period"),
    "selected": N_("Tick at least one log"),
    "community": N_("Community"),
}


# The ledger's own words for the refusals people meet on the pages (timebank/rules.py and
# the use cases), so that the catalogs translate them; others are shown as they are.
PROBLEMS = (
    N_("must not be blank"),
    N_("service cannot be logged in advance"),
    N_("minutes cannot be given to oneself"),
    N_("a team cannot be founded in the future"),
    N_("a birth date cannot be in the future"),
    N_("an activity has at least one attendee"),
    N_("must not contain control characters"),
    N_("must not contain invisible formatting characters"),
    N_("give at least one minute"),
    N_("tick at least one log"),
    N_("tick at least one attendee"),
    N_("choose a log"),
)


def field_label(field: str) -> str:
    return FIELD_LABELS.get(field, field)


# What the pages name: statement kinds, statuses, and what a form just did.
KINDS = {
    "earned": N_("Service approved"),
    "earning_reversed": N_("Approval reversed"),
    "redeemed": N_("Service received"),
    "gave": N_("Given to"),
    "received": N_("Received from"),
    "expired": N_("Expired"),
}

STATUSES = {
    "held": N_("held, waiting for the service"),
    "fulfilled": N_("done"),
    "cancelled": N_("cancelled"),
    "pending": N_("waiting for review"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "reversed": N_("reversed"),
    "valid": N_("valid"),
    "superseded": N_("superseded: a service it covers was corrected later"),
    "revoked": N_("revoked"),
}

DONE = {
    "logged": N_("Your service is logged. A coordinator will review it."),
    "given": N_("The minutes were given."),
    "redeemed": N_("Your minutes are held for the service."),
    "cancelled": N_("The redemption is cancelled; the minutes are yours again."),
    "fulfilled": N_("The redemption is fulfilled."),
    "approve": N_("Approved."),
    "partial": N_("Approved in part."),
    "reject": N_("Rejected."),
    "approve_selected": N_("The selected logs are approved."),
    "recorded": N_("The activity is recorded."),
    "logged_for": N_("The service is logged for the member and waits in the review queue."),
    "team": N_("The team is formed."),
    "membership": N_("The member was added; they join when they accept on their page."),
    "joined": N_("You joined the team."),
    "card": N_("The card is printed."),
}


def localised_message(request: Request, error: Exception, code: str, language: str) -> str:
    """The JSON API's `message` in a language, naming the member where the refusal is
    about one (read from the ledger itself, which already holds a member the views may
    not have folded yet; runs in a worker thread)."""
    ledger: TimeBank | None = getattr(request.app.state, "ledger", None)

    def names(member_id: UUID) -> str | None:
        if ledger is None:
            return None
        try:
            return ledger.get_member(member_id).name
        except (NotFoundError, OperationalError):
            return None

    return describe(error, code, language, names)


ROLES = {"volunteer": N_("volunteer"), "coordinator": N_("coordinator")}
