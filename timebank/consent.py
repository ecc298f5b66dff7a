"""Consent and separation of duties: who may move a member's minutes, and who may credit whom.

A time bank's promise is that a member's stored hours are theirs. Minutes leave an account
only with the member's consent, given in one of three ways:

- `member`: the member asks themself;
- `agent`: an agent the member registered (家属代办) asks, on a day the agency covers;
- `card`: staff at the counter (an admin, a coordinator) enter the confirmation code from
  the member's card (爱心服务卡), which the member hands over or types in. Whoever printed
  the card has seen its code, so they may not be the one who enters it.

Whoever asked on a member's behalf does not also confirm the delivery (see
`Redemption.fulfil`), and minutes given on a member's behalf never go to whoever asked
(see `Transfer.make`). Every decision records which consent it had and who gave it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from timebank.errors import PermissionDeniedError
from timebank.members import Member


class ConsentKind(StrEnum):
    MEMBER = "member"
    AGENT = "agent"
    CARD = "card"


@dataclass(frozen=True)
class Consent:
    """How the member agreed, and who agreed: the member, or their agent."""

    kind: ConsentKind
    given_by: UUID

    @property
    def discloses(self) -> bool:
        """A refusal may tell this caller what the member holds: the member, their agent."""
        return self.kind is not ConsentKind.CARD


def consent_of(
    actor_id: UUID,
    member: Member,
    *,
    card_code: str | None,
    staff: bool,
    today: date,
    action: str,
) -> Consent:
    """The member's consent to `action` asked by `actor_id`, or a refusal saying what
    consent is missing. `staff`: the actor may take a card's code at the counter."""
    if actor_id == member.id:
        return Consent(ConsentKind.MEMBER, member.id)
    if member.is_agent_on(actor_id, today):
        return Consent(ConsentKind.AGENT, actor_id)
    if card_code is None:
        raise PermissionDeniedError(
            actor_id,
            action,
            "it needs the member's consent: the member themself, an agent they registered, "
            "or the confirmation code from their member card given at the counter",
        )
    return card_consent(actor_id, member, card_code=card_code, staff=staff, action=action)


def card_consent(
    actor_id: UUID, member: Member, *, card_code: str, staff: bool, action: str
) -> Consent:
    """Consent given at the counter with the code of the member's card, or a refusal."""
    if not staff:
        raise PermissionDeniedError(
            actor_id,
            action,
            "only an admin or a coordinator of the member's team takes a card's code",
        )
    if member.card_issued_by == actor_id:
        raise PermissionDeniedError(
            actor_id, action, "they printed the member's card, so another person takes its code"
        )
    if not member.card_accepts(card_code):
        raise PermissionDeniedError(actor_id, action, "the card's confirmation code is wrong")
    return Consent(ConsentKind.CARD, member.id)


def require_member_or_agent(actor_id: UUID, member: Member, *, today: date, action: str) -> None:
    """Things only the member decides for themself (or their agent for them)."""
    if actor_id != member.id and not member.is_agent_on(actor_id, today):
        raise PermissionDeniedError(
            actor_id, action, "only the member themself or an agent they registered may"
        )
