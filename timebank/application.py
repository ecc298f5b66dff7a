"""The TimeBank application: every use case of the ledger, each saved in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
)
from eventsourcing.domain import Aggregate

from timebank.accounts import Account
from timebank.cache import NotInMemoryError
from timebank.certifying import Certifying
from timebank.consent import card_consent, consent_of, require_member_or_agent
from timebank.coordination import CoordinatorWork
from timebank.credentials import (
    Credential,
    CredentialKind,
    CredentialView,
    IssuedCard,
    IssuedToken,
    RegisteredMember,
    digest_of,
)
from timebank.errors import (
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    RecordsRejectedError,
    TimebankError,
)
from timebank.imports import ImportView, ServiceImport, ServiceRecord, source_of
from timebank.ledger import (
    SYSTEM_ACTOR_ID,
    Actor,
    Decision,
    Ledger,
    disclosed_to,
    reads,
)
from timebank.members import GlobalRole, Member
from timebank.redemptions import Redemption
from timebank.rulemaking import RuleMaking
from timebank.service_logs import ServiceLog
from timebank.teams import Team, TeamRole
from timebank.transfers import Transfer
from timebank.views import (
    AccountView,
    MemberView,
    RedemptionView,
    ServiceLogView,
    TeamView,
    TransferView,
)

__all__ = ["SYSTEM_ACTOR_ID", "Actor", "TimeBank"]


class TimeBank(CoordinatorWork, RuleMaking, Certifying, Ledger):
    """Use cases of a community time bank over one event store.

    Every command names its acting member, checks who may do it, lets the aggregates
    decide, and saves every aggregate it changed in one atomic `save(...)` (see `Ledger`,
    which also retries a command that lost an optimistic-concurrency race and carries out
    a command with a client request id once)."""

    # Members ---------------------------------------------------------------------

    def bootstrap_admin(self, *, name: str, request_id: str | None = None) -> MemberView:
        """Register the first admin; the system itself is the acting member."""
        return self.register_member(
            actor_id=SYSTEM_ACTOR_ID,
            name=name,
            roles=[GlobalRole.ADMIN],
            request_id=request_id,
        )

    def register_member(
        self,
        *,
        actor_id: UUID,
        name: str,
        birth_date: date | None = None,
        roles: Sequence[GlobalRole] = (),
        request_id: str | None = None,
    ) -> MemberView:
        """Admins register members; each member's account opens with them."""

        def decide(actor: Actor) -> Decision[Member]:
            member, account = self._registration(actor, name, birth_date, roles)
            return member, [member, account]

        args = {"name": name, "birth_date": birth_date, "roles": sorted(roles)}
        member = self._execute(actor_id, request_id, "register_member", args, decide)
        return MemberView.of(member)

    def _registration(
        self, actor: Actor, name: str, birth_date: date | None, roles: Sequence[GlobalRole]
    ) -> tuple[Member, Account]:
        """Admins register members; each member's account opens with them."""
        self._require_admin(actor, "register members")
        member = Member.register(
            actor_id=actor.id,
            name=name,
            birth_date=birth_date,
            roles=list(roles),
            today=self.today(),
        )
        return member, Account(actor_id=actor.id, member_id=member.id)

    def grant_role(
        self,
        *,
        actor_id: UUID,
        member_id: UUID,
        role: GlobalRole,
        request_id: str | None = None,
    ) -> MemberView:
        def decide(actor: Actor) -> Decision[Member]:
            self._require_admin(actor, "grant roles")
            member = self._get(Member, member_id, "member")
            member.grant(actor_id=actor.id, role=role)
            return member, [member]

        args = {"member_id": member_id, "role": role}
        return MemberView.of(self._execute(actor_id, request_id, "grant_role", args, decide))

    def revoke_role(
        self,
        *,
        actor_id: UUID,
        member_id: UUID,
        role: GlobalRole,
        request_id: str | None = None,
    ) -> MemberView:
        def decide(actor: Actor) -> Decision[Member]:
            self._require_admin(actor, "revoke roles")
            member = self._get(Member, member_id, "member")
            member.revoke(actor_id=actor.id, role=role)
            return member, [member]

        args = {"member_id": member_id, "role": role}
        return MemberView.of(self._execute(actor_id, request_id, "revoke_role", args, decide))

    @reads
    def get_member(self, member_id: UUID) -> MemberView:
        return MemberView.of(self._read(Member, member_id, "member"))

    @reads
    def get_account(self, member_id: UUID) -> AccountView:
        """The member's minutes as their account decides them: balance, held, available."""
        return AccountView.of(self._account(member_id))

    # Teams -------------------------------------------------------------------------

    def form_team(
        self,
        *,
        actor_id: UUID,
        name: str,
        community: str,
        founded_on: date | None = None,
        request_id: str | None = None,
    ) -> TeamView:
        """Admins form teams; `founded_on` (default today) is the first day members may
        have served in it, for a team entered after it began."""

        def decide(actor: Actor) -> Decision[Team]:
            self._require_admin(actor, "form teams")
            today = self.today()
            team = Team.form(
                actor_id=actor.id,
                name=name,
                community=community,
                founded_on=founded_on or today,
                today=today,
            )
            return team, [team]

        args = {"name": name, "community": community, "founded_on": founded_on}
        return TeamView.of(self._execute(actor_id, request_id, "form_team", args, decide))

    def add_team_member(
        self,
        *,
        actor_id: UUID,
        team_id: UUID,
        member_id: UUID,
        role: TeamRole,
        effective_date: date | None = None,
        request_id: str | None = None,
    ) -> TeamView:
        """Admins and the team's coordinators add volunteers; only admins appoint or
        change coordinators, so that nobody makes the colleague who will approve their
        own service. The member accepts the membership afterwards (`accept_membership`),
        unless they add themself."""

        def decide(actor: Actor) -> Decision[Team]:
            team = self._get(Team, team_id, "team")
            self._require_team_lead(actor, team, "add members to the team")
            if role is TeamRole.COORDINATOR or self._coordinates(team, member_id):
                self._require_admin(actor, "appoint coordinators or change their role")
            self._read(Member, member_id, "member")
            today = self.today()
            team.add_member(
                actor_id=actor.id,
                member_id=member_id,
                role=role,
                effective_date=effective_date or today,
                accepted=actor.id == member_id,
                today=today,
                lead_days=self.policy.membership_lead_days,
            )
            return team, [team]

        args = {
            "team_id": team_id,
            "member_id": member_id,
            "role": role,
            "effective_date": effective_date,
        }
        team = self._execute(actor_id, request_id, "add_team_member", args, decide)
        return TeamView.of(team)

    def remove_team_member(
        self,
        *,
        actor_id: UUID,
        team_id: UUID,
        member_id: UUID,
        effective_date: date | None = None,
        request_id: str | None = None,
    ) -> TeamView:
        """Leaving ends a membership; the team keeps its history. Admins end any
        membership, coordinators those of volunteers."""

        def decide(actor: Actor) -> Decision[Team]:
            team = self._get(Team, team_id, "team")
            self._require_team_lead(actor, team, "remove members from the team")
            if self._coordinates(team, member_id):
                self._require_admin(actor, "end a coordinator's membership")
            today = self.today()
            team.remove_member(
                actor_id=actor.id,
                member_id=member_id,
                effective_date=effective_date or today,
                today=today,
                lead_days=self.policy.membership_lead_days,
            )
            return team, [team]

        args = {
            "team_id": team_id,
            "member_id": member_id,
            "effective_date": effective_date,
        }
        team = self._execute(actor_id, request_id, "remove_team_member", args, decide)
        return TeamView.of(team)

    def accept_membership(
        self,
        *,
        actor_id: UUID,
        team_id: UUID,
        member_id: UUID,
        request_id: str | None = None,
    ) -> TeamView:
        """The member (or their agent) accepts a membership: from then on the team's
        coordinators may read their balance and statement."""

        def decide(actor: Actor) -> Decision[Team]:
            member = self._read(Member, member_id, "member")
            require_member_or_agent(
                actor.id, member, today=self.today(), action=f"accept a membership of {team_id}"
            )
            team = self._get(Team, team_id, "team")
            team.accept(actor_id=actor.id, member_id=member_id)
            return team, [team]

        args = {"team_id": team_id, "member_id": member_id}
        team = self._execute(actor_id, request_id, "accept_membership", args, decide)
        return TeamView.of(team)

    @reads
    def get_team(self, team_id: UUID) -> TeamView:
        return TeamView.of(self._read(Team, team_id, "team"))

    # Service logs ------------------------------------------------------------------

    def log_service(
        self,
        *,
        actor_id: UUID,
        team_id: UUID,
        service_date: date,
        minutes: int,
        activity: str,
        volunteer_id: UUID | None = None,
        beneficiary: str | None = None,
        note: str | None = None,
        pairing_id: UUID | None = None,
        request_id: str | None = None,
    ) -> ServiceLogView:
        """Volunteers log their own service in their teams; coordinators may log for them.
        A visit of a care pairing (结对) names it."""

        def decide(actor: Actor) -> Decision[ServiceLog]:
            team = self._read(Team, team_id, "team")
            volunteer = volunteer_id or actor.id
            if volunteer != actor.id:
                self._require_team_lead(actor, team, "log service for another member")
            if team.role_on(volunteer, service_date) is None:
                raise PermissionDeniedError(
                    actor.id,
                    f"log service in team {team.id}",
                    f"member {volunteer} was not in the team on {service_date}",
                )
            log = ServiceLog.log(
                actor_id=actor.id,
                volunteer_id=volunteer,
                team_id=team.id,
                service_date=service_date,
                minutes=minutes,
                activity=activity,
                beneficiary=beneficiary,
                note=note,
                today=self.today(),
                pairing_id=pairing_id,
            )
            self._visit_of(pairing_id, team, volunteer, service_date)
            return log, [log]

        args = {
            "team_id": team_id,
            "volunteer_id": volunteer_id,
            "service_date": service_date,
            "minutes": minutes,
            "activity": activity,
            "beneficiary": beneficiary,
            "note": note,
        }
        if pairing_id is not None:  # requests without one keep their earlier fingerprint
            args["pairing_id"] = pairing_id
        log = self._execute(actor_id, request_id, "log_service", args, decide)
        return self._log_view(log)

    def approve_service(
        self,
        *,
        actor_id: UUID,
        service_log_id: UUID,
        minutes: int | None = None,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> ServiceLogView:
        """Approval credits the volunteer from the issuance account, in the same save. A
        reason says why fewer minutes were approved than logged."""

        def decide(actor: Actor) -> Decision[ServiceLog]:
            log = self._get(ServiceLog, service_log_id, "service log")
            self._require_reviewer(actor, log, "approve")
            log.approve(actor_id=actor.id, minutes=minutes, reason=reason)
            account = self._account(log.volunteer_id)
            self._credit(account, actor, log)
            return log, [log, account]

        args: dict[str, Any] = {"service_log_id": service_log_id, "minutes": minutes}
        if reason is not None:  # requests without one keep their earlier fingerprint
            args["reason"] = reason
        log = self._execute(actor_id, request_id, "approve_service", args, decide)
        return self._log_view(log)

    def reject_service(
        self,
        *,
        actor_id: UUID,
        service_log_id: UUID,
        reason: str,
        request_id: str | None = None,
    ) -> ServiceLogView:
        def decide(actor: Actor) -> Decision[ServiceLog]:
            log = self._get(ServiceLog, service_log_id, "service log")
            self._require_reviewer(actor, log, "reject")
            log.reject(actor_id=actor.id, reason=reason)
            return log, [log]

        args = {"service_log_id": service_log_id, "reason": reason}
        log = self._execute(actor_id, request_id, "reject_service", args, decide)
        return self._log_view(log)

    def reverse_service(
        self,
        *,
        actor_id: UUID,
        service_log_id: UUID,
        reason: str,
        request_id: str | None = None,
    ) -> ServiceLogView:
        """A wrong approval is reversed by a compensating event; it never overdraws."""

        def decide(actor: Actor) -> Decision[ServiceLog]:
            log = self._get(ServiceLog, service_log_id, "service log")
            self._require_reviewer(actor, log, "reverse")
            minutes = log.credited_minutes
            log.reverse(actor_id=actor.id, reason=reason)
            account = self._account(log.volunteer_id)
            with disclosed_to(None):  # the reviewer is never the member
                self._take_back(account, actor, log, minutes)
            return log, [log, account]

        args = {"service_log_id": service_log_id, "reason": reason}
        log = self._execute(actor_id, request_id, "reverse_service", args, decide)
        return self._log_view(log)

    @reads
    def get_service_log(self, service_log_id: UUID) -> ServiceLogView:
        return self._log_view(self._read(ServiceLog, service_log_id, "service log"))

    def _log_view(self, log: ServiceLog) -> ServiceLogView:
        """A log as its commands answer: with the names of its volunteer and its team, as
        the lists show it (from memory: the command has just read both)."""

        def named() -> ServiceLogView:
            return ServiceLogView.of(
                log,
                volunteer_name=self._read(Member, log.volunteer_id, "member").name,
                team_name=self._read(Team, log.team_id, "team").name,
            )

        try:
            with self.reading_from_memory():
                return named()
        except NotInMemoryError:
            with self.reading():
                return named()

    def import_service_records(
        self,
        *,
        actor_id: UUID,
        team_id: UUID,
        name: str,
        digest: str,
        records: Sequence[ServiceRecord],
    ) -> ImportView:
        """Paper records enter as logged and approved by the importing coordinator, each
        naming the import. Every row is checked first; the whole file is saved in one
        transaction or, when any row breaks a rule, not at all. A file is imported once:
        the import's id follows from the file's digest."""

        def decide(actor: Actor) -> Decision[ServiceImport]:
            team = self._read(Team, team_id, "team")
            self._require_team_lead(actor, team, "import service records into the team")
            import_id = ServiceImport.create_id(digest)
            if import_id in self.repository:
                raise InvalidStateError("import", import_id, "already imported", "import")
            if not records:
                raise InvalidRequestError("records", "the file holds no service records")
            source = source_of(import_id, name)
            logs: list[ServiceLog] = []
            accounts: dict[UUID, Account] = {}
            problems: list[tuple[int, str, str]] = []
            for record in records:
                try:
                    logs.append(self._imported_log(actor, team, record, source, accounts))
                except TimebankError as error:
                    problems.append((record.line, *_row_problem(error)))
            if problems:
                raise RecordsRejectedError(problems)
            batch = ServiceImport.record(
                actor_id=actor.id,
                digest=digest,
                team_id=team.id,
                name=name,
                rows=len(logs),
                minutes=sum(log.credited_minutes for log in logs),
            )
            return batch, [batch, *logs, *accounts.values()]

        return ImportView.of(self._execute(actor_id, None, "import_service_records", {}, decide))

    def _imported_log(
        self,
        actor: Actor,
        team: Team,
        record: ServiceRecord,
        source: str,
        accounts: dict[UUID, Account],
    ) -> ServiceLog:
        if team.role_on(record.volunteer_id, record.service_date) is None:
            raise PermissionDeniedError(
                actor.id,
                "import this row",
                f"member {record.volunteer_id} was not in the team on {record.service_date}",
            )
        log = ServiceLog.log(
            actor_id=actor.id,
            volunteer_id=record.volunteer_id,
            team_id=team.id,
            service_date=record.service_date,
            minutes=record.minutes,
            activity=record.activity,
            beneficiary=record.beneficiary,
            note=record.note,
            today=self.today(),
            source=source,
        )
        log.approve(actor_id=actor.id, source=source)
        if record.volunteer_id not in accounts:
            accounts[record.volunteer_id] = self._account(record.volunteer_id)
        self._credit(accounts[record.volunteer_id], actor, log)
        return log

    # Redemptions -------------------------------------------------------------------

    def request_redemption(
        self,
        *,
        actor_id: UUID,
        team_id: UUID,
        service: str,
        minutes: int,
        member_id: UUID | None = None,
        card_code: str | None = None,
        credential_id: UUID | None = None,
        hardship: str | None = None,
        request_id: str | None = None,
    ) -> RedemptionView:
        """Minutes are held at once, with the member's consent (see `timebank.consent`):
        the member asks, their agent asks, or the delivering team's coordinator (or an
        admin) enters the code of the member's card at the counter. `credential_id` is
        the credential the request was signed in with, recorded with it. The member is of
        the rules' minimum age, or a `hardship` is stated where the rules allow one."""

        def decide(actor: Actor) -> Decision[Redemption]:
            team = self._read(Team, team_id, "team")
            member = self._read(Member, member_id or actor.id, "member")
            consent = consent_of(
                actor.id,
                member,
                card_code=card_code,
                staff=self._leads(actor, team),
                today=self.today(),
                action=f"redeem minutes of member {member.id}",
            )
            policy = self._rules_in_force()
            self._check_redemption_age(actor, member, policy, hardship)
            redemption = Redemption.request(
                actor_id=actor.id,
                member_id=member.id,
                team_id=team.id,
                service=service,
                minutes=minutes,
                consent=consent.kind.value,
                consented_by=consent.given_by,
                credential_id=credential_id,
                hardship=hardship,
                policy_version=policy.version,
                decided_on=self.today(),
            )
            account = self._account(member.id)
            with disclosed_to(consent):
                account.hold(actor_id=actor.id, redemption_id=redemption.id, minutes=minutes)
            return redemption, [redemption, account]

        args = {
            "team_id": team_id,
            "service": service,
            "minutes": minutes,
            "member_id": member_id,
        }
        if card_code is not None:  # never the code: the fingerprint is stored, and 8 digits
            args["card_code"] = "given"  # are quickly guessed back from a digest
        if hardship is not None:  # requests without one keep their earlier fingerprint
            args["hardship"] = hardship
        redemption = self._execute(actor_id, request_id, "request_redemption", args, decide)
        return RedemptionView.of(redemption)

    def fulfil_redemption(
        self, *, actor_id: UUID, redemption_id: UUID, request_id: str | None = None
    ) -> RedemptionView:
        """The team delivered the service: its coordinator (or an admin) spends the hold;
        never whoever asked for it on the member's behalf (see `Redemption.fulfil`)."""

        def decide(actor: Actor) -> Decision[Redemption]:
            redemption = self._get(Redemption, redemption_id, "redemption")
            team = self._read(Team, redemption.team_id, "team")
            self._require_team_lead(actor, team, "fulfil redemptions of the team")
            redemption.fulfil(actor_id=actor.id)
            account = self._account(redemption.member_id)
            account.redeem(actor_id=actor.id, redemption_id=redemption.id)
            return redemption, [redemption, account]

        args = {"redemption_id": redemption_id}
        redemption = self._execute(actor_id, request_id, "fulfil_redemption", args, decide)
        return RedemptionView.of(redemption)

    def cancel_redemption(
        self,
        *,
        actor_id: UUID,
        redemption_id: UUID,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> RedemptionView:
        """The member, a coordinator of the team or an admin calls it off; minutes return."""

        def decide(actor: Actor) -> Decision[Redemption]:
            redemption = self._get(Redemption, redemption_id, "redemption")
            if actor.id != redemption.member_id:
                team = self._read(Team, redemption.team_id, "team")
                self._require_team_lead(actor, team, "cancel another member's redemption")
            redemption.cancel(actor_id=actor.id, reason=reason)
            account = self._account(redemption.member_id)
            account.release(actor_id=actor.id, redemption_id=redemption.id)
            return redemption, [redemption, account]

        args = {"redemption_id": redemption_id, "reason": reason}
        redemption = self._execute(actor_id, request_id, "cancel_redemption", args, decide)
        return RedemptionView.of(redemption)

    @reads
    def get_redemption(self, redemption_id: UUID) -> RedemptionView:
        return RedemptionView.of(self._read(Redemption, redemption_id, "redemption"))

    # Transfers ---------------------------------------------------------------------

    def transfer(
        self,
        *,
        actor_id: UUID,
        to_member_id: UUID,
        minutes: int,
        note: str | None = None,
        from_member_id: UUID | None = None,
        card_code: str | None = None,
        credential_id: UUID | None = None,
        request_id: str | None = None,
    ) -> TransferView:
        """A member gives from their own available minutes (or their agent, or staff at
        the counter with their card's code, gives for them: see `timebank.consent`);
        both accounts move at once."""

        def decide(actor: Actor) -> Decision[Transfer]:
            giver_id = from_member_id or actor.id
            if giver_id == SYSTEM_ACTOR_ID:
                raise PermissionDeniedError(actor.id, "give minutes", "the system has none")
            member = self._read(Member, giver_id, "member")
            self._read(Member, to_member_id, "member")
            consent = consent_of(
                actor.id,
                member,
                card_code=card_code,
                staff=actor.is_admin,  # gifts at the counter: an admin takes the card's code
                today=self.today(),
                action=f"give minutes of member {giver_id}",
            )
            transfer = Transfer.make(
                actor_id=actor.id,
                from_member_id=giver_id,
                to_member_id=to_member_id,
                minutes=minutes,
                note=note,
                consent=consent.kind.value,
                consented_by=consent.given_by,
                credential_id=credential_id,
            )
            giver = self._account(giver_id)
            receiver = self._account(to_member_id)
            with disclosed_to(consent):
                given = giver.give(
                    actor_id=actor.id,
                    transfer_id=transfer.id,
                    to_member_id=to_member_id,
                    minutes=minutes,
                )
            receiver.receive(
                actor_id=actor.id,
                transfer_id=transfer.id,
                from_member_id=giver_id,
                minutes=minutes,
                given=given,
                policy=self._rules_in_force(),
                today=self.today(),
            )
            return transfer, [transfer, giver, receiver]

        args: dict[str, Any] = {"to_member_id": to_member_id, "minutes": minutes, "note": note}
        if from_member_id is not None:
            args["from_member_id"] = from_member_id
        if card_code is not None:  # never the code itself (see request_redemption)
            args["card_code"] = "given"
        transfer = self._execute(actor_id, request_id, "transfer", args, decide)
        return TransferView.of(transfer)

    @reads
    def get_transfer(self, transfer_id: UUID) -> TransferView:
        return TransferView.of(self._read(Transfer, transfer_id, "transfer"))

    # Credentials and who may read what ------------------------------------------------

    def register_member_with_token(
        self,
        *,
        actor_id: UUID,
        name: str,
        birth_date: date | None = None,
        roles: Sequence[GlobalRole] = (),
        request_id: str | None = None,
    ) -> RegisteredMember:
        """Admins register a member, open their account and issue their first token in
        one save, so nobody is left registered without a way to sign in.

        The repeat of a request gives the original answer, token included: it is
        recomputed from the stored nonce (see `timebank.credentials`), never stored.
        """
        secret = self._token_secret()

        def decide(actor: Actor) -> Decision[Credential]:
            member, account = self._registration(actor, name, birth_date, roles)
            credential, _ = Credential.issue(actor_id=actor.id, member_id=member.id, secret=secret)
            return credential, [member, account, credential]

        args = {"name": name, "birth_date": birth_date, "roles": sorted(roles)}
        credential = self._execute(actor_id, request_id, "register_member_with_token", args, decide)
        # Registration is always the member's first event: this is the member as registered.
        member: Aggregate = self.repository.get(credential.member_id, version=1)
        if not isinstance(member, Member):
            raise NotFoundError("member", credential.member_id)
        return RegisteredMember(MemberView.of(member), self._issued(credential, secret))

    def issue_token(
        self, *, actor_id: UUID, member_id: UUID, request_id: str | None = None
    ) -> IssuedToken:
        """Admins issue a member a new token (a lost phone, a second device).

        Members do not issue their own: a stolen token could otherwise mint fresh tokens
        that outlive its revocation.
        """
        secret = self._token_secret()

        def decide(actor: Actor) -> Decision[Credential]:
            self._require_admin(actor, "issue tokens")
            member = self._read(Member, member_id, "member")
            credential, _ = Credential.issue(actor_id=actor.id, member_id=member.id, secret=secret)
            return credential, [credential]

        args = {"member_id": member_id}
        credential = self._execute(actor_id, request_id, "issue_token", args, decide)
        return self._issued(credential, secret)

    def rotate_token(
        self, *, actor_id: UUID, credential_id: UUID, request_id: str | None = None
    ) -> IssuedToken:
        """A member exchanges the token they signed in with for a new one that only they
        have seen: the old one stops working in the same save. A token an admin issued (at
        registration, say) is thereby no longer known to anyone but the member."""
        secret = self._token_secret()

        def decide(actor: Actor) -> Decision[Credential]:
            old = self._get(Credential, credential_id, "credential")
            if old.member_id != actor.id:
                raise PermissionDeniedError(
                    actor.id, f"rotate credential {old.id}", "only its member rotates a token"
                )
            old.revoke(actor_id=actor.id, reason="rotated")
            new, _ = Credential.issue(actor_id=actor.id, member_id=actor.id, secret=secret)
            return new, [old, new]

        args = {"credential_id": credential_id}
        credential = self._execute(actor_id, request_id, "rotate_token", args, decide)
        return self._issued(credential, secret)

    def issue_card(
        self,
        *,
        actor_id: UUID,
        member_id: UUID,
        team_id: UUID | None = None,
        request_id: str | None = None,
    ) -> IssuedCard:
        """An admin, or a coordinator of a team (`team_id`) whose membership the member
        accepted, prints a member card (爱心服务卡): a sign-in link and a confirmation code
        that consents to spending at the counter. The card before it stops working.
        Whoever printed it has seen its code, so they never take that code at the
        counter, and what is done with its link is listed for auditors."""
        secret = self._token_secret()

        def decide(actor: Actor) -> Decision[Member]:
            member = self._get(Member, member_id, "member")
            if not (actor.is_admin or self._coordinates_accepted(actor, member.id, team_id)):
                raise PermissionDeniedError(
                    actor.id,
                    f"print a card for member {member.id}",
                    "only an admin, or a coordinator of a team the member accepted, may",
                )
            changed: list[Aggregate] = [member]
            if member.card_credential_id is not None:
                old = self._get(Credential, member.card_credential_id, "credential")
                if old.is_active:
                    old.revoke(actor_id=actor.id, reason="replaced by a new card")
                    changed.append(old)
            link, _ = Credential.issue(
                actor_id=actor.id, member_id=member.id, secret=secret, kind=CredentialKind.CARD
            )
            member.issue_card(actor_id=actor.id, secret=secret, credential_id=link.id)
            return member, [*changed, link]

        args = {"member_id": member_id, "team_id": team_id}
        member = self._execute(actor_id, request_id, "issue_card", args, decide)
        if member.card_credential_id is None:  # pragma: no cover - issue_card sets it
            raise NotFoundError("card", member.id)
        link = self._read(Credential, member.card_credential_id, "credential")
        return IssuedCard(
            member_id=member.id,
            card_number=member.card_number,
            code=member.card_code(secret),
            token=self._issued(link, secret),
        )

    def register_agent(
        self,
        *,
        actor_id: UUID,
        member_id: UUID,
        agent_id: UUID,
        since: date | None = None,
        until: date | None = None,
        card_code: str | None = None,
        team_id: UUID | None = None,
        request_id: str | None = None,
    ) -> MemberView:
        """A member names an agent (家属代办: a child acting for an elder) from a day on:
        themself, or at the counter with their card's code, which an admin or a
        coordinator of a team (`team_id`) whose membership the member accepted takes."""

        def decide(actor: Actor) -> Decision[Member]:
            member = self._get(Member, member_id, "member")
            self._read(Member, agent_id, "member")
            action = f"register an agent for member {member.id}"
            if actor.id == member.id:
                consent = "member"
            elif card_code is None:
                raise PermissionDeniedError(
                    actor.id, action, "only the member, or staff with their card's code, may"
                )
            else:
                staff = actor.is_admin or self._coordinates_accepted(actor, member.id, team_id)
                consent = card_consent(
                    actor.id, member, card_code=card_code, staff=staff, action=action
                ).kind.value
            today = self.today()
            member.register_agent(
                actor_id=actor.id,
                agent_id=agent_id,
                since=since or today,
                until=until,
                consent=consent,
                today=today,
            )
            return member, [member]

        args: dict[str, Any] = {
            "member_id": member_id,
            "agent_id": agent_id,
            "since": since,
            "until": until,
            "team_id": team_id,
        }
        if card_code is not None:  # never the code itself (see request_redemption)
            args["card_code"] = "given"
        return MemberView.of(self._execute(actor_id, request_id, "register_agent", args, decide))

    def end_agent(
        self,
        *,
        actor_id: UUID,
        member_id: UUID,
        agent_id: UUID,
        effective_date: date | None = None,
        request_id: str | None = None,
    ) -> MemberView:
        """The member, the agent themself or an admin ends an agency (from today by
        default): taking a power away is always safe."""

        def decide(actor: Actor) -> Decision[Member]:
            member = self._get(Member, member_id, "member")
            if actor.id not in (member.id, agent_id) and not actor.is_admin:
                raise PermissionDeniedError(
                    actor.id,
                    f"end an agent of member {member.id}",
                    "only the member, the agent or an admin may",
                )
            today = self.today()
            day = effective_date or today
            if day < today:
                raise InvalidRequestError("effective_date", "an agency cannot end in the past")
            member.end_agent(actor_id=actor.id, agent_id=agent_id, effective_date=day)
            return member, [member]

        args = {"member_id": member_id, "agent_id": agent_id, "effective_date": effective_date}
        return MemberView.of(self._execute(actor_id, request_id, "end_agent", args, decide))

    def choose_publicity(
        self,
        *,
        actor_id: UUID,
        member_id: UUID,
        anonymous: bool,
        request_id: str | None = None,
    ) -> MemberView:
        """The member (or their agent) chooses whether honour walls and rankings show
        their name to other members."""

        def decide(actor: Actor) -> Decision[Member]:
            member = self._get(Member, member_id, "member")
            require_member_or_agent(
                actor.id, member, today=self.today(), action="choose how the member is shown"
            )
            member.choose_publicity(actor_id=actor.id, anonymous=anonymous)
            return member, [member]

        args = {"member_id": member_id, "anonymous": anonymous}
        return MemberView.of(self._execute(actor_id, request_id, "choose_publicity", args, decide))

    def revoke_token(
        self,
        *,
        actor_id: UUID,
        credential_id: UUID,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> CredentialView:
        """Admins revoke any token, a member their own; it stops working at once."""

        def decide(actor: Actor) -> Decision[Credential]:
            credential = self._get(Credential, credential_id, "credential")
            if not (actor.is_admin or actor.id == credential.member_id):
                raise PermissionDeniedError(
                    actor.id, f"revoke credential {credential.id}", "it is another member's"
                )
            credential.revoke(actor_id=actor.id, reason=reason)
            return credential, [credential]

        args = {"credential_id": credential_id, "reason": reason}
        credential = self._execute(actor_id, request_id, "revoke_token", args, decide)
        return CredentialView.of(credential)

    @reads
    def authenticate(self, token: str) -> UUID | None:
        """The member a bearer token signs in, or None when it is unknown or revoked."""
        credential = self.sign_in(token)
        return None if credential is None else credential.member_id

    @reads
    def sign_in(self, token: str) -> CredentialView | None:
        """The credential a bearer token is, while it signs its member in (None when it is
        unknown or revoked): what a spend records it was made with."""
        digest = digest_of(token)
        try:
            credential: Aggregate = self.repository.get(
                Credential.create_id(digest), deepcopy_from_cache=False
            )
        except AggregateNotFoundError:
            return None
        if not isinstance(credential, Credential) or not credential.is_active:
            return None
        return CredentialView.of(credential) if credential.matches(token) else None

    @reads
    def actor(self, actor_id: UUID) -> Actor:
        """Who is acting, with the global roles they hold right now; an unknown member may
        not act. The HTTP API's read side decides what the caller sees from this."""
        return self._actor(actor_id)


def _row_problem(error: TimebankError) -> tuple[str, str]:
    """Which field of a row an error is about, and what is wrong, in a user's words."""
    if isinstance(error, InvalidRequestError):
        return error.field, error.message
    if isinstance(error, PermissionDeniedError):
        return "volunteer", error.reason
    if isinstance(error, NotFoundError):
        return "volunteer", f"no member {error.id}"
    return "minutes", str(error)
