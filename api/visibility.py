"""Who sees what on the read side: one rule for a member's data and the service logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from projections.directory import Directory, LogRow
from timebank.application import Actor
from timebank.errors import PermissionDeniedError

# The rule, as the application's `_require_reader` states it for single records: auditors
# and admins see everything; a member sees what concerns them (their profile, balance and
# statement, the logs they served or logged); a coordinator also sees the members of the
# teams they coordinate today, and those teams' logs. Team membership comes from the
# directory projection, because only it knows which teams a member belongs to.


@dataclass(frozen=True)
class Viewer:
    """The caller as the read side sees them: do they see everything, and which teams do
    they coordinate today."""

    id: UUID
    sees_everything: bool
    coordinated: frozenset[UUID]

    @classmethod
    def of(cls, actor: Actor, directory: Directory, today: date) -> Viewer:
        """Call it holding the runner's lock: it reads the directory's memberships."""
        coordinated = directory.coordinated_by(actor.id, today)
        return cls(actor.id, actor.is_admin or actor.is_auditor, coordinated)

    def may_see_member(self, directory: Directory, member_id: UUID, today: date) -> bool:
        """Their profile, balance and statement."""
        if self.sees_everything or member_id == self.id:
            return True
        return any(row.team_id in self.coordinated for row in directory.teams_of(member_id, today))

    def may_see_log(self, log: LogRow) -> bool:
        return (
            self.sees_everything
            or self.id in (log.volunteer_id, log.logged_by)
            or log.team_id in self.coordinated
        )

    def require_member(self, directory: Directory, member_id: UUID, today: date) -> None:
        if not self.may_see_member(directory, member_id, today):
            raise PermissionDeniedError(
                self.id,
                f"read member {member_id}",
                "it is neither them nor a member of a team they coordinate",
            )


def require_auditor(actor: Actor) -> None:
    """The whole ledger (every event, replays, verification) is for auditors and admins."""
    if not (actor.is_admin or actor.is_auditor):
        raise PermissionDeniedError(actor.id, "audit the ledger", "only auditors and admins may")
