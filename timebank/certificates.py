"""Service certificates (志愿服务记录证明): numbered statements of a volunteer's approved
service, issued by the organisation that recorded it (谁记录谁证明), and the book that numbers
them without gaps or duplicates."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from timebank.errors import InvalidRequestError, InvalidStateError
from timebank.rules import MAX_TEXT_LENGTH, require_date, require_text

_NAMESPACE = uuid5(NAMESPACE_URL, "timebank:certificates")

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""Letters and digits nobody misreads on paper (no 0/O, 1/I/L)."""
CODE_LENGTH = 10  # 50 bits: a certificate cannot be found by guessing codes


def new_verification_code() -> str:
    """A code printed on the certificate that leads to its public verification page."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalised_code(text: str) -> str:
    """A code as typed (lower case, with spaces or dashes) in the form it is stored in."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def certificate_number(prefix: str, year: int, sequence: int) -> str:
    """`LK-2026-000123`: the organisation's letters, the year of issue, the sequence."""
    return f"{prefix}-{year:04d}-{sequence:06d}"


@dataclass(frozen=True)
class CoveredLog:
    """One approved service log a certificate states, with the minutes approved."""

    log_id: UUID
    service_date: date
    minutes: int
    team_id: UUID
    activity: str

    def stored(self) -> dict[str, Any]:
        return {
            "log_id": self.log_id,
            "service_date": self.service_date,
            "minutes": self.minutes,
            "team_id": self.team_id,
            "activity": self.activity,
        }

    @classmethod
    def of(cls, stored: dict[str, Any]) -> CoveredLog:
        return cls(
            log_id=stored["log_id"],
            service_date=stored["service_date"],
            minutes=stored["minutes"],
            team_id=stored["team_id"],
            activity=stored["activity"],
        )


class CertificateBook(Aggregate):
    """The numbers one organisation (by its prefix) gave its certificates in one year.

    Every number is taken by a new event of this one aggregate, so two issuers who race
    for the same number collide in the store and one decides again: numbers never repeat
    and never skip, whichever process issues them."""

    TOPIC = "timebank:CertificateBook"

    class Event(Aggregate.Event):
        TOPIC = "timebank:CertificateBook.Event"
        actor_id: UUID

    class Opened(Event, Aggregate.Created):
        """The organisation issued its first certificate of the year."""

        TOPIC = "timebank:CertificateBook.Opened"
        prefix: str
        year: int

    class NumberTaken(Event):
        """The next number of the year went to a certificate."""

        TOPIC = "timebank:CertificateBook.NumberTaken"
        sequence: int
        certificate_id: UUID

    @staticmethod
    def create_id(prefix: str, year: int) -> UUID:
        return uuid5(_NAMESPACE, f"book:{prefix}:{year:04d}")

    @event(Opened)
    def __init__(self, *, actor_id: UUID, prefix: str, year: int) -> None:
        self.prefix = prefix
        self.year = year
        self.last = 0

    def take(self, *, actor_id: UUID) -> tuple[str, UUID]:
        """The next number of the year and the id of the certificate that bears it."""
        sequence = self.last + 1
        number = certificate_number(self.prefix, self.year, sequence)
        certificate_id = Certificate.create_id(number)
        self._taken(actor_id=actor_id, sequence=sequence, certificate_id=certificate_id)
        return number, certificate_id

    @event(NumberTaken)
    def _taken(self, *, actor_id: UUID, sequence: int, certificate_id: UUID) -> None:
        self.last = sequence


