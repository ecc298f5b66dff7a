"""For auditors: the decisions that rest on trust in one person, listed from the events alone.

- Credits certified by their recorder (谁记录谁证明): service a coordinator logged on a
  volunteer's behalf and approved themself, per coordinator. Allowed, as the national
  record rules allow it, but each is a credit only one person vouched for.
- Spends made on a member's behalf: redemptions and gifts asked for by an agent the member
  registered or with the code of the member's card, with who consented and how.
- Spends made with a credential that someone other than its member issued (a token an
  admin handed out, a printed card's sign-in link): that person has seen it and could
  have used it.

Like replay, it streams the log a page at a time; it keeps a row per credential and per
service log logged on someone's behalf, never per event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import AggregateEvent

from projections.log import read_events
from timebank.application import TimeBank
from timebank.credentials import Credential
from timebank.redemptions import Redemption
from timebank.service_logs import ServiceLog
from timebank.transfers import Transfer


@dataclass(frozen=True)
class CertifiedCredit:
    """A log its own recorder approved, on a volunteer's behalf."""

    service_log_id: UUID
    coordinator_id: UUID
    volunteer_id: UUID
    service_date: date
    minutes: int
    approved_at: datetime
    reversed: bool


@dataclass(frozen=True)
class CoordinatorCredits:
    coordinator_id: UUID
    logs: int
    minutes: int  # approved, net of reversals


@dataclass(frozen=True)
class Spend:
    """A redemption or a gift: whose minutes, who asked, how the member consented, and the
    credential it was signed in with."""

    kind: str  # redemption, transfer
    id: UUID
    member_id: UUID
    minutes: int
    asked_by: UUID
    consent: str
    consented_by: UUID | None
    credential_id: UUID | None
    credential_issued_by: UUID | None
    recorded_at: datetime


@dataclass(frozen=True)
class TrustReport:
    events_read: int
    certified_by_recorder: list[CertifiedCredit]
    per_coordinator: list[CoordinatorCredits]
    on_behalf: list[Spend]  # asked by someone other than the member
    with_others_credentials: list[Spend]  # signed in with a credential someone else issued


@dataclass
class _Fold:
    events: int = 0
    # Credential -> (its member, who issued it).
    credentials: dict[UUID, tuple[UUID, UUID]] = field(default_factory=dict)
    # Logs logged on someone's behalf -> (recorder, volunteer, service date).
    recorded: dict[UUID, tuple[UUID, UUID, date]] = field(default_factory=dict)
    certified: dict[UUID, CertifiedCredit] = field(default_factory=dict)
    spends: list[Spend] = field(default_factory=list)

    def apply(self, event: AggregateEvent) -> None:
        self.events += 1
        match event:
            case Credential.Issued(member_id=member_id, actor_id=issuer):
                self.credentials[event.originator_id] = (member_id, issuer)
            case ServiceLog.Logged(volunteer_id=volunteer, service_date=day, actor_id=recorder):
                if recorder != volunteer:
                    self.recorded[event.originator_id] = (recorder, volunteer, day)
            case ServiceLog.Approved(minutes=minutes, actor_id=approver):
                recorded = self.recorded.pop(event.originator_id, None)
                if recorded is not None and recorded[0] == approver:
                    self.certified[event.originator_id] = CertifiedCredit(
                        event.originator_id,
                        approver,
                        recorded[1],
                        recorded[2],
                        minutes,
                        event.timestamp,
                        reversed=False,
                    )
            case ServiceLog.Rejected():
                self.recorded.pop(event.originator_id, None)
            case ServiceLog.Reversed():
                credit = self.certified.get(event.originator_id)
                if credit is not None:
                    self.certified[event.originator_id] = _reversed(credit)
            case Redemption.Requested():
                self._spend("redemption", event, event.member_id, event.minutes)
            case Transfer.Made():
                self._spend("transfer", event, event.from_member_id, event.minutes)

    def _spend(
        self, kind: str, event: Redemption.Requested | Transfer.Made, member: UUID, minutes: int
    ) -> None:
        issuer = None
        if event.credential_id is not None:
            issuer = self.credentials.get(event.credential_id, (None, None))[1]
        self.spends.append(
            Spend(
                kind=kind,
                id=event.originator_id,
                member_id=member,
                minutes=minutes,
                asked_by=event.actor_id,
                consent=event.consent,
                consented_by=event.consented_by,
                credential_id=event.credential_id,
                credential_issued_by=issuer,
                recorded_at=event.timestamp,
            )
        )


def _reversed(credit: CertifiedCredit) -> CertifiedCredit:
    return CertifiedCredit(
        credit.service_log_id,
        credit.coordinator_id,
        credit.volunteer_id,
        credit.service_date,
        credit.minutes,
        credit.approved_at,
        reversed=True,
    )


def trust_report(app: TimeBank, *, progress: Callable[[int], None] | None = None) -> TrustReport:
    """Every decision that one person could make alone, from the stored events."""
    fold = _Fold()
    for event in read_events(app):
        fold.apply(event)
        if progress is not None:
            progress(1)
    credits = sorted(fold.certified.values(), key=lambda c: (c.approved_at, str(c.service_log_id)))
    totals: dict[UUID, tuple[int, int]] = {}
    for credit in credits:
        logs, minutes = totals.get(credit.coordinator_id, (0, 0))
        totals[credit.coordinator_id] = (
            logs + 1,
            minutes + (0 if credit.reversed else credit.minutes),
        )
    per_coordinator = [
        CoordinatorCredits(coordinator, logs, minutes)
        for coordinator, (logs, minutes) in sorted(
            totals.items(), key=lambda item: (-item[1][1], str(item[0]))
        )
    ]
    credentials = fold.credentials
    return TrustReport(
        events_read=fold.events,
        certified_by_recorder=credits,
        per_coordinator=per_coordinator,
        on_behalf=[s for s in fold.spends if s.asked_by != s.member_id],
        with_others_credentials=[
            s
            for s in fold.spends
            if s.credential_id is not None
            and s.credential_id in credentials
            and credentials[s.credential_id][1] != credentials[s.credential_id][0]
        ],
    )
