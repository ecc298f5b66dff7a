"""Certificates as use cases: issuing one (numbered in the same transaction) and revoking it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from timebank.certificates import (
    Certificate,
    CertificateBook,
    CoveredLog,
    new_verification_code,
)
from timebank.errors import NotFoundError, PermissionDeniedError
from timebank.ledger import SYSTEM_ACTOR_ID, Actor, Decision, Ledger, reads
from timebank.members import Member
from timebank.service_logs import ServiceLog, ServiceStatus
from timebank.teams import Team


@dataclass(frozen=True)
class CertificateView:
    id: UUID
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
    logs: tuple[CoveredLog, ...]
    total_minutes: int
    issued_on: date
    issued_by: UUID
    revoked_on: date | None
    revoke_reason: str | None

    @classmethod
    def of(cls, certificate: Certificate) -> CertificateView:
        return cls(
            id=certificate.id,
            number=certificate.number,
            code=certificate.code,
            organisation=certificate.organisation,
            volunteer_id=certificate.volunteer_id,
            volunteer_name=certificate.volunteer_name,
            period_from=certificate.period_from,
            period_until=certificate.period_until,
            team_id=certificate.team_id,
            team_name=certificate.team_name,
            community=certificate.community,
            logs=tuple(certificate.logs),
            total_minutes=certificate.total_minutes,
            issued_on=certificate.issued_on,
            issued_by=certificate.issued_by,
            revoked_on=certificate.revoked_on,
            revoke_reason=certificate.revoke_reason,
        )


class Certifying(Ledger):
    """Whoever records, certifies (谁记录谁证明): a coordinator of the volunteer's team
    certifies that team's service; an admin certifies any."""

    def issue_certificate(
        self,
        *,
        actor_id: UUID,
        volunteer_id: UUID,
        period_from: date,
        period_until: date,
        log_ids: Sequence[UUID],
        team_id: UUID | None = None,
        community: str | None = None,
        request_id: str | None = None,
    ) -> CertificateView:
        """Certify the volunteer's approved service in the period among `log_ids` (the
        read side proposes them; each is checked here against the log itself): the next
        number of the organisation's year is taken in the same save, so numbers have no
        gaps and no duplicates. The same request id issued twice gives one certificate."""

        def decide(actor: Actor) -> Decision[Certificate]:
            team = None if team_id is None else self._read(Team, team_id, "team")
            # Refusal before existence: only a certifier learns whether the member exists.
            self._require_certifier(actor, volunteer_id, team)
            volunteer = self._read(Member, volunteer_id, "member")
            covered = self._covered(
                volunteer.id,
                period_from=period_from,
                period_until=period_until,
                log_ids=log_ids,
                team=team,
                community=community,
            )
            policy = self._rules_in_force()
            today = self.today()
            book = self._book(actor, policy.rules.certificate_prefix, today.year)
            number, _ = book.take(actor_id=actor.id)
            certificate = Certificate.issue(
                actor_id=actor.id,
                number=number,
                code=new_verification_code(),
                organisation=policy.rules.organisation,
                volunteer_id=volunteer.id,
                volunteer_name=volunteer.name,
                period_from=period_from,
                period_until=period_until,
                team_id=None if team is None else team.id,
                team_name=None if team is None else team.name,
                community=community,
                logs=covered,
                issued_on=today,
                policy_version=policy.version,
            )
            return certificate, [book, certificate]

        # What was asked, not the logs the read side proposed: a retry names the same.
        args = {
            "volunteer_id": volunteer_id,
            "period_from": period_from,
            "period_until": period_until,
            "team_id": team_id,
            "community": community,
        }
        certificate = self._execute(actor_id, request_id, "issue_certificate", args, decide)
        return CertificateView.of(certificate)

    def revoke_certificate(
        self,
        *,
        actor_id: UUID,
        certificate_id: UUID,
        reason: str,
        request_id: str | None = None,
    ) -> CertificateView:
        """The issuer, a coordinator of the certificate's team or an admin revokes it,
        saying why."""

        def decide(actor: Actor) -> Decision[Certificate]:
            certificate = self._get(Certificate, certificate_id, "certificate")
            team = (
                None
                if certificate.team_id is None
                else self._read(Team, certificate.team_id, "team")
            )
            if not (
                actor.id == certificate.issued_by
                or actor.is_admin
                or (team is not None and self._leads(actor, team))
            ):
                raise PermissionDeniedError(
                    actor.id,
                    f"revoke certificate {certificate.number}",
                    "only its issuer, a coordinator of its team or an admin may",
                )
            certificate.revoke(actor_id=actor.id, reason=reason, today=self.today())
            return certificate, [certificate]

        args = {"certificate_id": certificate_id, "reason": reason}
        certificate = self._execute(actor_id, request_id, "revoke_certificate", args, decide)
        return CertificateView.of(certificate)

    @reads
    def get_certificate(self, certificate_id: UUID) -> CertificateView:
        return CertificateView.of(self._read(Certificate, certificate_id, "certificate"))

    def _require_certifier(self, actor: Actor, volunteer_id: UUID, team: Team | None) -> None:
        """An admin certifies any service; a coordinator, the service of a team they
        coordinate today, of a member who accepted its membership. Nobody certifies their
        own service."""
        if actor.id == volunteer_id and actor.id != SYSTEM_ACTOR_ID:
            raise PermissionDeniedError(
                actor.id, "certify their own service", "another coordinator or an admin does"
            )
        if actor.is_admin:
            return
        if team is None:
            raise PermissionDeniedError(
                actor.id,
                "issue a certificate of service in every team",
                "a coordinator certifies their own team's service: name the team",
            )
        if not self._coordinates_accepted(actor, volunteer_id, team.id):
            raise PermissionDeniedError(
                actor.id,
                f"issue certificates of team {team.id}",
                "not a coordinator of the volunteer's team (who accepted it) or an admin",
            )

    def _covered(
        self,
        volunteer_id: UUID,
        *,
        period_from: date,
        period_until: date,
        log_ids: Sequence[UUID],
        team: Team | None,
        community: str | None,
    ) -> list[CoveredLog]:
        """The logs among those proposed that are the volunteer's, approved now, served in
        the period, and of the team or community asked for."""
        covered: dict[UUID, CoveredLog] = {}
        communities: dict[UUID, str] = {}
        for log_id in log_ids:
            try:
                log = self._read(ServiceLog, log_id, "service log")
            except NotFoundError:
                continue
            if (
                log.volunteer_id != volunteer_id
                or log.status is not ServiceStatus.APPROVED
                or not period_from <= log.service_date <= period_until
                or (team is not None and log.team_id != team.id)
            ):
                continue
            if community is not None:
                if log.team_id not in communities:
                    communities[log.team_id] = self._read(Team, log.team_id, "team").community
                if communities[log.team_id] != community:
                    continue
            covered[log.id] = CoveredLog(
                log_id=log.id,
                service_date=log.service_date,
                minutes=log.credited_minutes,
                team_id=log.team_id,
                activity=log.activity,
            )
        return list(covered.values())

    def _book(self, actor: Actor, prefix: str, year: int) -> CertificateBook:
        """The organisation's book of numbers for the year, opened by its first number."""
        try:
            return self._get(CertificateBook, CertificateBook.create_id(prefix, year), "book")
        except NotFoundError:
            return CertificateBook(actor_id=actor.id, prefix=prefix, year=year)
