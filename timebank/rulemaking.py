"""The community's rules as use cases: adopting a version, reading them, and letting minutes
expire as the rules in force when they were credited said they would."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from timebank.accounts import Account
from timebank.ledger import SYSTEM_ACTOR_ID, Actor, Decision, Ledger, reads
from timebank.policies import Policies, PolicyVersion, Rules


class RuleMaking(Ledger):
    """Admins adopt rules; everyone reads them; expiry runs as the rules' own act."""

    def adopt_policy(
        self,
        *,
        actor_id: UUID,
        changes: Mapping[str, Any],
        effective_on: date | None = None,
        reason: str,
        request_id: str | None = None,
    ) -> PolicyVersion:
        """An admin adopts a new version of the rules, from today or a later day, saying
        why: the version in force on that day with `changes` (only the rules that change).
        Earlier versions stay in the history, and decisions already made keep the version
        that made them."""

        def decide(actor: Actor) -> Decision[Policies]:
            self._require_admin(actor, "adopt the community's rules")
            book = self._policies()
            if book is None:  # the first command of a new ledger: its seed comes first
                book = Policies.start(actor_id=SYSTEM_ACTOR_ID, seed=self.policy.seed)
            else:
                book = self._get(Policies, book.id, "policies")
            day = effective_on or self.today()
            book.adopt(
                actor_id=actor.id,
                rules=book.in_force_on(day).rules.changed(changes),
                effective_on=day,
                reason=reason,
                today=self.today(),
            )
            return book, [book]

        args = {"changes": dict(changes), "effective_on": effective_on, "reason": reason}
        book = self._execute(actor_id, request_id, "adopt_policy", args, decide)
        return book.versions[-1]

    @reads
    def policy_versions(self) -> tuple[PolicyVersion, ...]:
        """Every version adopted, oldest first (the seed alone before a first command)."""
        book = self._policies()
        return (self.rules_in_force(),) if book is None else tuple(book.versions)

    @reads
    def seed_set_aside(self) -> Rules | None:
        """The seed this process was configured with, when the ledger stored another as its
        first version (seed settings count only until a new ledger's first command);
        None when they agree or nothing is stored yet."""
        book = self._policies()
        if book is None or book.versions[0].rules == self.policy.seed:
            return None
        return self.policy.seed

    def expire_minutes(self, *, member_id: UUID) -> int:
        """The member's minutes unspent past their lot's day leave for the expired account
        (an act of the rules, not of anyone: recorded as the system's). Returns how many;
        0 saves nothing."""

        expired = 0

        def decide(actor: Actor) -> Decision[Account]:
            nonlocal expired
            account = self._account(member_id)  # expires what is due, as every command does
            expired = sum(
                e.minutes for e in account.pending_events if isinstance(e, Account.Expired)
            )
            return account, [account] if expired else []

        self._execute(SYSTEM_ACTOR_ID, None, "expire_minutes", {}, decide)
        return expired
