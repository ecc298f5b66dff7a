"""A community's rules as versioned events in the ledger: who adopted which rules, from
which day, and why. Every decision is made by the version in force on the day it is
made, whichever process or command makes it, and names that version.

The first version of a new ledger is seeded from the settings of the process that makes
its first command (`TIMEBANK_BALANCE_CAP_MINUTES`, ...); after that only an admin's
adoption changes the rules, and the settings are not consulted for them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from itertools import pairwise
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from timebank.errors import InvalidRequestError
from timebank.rules import EARLIEST_DATE, MAX_TEXT_LENGTH, require_date, require_text
from timebank.stars import DEFAULT_LADDER_HOURS

POLICIES_ID = uuid5(NAMESPACE_URL, "timebank:policies")
DEFAULT_DAILY_LIMIT = 24 * 60  # nobody is credited more than a day's minutes for one day
SEED_REASON = "the first rules, from the settings of the process that opened the ledger"


@dataclass(frozen=True)
class Rules:
    """One version of a community's rules; the defaults are this ledger's.

    - `balance_cap_minutes`: the most a member may hold (Nanjing: 90,000, i.e. 1,500
      hours); None for no cap;
    - `redemption_min_age`: the youngest age that may redeem (Nanjing 60, Shanghai 65);
      None lets anyone redeem; `hardship_exception`: a younger member may still redeem
      when whoever asks states a hardship (as Shanghai allows), recorded with the request;
    - `daily_limit_minutes`: the most minutes one volunteer is credited for one service
      day, across all their logs;
    - `star_ladder_hours`: lifetime approved hours for one star, two stars... (national
      100/300/600/1000/1500, Beijing 100/200/500/800/1000);
    - `expiry_months`: earned minutes still unspent so many months after the day they were
      served expire; None: they never do;
    - `organisation` and `certificate_prefix`: who issues certificates, and their numbers'
      letters (`LK-2026-000123`).
    """

    balance_cap_minutes: int | None = None
    redemption_min_age: int | None = None
    hardship_exception: bool = False
    daily_limit_minutes: int = DEFAULT_DAILY_LIMIT
    star_ladder_hours: tuple[int, ...] = DEFAULT_LADDER_HOURS
    expiry_months: int | None = None
    organisation: str = "社区时间银行"
    certificate_prefix: str = "TB"

    def __post_init__(self) -> None:
        _whole("balance_cap_minutes", self.balance_cap_minutes, low=1, optional=True)
        _whole("redemption_min_age", self.redemption_min_age, low=0, high=150, optional=True)
        _whole("daily_limit_minutes", self.daily_limit_minutes, low=1, high=DEFAULT_DAILY_LIMIT)
        _whole("expiry_months", self.expiry_months, low=1, high=1200, optional=True)
        if not isinstance(self.hardship_exception, bool):
            raise InvalidRequestError("hardship_exception", "is true or false")
        if not isinstance(self.star_ladder_hours, list | tuple):
            raise InvalidRequestError(
                "star_ladder_hours", "is a list of whole hours rising strictly from above zero"
            )
        ladder = tuple(self.star_ladder_hours)
        if (
            not ladder
            or not all(isinstance(h, int) and not isinstance(h, bool) for h in ladder)
            or ladder[0] <= 0
            or any(b <= a for a, b in pairwise(ladder))
        ):
            raise InvalidRequestError(
                "star_ladder_hours", "is whole hours rising strictly from above zero"
            )
        object.__setattr__(self, "star_ladder_hours", ladder)
        for name in ("organisation", "certificate_prefix"):
            if not isinstance(getattr(self, name), str):
                raise InvalidRequestError(name, "is a text")
        object.__setattr__(self, "organisation", require_text("organisation", self.organisation))
        prefix = require_text("certificate_prefix", self.certificate_prefix, max_length=10)
        if not (prefix.isascii() and prefix.isalnum() and prefix.isupper()):
            raise InvalidRequestError(
                "certificate_prefix", "is 1 to 10 capital letters or digits (LK)"
            )

    def as_dict(self) -> dict[str, Any]:
        stored = asdict(self)
        stored["star_ladder_hours"] = list(self.star_ladder_hours)
        return stored

    def changed(self, changes: Mapping[str, Any]) -> Rules:
        """These rules with some of them changed (as a file or a request states them:
        only what changes); an unknown rule is refused, naming it."""
        unknown = sorted(set(changes) - _FIELDS)
        if unknown:
            raise InvalidRequestError(
                unknown[0], f"is not a rule (the rules are: {', '.join(sorted(_FIELDS))})"
            )
        values = {**self.as_dict(), **changes}
        if isinstance(values["star_ladder_hours"], list):
            values["star_ladder_hours"] = tuple(values["star_ladder_hours"])
        return Rules(**values)

    @classmethod
    def of(cls, stored: dict[str, Any]) -> Rules:
        """Rules as an event stores them; a field a later version added takes its default."""
        known = {name: value for name, value in stored.items() if name in _FIELDS}
        if "star_ladder_hours" in known:
            known["star_ladder_hours"] = tuple(known["star_ladder_hours"])
        return cls(**known)


_FIELDS = frozenset(Rules.__dataclass_fields__)


def _whole(
    name: str, value: int | None, *, low: int, high: int | None = None, optional: bool = False
) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidRequestError(name, "is a whole number")
    if value < low or (high is not None and value > high):
        limit = f"from {low}" if high is None else f"from {low} to {high}"
        raise InvalidRequestError(name, f"is a whole number {limit}")


@dataclass(frozen=True)
class PolicyVersion:
    """Rules as adopted: their number, from which day, by whom and why."""

    version: int
    effective_on: date
    rules: Rules
    adopted_by: UUID
    reason: str


class Policies(Aggregate):
    """Every version of the community's rules, in the order they were adopted; one per
    ledger (its id is fixed, so two first adoptions cannot both be stored)."""

    TOPIC = "timebank:Policies"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Policies.Event"
        actor_id: UUID

    class Adopted(Event):
        """An admin adopted a version of the rules, in force from `effective_on`."""

        TOPIC = "timebank:Policies.Adopted"
        version: int
        effective_on: date
        rules: dict[str, Any]
        reason: str

    class Started(Event, Aggregate.Created):
        """The ledger's book of rules was opened (by its first command)."""

        TOPIC = "timebank:Policies.Started"

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return POLICIES_ID

    @event(Started)
    def __init__(self, *, actor_id: UUID) -> None:
        self.versions: list[PolicyVersion] = []

    @classmethod
    def start(cls, *, actor_id: UUID, seed: Rules) -> Policies:
        """The book of a new ledger, with the settings' rules as version 1 from the
        earliest day the ledger knows."""
        book = cls(actor_id=actor_id)
        book._adopted(
            actor_id=actor_id,
            version=1,
            effective_on=EARLIEST_DATE,
            rules=seed.as_dict(),
            reason=SEED_REASON,
        )
        return book

    def adopt(
        self, *, actor_id: UUID, rules: Rules, effective_on: date, reason: str, today: date
    ) -> PolicyVersion:
        """A new version from today or a later day, never before the latest one's day:
        decisions already made keep the version that made them."""
        require_date("effective_on", effective_on)
        if effective_on < today:
            raise InvalidRequestError(
                "effective_on", "rules take effect from today or a later day, not a past one"
            )
        latest = self.versions[-1].effective_on if self.versions else EARLIEST_DATE
        if effective_on < latest:
            raise InvalidRequestError(
                "effective_on",
                f"version {self.versions[-1].version} takes effect on {latest}: "
                "adopt one from that day or later",
            )
        self._adopted(
            actor_id=actor_id,
            version=len(self.versions) + 1,
            effective_on=effective_on,
            rules=rules.as_dict(),
            reason=require_text("reason", reason, max_length=MAX_TEXT_LENGTH),
        )
        return self.versions[-1]

    @event(Adopted)
    def _adopted(
        self,
        *,
        actor_id: UUID,
        version: int,
        effective_on: date,
        rules: dict[str, Any],
        reason: str,
    ) -> None:
        adopted = PolicyVersion(version, effective_on, Rules.of(rules), actor_id, reason)
        self.versions = [*self.versions, adopted]

    def in_force_on(self, day: date) -> PolicyVersion:
        """The version that decides on `day`: the last adopted whose day has come."""
        for version in reversed(self.versions):
            if version.effective_on <= day:
                return version
        return self.versions[0]


def seed_version(seed: Rules) -> PolicyVersion:
    """Version 1 as it will be stored by a new ledger's first command."""
    return PolicyVersion(1, EARLIEST_DATE, seed, UUID(int=0), SEED_REASON)
