"""The ledger's exception tree: every refusal is one of these, carrying its data."""

from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID


class TimebankError(Exception):
    """Base class of every refusal the ledger makes."""

    code: ClassVar[str] = "refused"


class NotFoundError(TimebankError):
    """The member, team, service log or redemption does not exist."""

    code: ClassVar[str] = "not_found"

    def __init__(self, kind: str, id: UUID | str) -> None:
        super().__init__(f"{kind} {id} not found")
        self.kind = kind
        self.id = id


class PermissionDeniedError(TimebankError):
    """The acting member may not do this (unknown actor, wrong role, own service)."""

    code: ClassVar[str] = "forbidden"

    def __init__(self, actor_id: UUID, action: str, reason: str) -> None:
        super().__init__(f"member {actor_id} may not {action}: {reason}")
        self.actor_id = actor_id
        self.action = action
        self.reason = reason


class InvalidRequestError(TimebankError):
    """A value breaks a rule of the ledger (range, blank reason, future date)."""

    code: ClassVar[str] = "invalid_request"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ConflictError(TimebankError):
    """The command is well formed but conflicts with the ledger's current state."""

    code: ClassVar[str] = "conflict"


class InvalidStateError(ConflictError):
    """The thing is not in a state that allows the command (resolving twice)."""

    code: ClassVar[str] = "invalid_state"

    def __init__(self, kind: str, id: UUID, state: str, action: str) -> None:
        super().__init__(f"cannot {action} {kind} {id}: it is {state}")
        self.kind = kind
        self.id = id
        self.state = state
        self.action = action


class InsufficientMinutesError(ConflictError):
    """Spending, giving or reversing more minutes than are available.

    The message names the minutes available only when `disclosed`: for the member
    themself (or their agent). Anyone else learns the rule, not what the member holds."""

    code: ClassVar[str] = "insufficient_minutes"

    def __init__(
        self, member_id: UUID, requested: int, available: int, *, disclosed: bool = True
    ) -> None:
        if disclosed:
            message = f"member {member_id} has {available} minutes available, {requested} requested"
        else:
            message = (
                f"member {member_id} does not have {requested} minutes available: "
                "only available minutes can be spent, given or taken back"
            )
        super().__init__(message)
        self.member_id = member_id
        self.requested = requested
        self.available = available
        self.disclosed = disclosed

    def undisclosed(self) -> InsufficientMinutesError:
        """The same refusal, for someone other than the member."""
        return InsufficientMinutesError(
            self.member_id, self.requested, self.available, disclosed=False
        )


class BalanceCapExceededError(ConflictError):
    """Crediting the minutes would take the balance over the configured cap. The message
    states the cap (the rule), never the member's balance."""

    code: ClassVar[str] = "balance_cap_exceeded"

    def __init__(self, member_id: UUID, balance: int, minutes: int, cap: int) -> None:
        super().__init__(
            f"crediting {minutes} minutes would take member {member_id} over "
            f"the balance cap of {cap} minutes"
        )
        self.member_id = member_id
        self.balance = balance
        self.minutes = minutes
        self.cap = cap


class DailyLimitExceededError(ConflictError):
    """Crediting the minutes would take the volunteer past the most the rules allow for one
    service day, across all their logs. The message names the limit, the day and what is
    already credited for it (the volunteer's own service, shown to those who decide it)."""

    code: ClassVar[str] = "daily_limit_exceeded"

    def __init__(
        self, member_id: UUID, service_date: date, limit: int, already: int, minutes: int
    ) -> None:
        super().__init__(
            f"crediting {minutes} minutes for {service_date} would take member {member_id} "
            f"past the daily limit of {limit} minutes ({already} already credited that day)"
        )
        self.member_id = member_id
        self.service_date = service_date
        self.limit = limit
        self.already = already
        self.minutes = minutes


class IdempotencyKeyReusedError(ConflictError):
    """A client request id was used before for a different command."""

    code: ClassVar[str] = "idempotency_key_reused"

    def __init__(self, request_id: str) -> None:
        super().__init__(f"request id {request_id!r} was used for a different command")
        self.request_id = request_id


class ConcurrencyError(ConflictError):
    """Concurrent writers kept winning; the command was retried and gave up."""

    code: ClassVar[str] = "busy"

    def __init__(self, attempts: int) -> None:
        super().__init__(f"gave up after {attempts} conflicting attempts")
        self.attempts = attempts


class RecordsRejectedError(TimebankError):
    """An import was refused because some of its rows break the ledger's rules."""

    code: ClassVar[str] = "invalid_request"

    def __init__(self, problems: list[tuple[int, str, str]]) -> None:
        first = problems[0] if problems else (0, "", "")
        super().__init__(
            f"{len(problems)} rows refused; first at line {first[0]}: {first[1]}: {first[2]}"
        )
        self.problems = problems  # (line, field, message), in line order
