"""Members of the time bank: volunteers, elders, coordinators, auditors and admins.

A member's minutes are theirs: only the member, an agent they registered (家属代办) or the
confirmation code printed on their member card (爱心服务卡) consents to spending them.
The member aggregate keeps what such consent is checked against: the agents with their
dates, and the card's code (as a salted, slow digest; the code itself is never stored).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from timebank.errors import InvalidRequestError, InvalidStateError
from timebank.rules import require_date, require_text


class GlobalRole(StrEnum):
    """Roles that hold across every team."""

    ADMIN = "admin"  # registers members and teams, may act in any team
    AUDITOR = "auditor"  # reads everything, changes nothing


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: nothing to misread


def member_code(member_id: UUID) -> str:
    """The short code printed on a member's card (`K7F3-M2QX`), by which another member
    finds them to give minutes: 40 bits of a digest of the member's id, in Crockford's
    base32, so it follows from the id and needs no counter."""
    bits = int.from_bytes(hashlib.sha256(member_id.bytes).digest()[:5], "big")
    letters = "".join(_CROCKFORD[(bits >> shift) & 31] for shift in range(35, -1, -5))
    return f"{letters[:4]}-{letters[4:]}"


def normalised_code(text: str) -> str:
    """A code as typed (lower case, without the dash, O for 0...) in its printed form."""
    cleaned = text.strip().upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    return f"{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == 8 else cleaned


CARD_CODE_DIGITS = 8
# PBKDF2 rounds for a card's code: a code is only 8 digits, so its digest must be slow to
# guess from; a check at the counter takes a few milliseconds.
_CARD_CODE_ROUNDS = 20_000
_CARD_LABEL = b"timebank:card-code:v1:"


def derive_card_code(secret: bytes, salt: str) -> str:
    """A card's confirmation code: eight digits derived from the server's token secret and
    the card's random salt, so the repeat of a request can print it again, and nobody
    without the secret can (see `timebank.credentials` for the same scheme for tokens)."""
    mac = hmac.new(secret, _CARD_LABEL + salt.encode("ascii"), hashlib.sha256).digest()
    return f"{int.from_bytes(mac[:8], 'big') % 10**CARD_CODE_DIGITS:0{CARD_CODE_DIGITS}d}"


@lru_cache(maxsize=1024)  # the same card at the counter again: ~9 ms each time otherwise
def card_code_digest(code: str, salt: str) -> str:
    """The slow, salted digest a card's code is kept as (spaces and dashes ignored)."""
    digits = "".join(ch for ch in code if ch not in " -")
    derived = hashlib.pbkdf2_hmac(
        "sha256", digits.encode("utf-8"), bytes.fromhex(salt), _CARD_CODE_ROUNDS
    )
    return derived.hex()


@dataclass(frozen=True)
class Agency:
    """An agent acting for a member (家属代办) from `since` up to (not on) `until`."""

    agent_id: UUID
    since: date
    until: date | None

    def covers(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day < self.until)


