"""Who sees what on the read side: one rule for a member's data, logs, rosters and rankings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from projections.directory import Directory, LogRow
from timebank.application import Actor
from timebank.errors import PermissionDeniedError

# The rule, as the application's `_require_reader` states it for single records: auditors
# and admins see everything; a member sees what concerns them (their profile, balance and
# statement, the logs they served or logged), and an agent they registered sees the same
# of theirs; a coordinator also sees the logs of the teams they coordinate today, and the
# balance and statement of those teams' members who accepted their membership (enrolling
# someone is not a reason to read their data). Rosters are for a team's coordinators;
# rankings name members to those who share a community with them, unless a member chose
# to be anonymous.

ANONYMOUS = "匿名志愿者"
"""How a ranking shows a member whose name the viewer may not see."""


@dataclass(frozen=True)
class Viewer:
    """The caller as the read side sees them: do they see everything, which teams do they
    coordinate today, and in which communities do they serve."""

    id: UUID
    sees_everything: bool
    coordinated: frozenset[UUID]
    communities: frozenset[str]

    @classmethod
    def of(cls, actor: Actor, directory: Directory, today: date) -> Viewer:
        """Call it holding the runner's lock: it reads the directory's memberships."""
        coordinated = directory.coordinated_by(actor.id, today)
        communities = frozenset(
            directory.teams[row.team_id].community for row in directory.teams_of(actor.id, today)
        )
        return cls(actor.id, actor.is_admin or actor.is_auditor, coordinated, communities)

    def may_see_member(self, directory: Directory, member_id: UUID, today: date) -> bool:
        """Their profile, balance and statement."""
        if self.sees_everything or member_id == self.id:
            return True
        member = directory.members.get(member_id)
        if member is not None and member.has_agent_on(self.id, today):
            return True
        return any(
            row.team_id in self.coordinated and row.accepted
            for row in directory.teams_of(member_id, today)
        )

    def may_see_log(self, log: LogRow) -> bool:
        return (
            self.sees_everything
            or self.id in (log.volunteer_id, log.logged_by)
            or log.team_id in self.coordinated
        )

    def may_see_roster(self, team_id: UUID) -> bool:
        return self.sees_everything or team_id in self.coordinated

    def may_see_name(
        self, directory: Directory, member_id: UUID, communities: frozenset[str], today: date
    ) -> bool:
        """In a ranking: members of the viewer's communities (`communities`: those the
        member is ranked in) unless they chose to be anonymous; and whoever may read
        the member's data anyway."""
        if self.may_see_member(directory, member_id, today):
            return True
        member = directory.members.get(member_id)
        return member is not None and not member.anonymous and bool(communities & self.communities)

    def require_member(self, directory: Directory, member_id: UUID, today: date) -> None:
        if not self.may_see_member(directory, member_id, today):
            raise PermissionDeniedError(
                self.id,
                f"read member {member_id}",
                "it is neither them, a member they act for, nor a member of a team they "
                "coordinate who accepted the membership",
            )


def require_auditor(actor: Actor) -> None:
    """The whole ledger (every event, replays, verification) is for auditors and admins."""
    if not (actor.is_admin or actor.is_auditor):
        raise PermissionDeniedError(actor.id, "audit the ledger", "only auditors and admins may")