class Certificate(Aggregate):
    """A certificate of service: its number, the volunteer, the period, the logs it covers
    with their minutes, the issuing organisation, issuer and issue date. What it states
    never changes; it can only be revoked, with a reason."""

    TOPIC = "timebank:Certificate"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Certificate.Event"
        actor_id: UUID

    class Issued(Event, Aggregate.Created):
        """An issuer certified the volunteer's approved service in a period: the total is
        the sum of the approved minutes of the logs covered."""

        TOPIC = "timebank:Certificate.Issued"
        number: str
        code: str
        organisation: str
        volunteer_id: UUID
        volunteer_name: str
        period_from: date
        period_until: date
        team_id: UUID | None
        team_name: str | None
        community: str | None
        logs: list[dict[str, Any]]
        total_minutes: int
        issued_on: date
        policy_version: int

    class Revoked(Event):
        """An issuer withdrew the certificate, saying why; verification shows the reason."""

        TOPIC = "timebank:Certificate.Revoked"
        reason: str
        revoked_on: date

    @staticmethod
    def create_id(number: str) -> UUID:
        """From the number: one certificate per number, enforced by the store itself."""
        return uuid5(_NAMESPACE, f"certificate:{number}")

    @classmethod
    def issue(
        cls,
        *,
        actor_id: UUID,
        number: str,
        code: str,
        organisation: str,
        volunteer_id: UUID,
        volunteer_name: str,
        period_from: date,
        period_until: date,
        team_id: UUID | None,
        team_name: str | None,
        community: str | None,
        logs: list[CoveredLog],
        issued_on: date,
        policy_version: int,
    ) -> Certificate:
        """A period within the past, not ending after the issue date, and at least one
        approved log of the volunteer in it."""
        require_date("period_from", period_from)
        require_date("period_until", period_until)
        if period_until < period_from:
            raise InvalidRequestError("period_until", "the period ends before it begins")
        if period_until > issued_on:
            raise InvalidRequestError("period_until", "a certificate covers past service only")
        if not logs:
            raise InvalidRequestError(
                "period", "the volunteer has no approved service in this period to certify"
            )
        ordered = sorted(logs, key=lambda log: (log.service_date, str(log.log_id)))
        return cls(
            actor_id=actor_id,
            number=number,
            code=code,
            organisation=organisation,
            volunteer_id=volunteer_id,
            volunteer_name=volunteer_name,
            period_from=period_from,
            period_until=period_until,
            team_id=team_id,
            team_name=team_name,
            community=community,
            logs=[log.stored() for log in ordered],
            total_minutes=sum(log.minutes for log in ordered),
            issued_on=issued_on,
            policy_version=policy_version,
        )

    @event(Issued)
    def __init__(
        self,
        *,
        actor_id: UUID,
        number: str,
        code: str,
        organisation: str,
        volunteer_id: UUID,
        volunteer_name: str,
        period_from: date,
        period_until: date,
        team_id: UUID | None,
        team_name: str | None,
        community: str | None,
        logs: list[dict[str, Any]],
        total_minutes: int,
        issued_on: date,
        policy_version: int,
    ) -> None:
        self.number = number
        self.code = code
        self.organisation = organisation
        self.volunteer_id = volunteer_id
        self.volunteer_name = volunteer_name
        self.period_from = period_from
        self.period_until = period_until
        self.team_id = team_id
        self.team_name = team_name
        self.community = community
        self.logs = [CoveredLog.of(log) for log in logs]
        self.total_minutes = total_minutes
        self.issued_on = issued_on
        self.issued_by = actor_id
        self.policy_version = policy_version
        self.revoked_on: date | None = None
        self.revoked_by: UUID | None = None
        self.revoke_reason: str | None = None

    def revoke(self, *, actor_id: UUID, reason: str, today: date) -> None:
        """Revoked once, with a reason anyone verifying it reads."""
        if self.revoked_on is not None:
            raise InvalidStateError("certificate", self.id, "revoked", "revoke")
        reason = require_text("reason", reason, max_length=MAX_TEXT_LENGTH)
        self._revoked(actor_id=actor_id, reason=reason, revoked_on=today)

    @event(Revoked)
    def _revoked(self, *, actor_id: UUID, reason: str, revoked_on: date) -> None:
        self.revoked_on = revoked_on
        self.revoked_by = actor_id
        self.revoke_reason = reason
