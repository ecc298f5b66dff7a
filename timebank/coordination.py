"""A coordinator's work: activities (场次) with their attendees, many logs reviewed at once,
and care pairings (结对) — each one use case, saved in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from timebank.accounts import Account
from timebank.activities import Activity, Attendance
from timebank.errors import (
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    TimebankError,
)
from timebank.ledger import Actor, Decision, Ledger, disclosed_to
from timebank.members import Member
from timebank.pairings import Pairing
from timebank.reviews import MAX_DECISIONS, Outcome, Review
from timebank.reviews import Decision as ReviewDecision
from timebank.service_logs import ServiceLog
from timebank.teams import Team


@dataclass(frozen=True)
class Attendee:
    """Who attended an activity, and how many minutes they served."""

    member_id: UUID
    minutes: int


@dataclass(frozen=True)
class ActivityView:
    id: UUID
    team_id: UUID
    service_date: date
    activity: str
    place: str | None
    beneficiaries: str | None
    recorded_by: UUID
    attendees: tuple[Attendance, ...]

    @classmethod
    def of(cls, activity: Activity) -> ActivityView:
        return cls(
            id=activity.id,
            team_id=activity.team_id,
            service_date=activity.service_date,
            activity=activity.activity,
            place=activity.place,
            beneficiaries=activity.beneficiaries,
            recorded_by=activity.recorded_by,
            attendees=tuple(activity.attendees.values()),
        )


@dataclass(frozen=True)
class PairingView:
    id: UUID
    team_id: UUID
    beneficiary_id: UUID
    volunteer_id: UUID | None
    since: date
    until: date | None
    note: str | None
    reason: str | None

    @classmethod
    def of(cls, pairing: Pairing) -> PairingView:
        return cls(
            id=pairing.id,
            team_id=pairing.team_id,
            beneficiary_id=pairing.beneficiary_id,
            volunteer_id=pairing.volunteer_id,
            since=pairing.since,
            until=pairing.until,
            note=pairing.note,
            reason=pairing.reason,
        )


class CoordinatorWork(Ledger):
    """The use cases of a team's coordinators beyond one log at a time."""

    # Activities (场次) -----------------------------------------------------------------

    def record_activity(
        self,
        *,
        actor_id: UUID,
        team_id: UUID,
        service_date: date,
        activity: str,
        attendees: Sequence[Attendee],
        place: str | None = None,
        beneficiaries: str | None = None,
        request_id: str | None = None,
    ) -> ActivityView:
        """A coordinator of the team (or an admin) records one session: one service log
        per attendee, linked to it, all saved at once. Whoever records it certifies it
        (谁记录谁证明): the logs are approved at once by the recorder, except those the
        recorder may not decide (their own attendance, or that of whoever appointed them),
        which wait for another coordinator or an admin."""

        def decide(actor: Actor) -> Decision[Activity]:
            team = self._read(Team, team_id, "team")
            self._require_team_lead(actor, team, "record activities of the team")
            activity_id = uuid4()
            logs, changed = self._attendance_logs(
                actor,
                team,
                activity_id=activity_id,
                service_date=service_date,
                activity=activity,
                beneficiaries=beneficiaries,
                attendees=attendees,
            )
            recorded = Activity.record(
                activity_id=activity_id,
                actor_id=actor.id,
                team_id=team.id,
                service_date=service_date,
                activity=activity,
                place=place,
                beneficiaries=beneficiaries,
                attendees=[
                    Attendance(a.member_id, a.minutes, log.id)
                    for a, log in zip(attendees, logs, strict=True)
                ],
                today=self.today(),
            )
            return recorded, [recorded, *changed]

        args = {
            "team_id": team_id,
            "service_date": service_date,
            "activity": activity,
            "attendees": sorted((str(a.member_id), a.minutes) for a in attendees),
            "place": place,
            "beneficiaries": beneficiaries,
        }
        recorded = self._execute(actor_id, request_id, "record_activity", args, decide)
        return ActivityView.of(recorded)

    def add_attendee(
        self,
        *,
        actor_id: UUID,
        activity_id: UUID,
        member_id: UUID,
        minutes: int,
        request_id: str | None = None,
    ) -> ActivityView:
        """Someone who attended is added afterwards: a new log, certified like the others."""

        def decide(actor: Actor) -> Decision[Activity]:
            recorded = self._get(Activity, activity_id, "activity")
            team = self._read(Team, recorded.team_id, "team")
            self._require_team_lead(actor, team, "add attendees to the team's activities")
            if member_id in recorded.attendees:
                raise InvalidStateError("attendee", member_id, "already attending", "add")
            [log], changed = self._attendance_logs(
                actor,
                team,
                activity_id=recorded.id,
                service_date=recorded.service_date,
                activity=recorded.activity,
                beneficiaries=recorded.beneficiaries,
                attendees=[Attendee(member_id, minutes)],
            )
            recorded.add_attendee(
                actor_id=actor.id, member_id=member_id, minutes=minutes, service_log_id=log.id
            )
            return recorded, [recorded, *changed]

        args = {"activity_id": activity_id, "member_id": member_id, "minutes": minutes}
        recorded = self._execute(actor_id, request_id, "add_attendee", args, decide)
        return ActivityView.of(recorded)

    def remove_attendee(
        self,
        *,
        actor_id: UUID,
        activity_id: UUID,
        member_id: UUID,
        reason: str,
        request_id: str | None = None,
    ) -> ActivityView:
        """Someone recorded as attending did not: their log is taken back with the reason
        (reversed if approved, rejected if still pending), never edited."""

        def decide(actor: Actor) -> Decision[Activity]:
            recorded = self._get(Activity, activity_id, "activity")
            team = self._read(Team, recorded.team_id, "team")
            self._require_team_lead(actor, team, "remove attendees of the team's activities")
            attendance = recorded.remove_attendee(
                actor_id=actor.id, member_id=member_id, reason=reason
            )
            log = self._get(ServiceLog, attendance.service_log_id, "service log")
            self._require_reviewer(actor, log, "take back")
            changed: list[Aggregate] = [recorded, log]
            if log.status.value == "approved":
                minutes = log.credited_minutes
                log.reverse(actor_id=actor.id, reason=reason)
                account = self._account(log.volunteer_id)
                with disclosed_to(None):  # the coordinator is told the rule only
                    self._take_back(account, actor, log, minutes)
                changed.append(account)
            elif log.status.value == "pending":
                log.reject(actor_id=actor.id, reason=reason)
            return recorded, changed

        args = {"activity_id": activity_id, "member_id": member_id, "reason": reason}
        recorded = self._execute(actor_id, request_id, "remove_attendee", args, decide)
        return ActivityView.of(recorded)

    def _attendance_logs(
        self,
        actor: Actor,
        team: Team,
        *,
        activity_id: UUID,
        service_date: date,
        activity: str,
        beneficiaries: str | None,
        attendees: Sequence[Attendee],
    ) -> tuple[list[ServiceLog], list[Aggregate]]:
        """One log per attendee, approved at once where the recorder may decide it."""
        logs: list[ServiceLog] = []
        accounts: dict[UUID, Account] = {}
        for attendee in attendees:
            self._read(Member, attendee.member_id, "member")
            if team.role_on(attendee.member_id, service_date) is None:
                raise PermissionDeniedError(
                    actor.id,
                    f"record an activity of team {team.id}",
                    f"member {attendee.member_id} was not in the team on {service_date}",
                )
            log = ServiceLog.log(
                actor_id=actor.id,
                volunteer_id=attendee.member_id,
                team_id=team.id,
                service_date=service_date,
                minutes=attendee.minutes,
                activity=activity,
                beneficiary=beneficiaries,
                note=None,
                today=self.today(),
                activity_id=activity_id,
            )
            logs.append(log)
            if not self._may_review(actor, team, log):
                continue  # their own attendance: another coordinator or an admin decides
            log.approve(actor_id=actor.id)
            account = accounts.get(log.volunteer_id) or self._account(log.volunteer_id)
            accounts[log.volunteer_id] = account
            self._credit(account, actor, log)
        return logs, [*logs, *accounts.values()]

    def _may_review(self, actor: Actor, team: Team, log: ServiceLog) -> bool:
        if actor.id == log.volunteer_id:
            return False
        try:
            self._require_reviewer(actor, log, "certify")
        except PermissionDeniedError:
            return False
        return True

    # Reviewing many logs at once ----------------------------------------------------------

    def review_service_logs(
        self,
        *,
        actor_id: UUID,
        decisions: Sequence[ReviewDecision],
        request_id: str | None = None,
    ) -> tuple[Outcome, ...]:
        """Approve (all, or part with a reason) or reject (with a reason) many logs in one
        request. Each log is decided on its own: one that may not be decided (another
        team's, already decided, unknown) is refused and named, the others go through;
        every decision and the record of the outcomes are saved together, so the repeat
        of the request gives the same answer."""
        if not decisions:
            raise InvalidRequestError("decisions", "give at least one decision")
        if len(decisions) > MAX_DECISIONS:
            raise InvalidRequestError("decisions", f"at most {MAX_DECISIONS} decisions at once")
        if len({d.service_log_id for d in decisions}) < len(decisions):
            raise InvalidRequestError("decisions", "a log is named twice")

        def decide(actor: Actor) -> Decision[Review]:
            outcomes: list[Outcome] = []
            changed: dict[UUID, Aggregate] = {}
            for decision in decisions:
                try:
                    outcomes.append(self._decided(actor, decision, changed))
                except TimebankError as refusal:
                    outcomes.append(
                        Outcome(decision.service_log_id, "refused", refusal.code, str(refusal))
                    )
            review = Review(actor_id=actor.id, outcomes=[o.as_list() for o in outcomes])
            return review, [*changed.values(), review]

        args = {
            "decisions": [[str(d.service_log_id), d.action, d.minutes, d.reason] for d in decisions]
        }
        review = self._execute(actor_id, request_id, "review_service_logs", args, decide)
        return tuple(review.outcomes)

    def _decided(
        self, actor: Actor, decision: ReviewDecision, changed: dict[UUID, Aggregate]
    ) -> Outcome:
        """One decision, on copies that join `changed` only if it goes through."""
        log = self._get(ServiceLog, decision.service_log_id, "service log")
        self._require_reviewer(actor, log, decision.action)
        if decision.action == "approve":
            log.approve(actor_id=actor.id, minutes=decision.minutes, reason=decision.reason)
            # One copy of an account for all its logs here; `earn` refuses before it
            # changes anything, so a refused log leaves the account as it was.
            account_id = Account.create_id(log.volunteer_id)
            held = changed.get(account_id)
            account = held if isinstance(held, Account) else self._account(log.volunteer_id)
            self._credit(account, actor, log)
            # Saved in order: this approval, then the account's credits (moved after it),
            # so that every credit follows the approval that backs it, as verify reads.
            changed[log.id] = log
            changed.pop(account_id, None)
            changed[account_id] = account
            outcome = "approved"
        elif decision.action == "reject":
            log.reject(actor_id=actor.id, reason=decision.reason or "")
            outcome = "rejected"
        else:
            raise InvalidRequestError("action", "is approve or reject")
        changed[log.id] = log
        return Outcome(log.id, outcome)

    # Care pairings (结对) -----------------------------------------------------------------

    def form_pairing(
        self,
        *,
        actor_id: UUID,
        team_id: UUID,
        beneficiary_id: UUID,
        volunteer_id: UUID | None = None,
        since: date | None = None,
        note: str | None = None,
        request_id: str | None = None,
    ) -> PairingView:
        """A coordinator of the team (or an admin) pairs a volunteer of the team, or the
        team as a whole, with a beneficiary: an elder registered as a member, with or
        without a token of their own."""

        def decide(actor: Actor) -> Decision[Pairing]:
            team = self._read(Team, team_id, "team")
            self._require_team_lead(actor, team, "pair the team's volunteers")
            self._read(Member, beneficiary_id, "member")
            start = since or self.today()
            if volunteer_id is not None:
                self._read(Member, volunteer_id, "member")
                if team.role_on(volunteer_id, start) is None:
                    raise PermissionDeniedError(
                        actor.id,
                        f"pair member {volunteer_id}",
                        f"they were not in the team on {start}",
                    )
            pairing = Pairing.form(
                actor_id=actor.id,
                team_id=team.id,
                beneficiary_id=beneficiary_id,
                volunteer_id=volunteer_id,
                since=start,
                note=note,
                today=self.today(),
            )
            return pairing, [pairing]

        args = {
            "team_id": team_id,
            "beneficiary_id": beneficiary_id,
            "volunteer_id": volunteer_id,
            "since": since,
            "note": note,
        }
        return PairingView.of(self._execute(actor_id, request_id, "form_pairing", args, decide))

    def end_pairing(
        self,
        *,
        actor_id: UUID,
        pairing_id: UUID,
        reason: str,
        effective_date: date | None = None,
        request_id: str | None = None,
    ) -> PairingView:
        def decide(actor: Actor) -> Decision[Pairing]:
            pairing = self._get(Pairing, pairing_id, "pairing")
            team = self._read(Team, pairing.team_id, "team")
            self._require_team_lead(actor, team, "end the team's pairings")
            today = self.today()
            pairing.end(
                actor_id=actor.id,
                effective_date=effective_date or today,
                reason=reason,
                today=today,
            )
            return pairing, [pairing]

        args = {"pairing_id": pairing_id, "reason": reason, "effective_date": effective_date}
        return PairingView.of(self._execute(actor_id, request_id, "end_pairing", args, decide))

    def _visit_of(self, pairing_id: UUID | None, team: Team, volunteer: UUID, day: date) -> None:
        """A log that names a pairing is one of its visits: the pairing's team, on a day
        the pairing held, by its volunteer (or anyone of the team for a team's pairing)."""
        if pairing_id is None:
            return
        try:
            pairing = self._read(Pairing, pairing_id, "pairing")
        except NotFoundError:
            raise InvalidRequestError("pairing_id", "names no pairing") from None
        if pairing.team_id != team.id or not pairing.is_active_on(day):
            raise InvalidRequestError(
                "pairing_id", "is not a pairing of this team on the service date"
            )
        if pairing.volunteer_id not in (None, volunteer):
            raise InvalidRequestError("pairing_id", "pairs another volunteer")