class Member(Aggregate):
    """A person with a time account; global roles say what they may do everywhere."""

    TOPIC = "timebank:Member"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Member.Event"
        actor_id: UUID

    class Registered(Event, Aggregate.Created):
        """A person joined the time bank; their account opens with them."""

        TOPIC = "timebank:Member.Registered"
        name: str
        birth_date: date | None
        roles: list[str]

    class RoleGranted(Event):
        """A member was made admin or auditor, by an admin (the acting member)."""

        TOPIC = "timebank:Member.RoleGranted"
        role: str

    class RoleRevoked(Event):
        """A member stopped being admin or auditor."""

        TOPIC = "timebank:Member.RoleRevoked"
        role: str

    class AgentRegistered(Event):
        """The member named another member to act for them (家属代办) from `since`, up to
        (not on) `until` when given; `consent` says how the member agreed: themselves
        (`member`) or with their card's code at the counter (`card`)."""

        TOPIC = "timebank:Member.AgentRegistered"
        agent_id: UUID
        since: date
        until: date | None
        consent: str

    class AgentEnded(Event):
        """An agent stopped acting for the member from the effective date on."""

        TOPIC = "timebank:Member.AgentEnded"
        agent_id: UUID
        effective_date: date

    class CardIssued(Event):
        """A member card (爱心服务卡) was printed for the member: its confirmation code
        consents to spending at the counter, its sign-in link (`credential_id`) signs the
        member in. Only a slow, salted digest of the code is kept; the card before it
        stops working."""

        TOPIC = "timebank:Member.CardIssued"
        card_number: int
        code_digest: str
        code_salt: str
        credential_id: UUID

    class PublicityChosen(Event):
        """The member chose whether honour walls and rankings show their name."""

        TOPIC = "timebank:Member.PublicityChosen"
        anonymous: bool

    @classmethod
    def register(
        cls,
        *,
        actor_id: UUID,
        name: str,
        birth_date: date | None,
        roles: list[GlobalRole],
        today: date,
    ) -> Member:
        """A name is required; a birth date, when given, is not in the future nor before
        1900."""
        name = require_text("name", name)
        if birth_date is not None:
            require_date("birth_date", birth_date)
            if birth_date > today:
                raise InvalidRequestError("birth_date", "a birth date cannot be in the future")
        unique_roles = sorted({GlobalRole(role).value for role in roles})
        return cls(actor_id=actor_id, name=name, birth_date=birth_date, roles=unique_roles)

    @event(Registered)
    def __init__(
        self, *, actor_id: UUID, name: str, birth_date: date | None, roles: list[str]
    ) -> None:
        self.name = name
        self.birth_date = birth_date
        self.roles: set[str] = set(roles)
        # Who gave each role the member holds: nobody is credited by a decision of
        # someone they made an admin.
        self.granted_by: dict[str, UUID] = dict.fromkeys(roles, actor_id)
        self.agencies: list[Agency] = []
        self.card_number = 0  # no card yet
        self.card_issued_by: UUID | None = None
        self.card_credential_id: UUID | None = None
        self._card_digest: tuple[str, str] | None = None  # (digest, salt)
        self.anonymous = False

    @property
    def is_admin(self) -> bool:
        return GlobalRole.ADMIN in self.roles

    @property
    def is_auditor(self) -> bool:
        return GlobalRole.AUDITOR in self.roles

    def age_on(self, day: date) -> int | None:
        """Whole years of age on the given day, when the birth date is known."""
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def grant(self, *, actor_id: UUID, role: GlobalRole) -> None:
        if role in self.roles:
            raise InvalidStateError("member", self.id, f"already {role}", f"grant {role}")
        self._role_granted(actor_id=actor_id, role=GlobalRole(role).value)

    @event(RoleGranted)
    def _role_granted(self, *, actor_id: UUID, role: str) -> None:
        self.roles.add(role)
        self.granted_by[role] = actor_id

    def revoke(self, *, actor_id: UUID, role: GlobalRole) -> None:
        if role not in self.roles:
            raise InvalidStateError("member", self.id, f"not {role}", f"revoke {role}")
        self._role_revoked(actor_id=actor_id, role=GlobalRole(role).value)

    @event(RoleRevoked)
    def _role_revoked(self, *, actor_id: UUID, role: str) -> None:
        self.roles.discard(role)
        self.granted_by.pop(role, None)

    # Agents (家属代办) -------------------------------------------------------------------

    def is_agent_on(self, agent_id: UUID, day: date) -> bool:
        """The member has named `agent_id` to act for them on that day."""
        return any(a.agent_id == agent_id and a.covers(day) for a in self.agencies)

    def register_agent(
        self,
        *,
        actor_id: UUID,
        agent_id: UUID,
        since: date,
        until: date | None,
        consent: str,
        today: date,
    ) -> None:
        """An agent acts from today or a later day, for a stretch that does not overlap
        one the same agent already has; never the member themself."""
        if agent_id == self.id:
            raise InvalidRequestError("agent_id", "a member cannot be their own agent")
        if since < today:
            raise InvalidRequestError("since", "an agent cannot be registered for days past")
        if until is not None and until <= since:
            raise InvalidRequestError("until", "must be after the day the agent starts")
        for agency in self.agencies:
            overlaps = (agency.until is None or since < agency.until) and (
                until is None or agency.since < until
            )
            if agency.agent_id == agent_id and overlaps:
                raise InvalidStateError("agent", agent_id, "already registered", "register")
        self._agent_registered(
            actor_id=actor_id, agent_id=agent_id, since=since, until=until, consent=consent
        )

    @event(AgentRegistered)
    def _agent_registered(
        self, *, actor_id: UUID, agent_id: UUID, since: date, until: date | None, consent: str
    ) -> None:
        self.agencies = [*self.agencies, Agency(agent_id, since, until)]

    def end_agent(self, *, actor_id: UUID, agent_id: UUID, effective_date: date) -> None:
        """An agent stops from the effective date on: stretches that start later are
        withdrawn, one that runs over the date ends on it."""
        ongoing = [
            a
            for a in self.agencies
            if a.agent_id == agent_id
            and (a.until is None or a.until > max(a.since, effective_date))
        ]
        if not ongoing:
            raise InvalidStateError("agent", agent_id, "not acting for the member", "end")
        self._agent_ended(actor_id=actor_id, agent_id=agent_id, effective_date=effective_date)

    @event(AgentEnded)
    def _agent_ended(self, *, actor_id: UUID, agent_id: UUID, effective_date: date) -> None:
        self.agencies = [
            Agency(agent_id, a.since, max(a.since, effective_date))
            if a.agent_id == agent_id and (a.until is None or a.until > effective_date)
            else a
            for a in self.agencies
        ]

    # The member card (爱心服务卡) ---------------------------------------------------------

    def issue_card(self, *, actor_id: UUID, secret: bytes, credential_id: UUID) -> str:
        """A new card replaces the one before (a lost card's code stops working); return
        its confirmation code, shown once for printing. `credential_id` is the card's
        sign-in link, issued in the same save."""
        salt = secrets.token_hex(16)
        code = derive_card_code(secret, salt)
        self._card_issued(
            actor_id=actor_id,
            card_number=self.card_number + 1,
            code_digest=card_code_digest(code, salt),
            code_salt=salt,
            credential_id=credential_id,
        )
        return code

    @event(CardIssued)
    def _card_issued(
        self,
        *,
        actor_id: UUID,
        card_number: int,
        code_digest: str,
        code_salt: str,
        credential_id: UUID,
    ) -> None:
        self.card_number = card_number
        self.card_issued_by = actor_id
        self.card_credential_id = credential_id
        self._card_digest = (code_digest, code_salt)

    def card_code(self, secret: bytes) -> str | None:
        """The current card's code again, for the repeat of the request that printed it;
        None when the secret is no longer the one it was derived with."""
        if self._card_digest is None:
            return None
        code = derive_card_code(secret, self._card_digest[1])
        return code if self.card_accepts(code) else None

    def card_accepts(self, code: str) -> bool:
        """The code is the one on the member's current card (compared in constant time)."""
        if self._card_digest is None:
            return False
        digest, salt = self._card_digest
        return hmac.compare_digest(card_code_digest(code, salt), digest)

    # Honour walls -----------------------------------------------------------------------

    def choose_publicity(self, *, actor_id: UUID, anonymous: bool) -> None:
        if anonymous == self.anonymous:
            state = "anonymous" if anonymous else "shown by name"
            raise InvalidStateError("member", self.id, f"already {state}", "choose publicity")
        self._publicity_chosen(actor_id=actor_id, anonymous=anonymous)

    @event(PublicityChosen)
    def _publicity_chosen(self, *, actor_id: UUID, anonymous: bool) -> None:
        self.anonymous = anonymous
