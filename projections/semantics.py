"""What the events mean: every movement of minutes backed by the decision that allows it.

A hash chain shows that events were not changed after they were written; it says nothing
of whether they make sense together. This fold reads the ledger's events in log order (as
their topics and stored data, which verify and verify-export both have) and reports:

- each `Account.Earned` backed by exactly one approval of a service log, for the minutes
  approved, by the approver, to the account of the log's volunteer; each
  `EarningReversed` by a reversal of a credited log, for the minutes it was credited;
- each `Held`, `Released` and `Redeemed` by a redemption requested, cancelled or fulfilled,
  for its minutes, on its member's account; each `Gave` and `Received` by a gift
  (`Transfer.Made`) from and to those members, for its minutes;
- a decision whose movement never came (an approval never credited, say);
- the rules of trust: nobody reviews their own service; whoever asked on a member's behalf
  does not confirm the delivery; a spend with the member's consent (version 2 of a request
  or a gift) names the member, an agent the member had registered for that day, or the
  member's card, whose code its printer did not take; a gift never goes to oneself, nor
  to whoever asked for it on the giver's behalf;
- and, through `projections.rule_check`, every decision against the community's rules in
  force when it was made.

Memory grows with the members and the open items (service logs pending review or awaiting
their credit, redemptions held, gifts half posted), never with the number of events: what
must be kept of every credited log, should it be reversed later, goes to a `Spill`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any

import orjson

from projections.rule_check import RuleCheck
from projections.spill import Spill
from timebank.rules import MAX_MINUTES_PER_LOG

Finding = tuple[int | None, str, str]
"""Where (log position), what kind, and what exactly."""

UNBACKED = "unbacked"  # a movement of minutes, or a decision, with nothing to back it
UNPOSTED = "unposted"  # a decision whose movement of minutes never came
MISMATCH = "mismatch"  # a movement that disagrees with the decision backing it
RULE_BREACH = "rule_breach"  # a decision the ledger's rules of trust forbid

_PENDING, _APPROVED = 1, 2  # a service log awaiting review; approved, awaiting its credit
_REQUESTED, _HELD, _FULFILLED, _CANCELLED = 1, 2, 3, 4


class _Log:
    """A service log still open: pending, or approved and awaiting its credit."""

    __slots__ = ("approved", "approver", "logged_by", "minutes", "position", "status", "volunteer")

    def __init__(self, volunteer: int, minutes: int, logged_by: Any, position: int) -> None:
        self.volunteer = volunteer
        self.minutes = minutes
        self.logged_by = logged_by
        self.status = _PENDING
        self.approved = 0
        self.approver: Any = None
        self.position = position


class _Redemption:
    __slots__ = ("member", "minutes", "position", "requester", "status")

    def __init__(self, member: int, minutes: Any, requester: Any, position: int) -> None:
        self.member = member
        self.minutes = minutes
        self.requester = requester
        self.status = _REQUESTED
        self.position = position


class _Transfer:
    __slots__ = ("gave", "giver", "minutes", "position", "received", "receiver")

    def __init__(self, giver: Any, receiver: Any, minutes: Any, position: int) -> None:
        self.giver = giver
        self.receiver = receiver
        self.minutes = minutes
        self.gave = False
        self.received = False
        self.position = position


class Meaning:
    """The fold. `apply` (or `apply_json`) each event in log order, then `finish`; the
    findings are in `findings`."""

    def __init__(self, timezone: tzinfo) -> None:
        self.timezone = timezone  # where "the day" of an agency is decided, as the ledger does
        self.findings: list[Finding] = []
        self.rules = RuleCheck(timezone, self.findings)
        self._member_index: dict[str, int] = {}
        self._member_ids: list[str] = []
        self._owners: dict[str, int] = {}  # account id -> member index
        self._logs: dict[str, _Log] = {}
        self._credited = Spill()  # log id -> (member, minutes) of its credit
        self._reversing: dict[str, tuple[int, int, Any, int]] = {}  # log -> member, minutes, by
        self._redemptions: dict[str, _Redemption] = {}
        self._transfers: dict[str, _Transfer] = {}
        self._agencies: dict[str, list[list[Any]]] = {}  # member -> [agent, since, until]
        self._card_printers: dict[str, Any] = {}  # member -> who printed their current card
        self._handlers: dict[str, Callable[[int, str, Mapping[str, Any]], None]] = {
            "timebank:Account.Opened": self._opened,
            "timebank:Account.Earned": self._earned,
            "timebank:Account.EarningReversed": self._earning_reversed,
            "timebank:Account.Held": self._held,
            "timebank:Account.Released": self._released,
            "timebank:Account.Redeemed": self._redeemed,
            "timebank:Account.Gave": self._gave,
            "timebank:Account.Received": self._received,
            "timebank:ServiceLog.Logged": self._logged,
            "timebank:ServiceLog.Approved": self._approved,
            "timebank:ServiceLog.Rejected": self._rejected,
            "timebank:ServiceLog.Reversed": self._reversed,
            "timebank:Redemption.Requested": self._requested,
            "timebank:Redemption.Fulfilled": self._fulfilled,
            "timebank:Redemption.Cancelled": self._cancelled,
            "timebank:Transfer.Made": self._made,
            "timebank:Member.AgentRegistered": self._agent_registered,
            "timebank:Member.AgentEnded": self._agent_ended,
            "timebank:Member.CardIssued": self._card_issued,
        }

    # Feeding the fold ------------------------------------------------------------------

    def apply(self, position: int, topic: str, aggregate_id: str, data: Mapping[str, Any]) -> None:
        """One event: its position, topic, aggregate id (as text) and stored data (as JSON
        values: ids and instants as text)."""
        handler = self._handlers.get(topic)
        if handler is not None:
            handler(position, aggregate_id, data)
        self.rules.apply(position, topic, aggregate_id, data)

    def apply_json(self, position: int, topic: str, aggregate_id: str, data_json: str) -> None:
        """`apply`, with the data as JSON text: read only for the events the fold needs."""
        handler = self._handlers.get(topic)
        if handler is None and not self.rules.handles(topic):
            return
        try:
            data = orjson.loads(data_json)
        except orjson.JSONDecodeError:
            self._report(position, UNBACKED, "the event's data is not JSON")
            return
        if isinstance(data, dict):
            if handler is not None:
                handler(position, aggregate_id, data)
            self.rules.apply(position, topic, aggregate_id, data)

    def finish(self) -> None:
        """The log ended: every decision still waiting for its movement never got it."""
        for log_id, log in self._logs.items():
            if log.status == _APPROVED:
                self._report(
                    log.position, UNPOSTED, f"service log {log_id} was approved, never credited"
                )
        for log_id, (_, _, _, position) in self._reversing.items():
            self._report(
                position,
                UNPOSTED,
                f"service log {log_id} was reversed, its credit never taken back",
            )
        for ref, r in self._redemptions.items():
            if r.status == _REQUESTED:
                self._report(r.position, UNPOSTED, f"redemption {ref}: its minutes were never held")
            elif r.status == _FULFILLED:
                self._report(r.position, UNPOSTED, f"redemption {ref}: fulfilled, never spent")
            elif r.status == _CANCELLED:
                self._report(r.position, UNPOSTED, f"redemption {ref}: cancelled, never released")
        for ref, t in self._transfers.items():
            side = "giver" if not t.gave else "receiver"
            self._report(t.position, UNPOSTED, f"transfer {ref}: the {side}'s side never posted")
        self._logs.clear()
        self._reversing.clear()
        self._redemptions.clear()
        self._transfers.clear()
        self._credited.close()
        self.rules.close()

    # Service logs and their credits ------------------------------------------------------

    def _logged(self, position: int, log_id: str, data: Mapping[str, Any]) -> None:
        minutes = _minutes(data)
        if minutes is None or minutes > MAX_MINUTES_PER_LOG:
            self._report(
                position,
                RULE_BREACH,
                f"service log {log_id} logs {data.get('minutes')!r} minutes, not 1 to "
                f"{MAX_MINUTES_PER_LOG}",
            )
        volunteer = self._member(data.get("volunteer_id"))
        self._logs[log_id] = _Log(volunteer, minutes or 0, data.get("actor_id"), position)

    def _decided(
        self, position: int, log_id: str, data: Mapping[str, Any], what: str
    ) -> _Log | None:
        """The pending log an approval or a rejection decides, checked: never by its own
        volunteer (whoever else logged it)."""
        log = self._logs.get(log_id)
        if log is None or log.status != _PENDING:
            self._report(
                position, UNBACKED, f"{what} service log {log_id}, which is not pending review"
            )
            return None
        if data.get("actor_id") == self._member_ids[log.volunteer]:
            self._report(position, RULE_BREACH, f"{what} service log {log_id}: their own service")
        return log

    def _approved(self, position: int, log_id: str, data: Mapping[str, Any]) -> None:
        log = self._decided(position, log_id, data, "approves")
        if log is None:
            return
        minutes = _minutes(data)
        if minutes is None or minutes > log.minutes:
            self._report(
                position,
                RULE_BREACH,
                f"approves {data.get('minutes')!r} minutes of service log {log_id}, "
                f"which logged {log.minutes}",
            )
        log.status = _APPROVED
        log.approved = minutes or 0
        log.approver = data.get("actor_id")
        log.position = position

    def _rejected(self, position: int, log_id: str, data: Mapping[str, Any]) -> None:
        if self._decided(position, log_id, data, "rejects") is not None:
            del self._logs[log_id]

    def _earned(self, position: int, account: str, data: Mapping[str, Any]) -> None:
        log_id = _text(data.get("service_log_id"))
        owner = self._owner(position, account, "credits")
        log = self._logs.get(log_id)
        if log is None or log.status != _APPROVED:
            self._report(
                position,
                UNBACKED,
                f"credits {data.get('minutes')!r} minutes for service log {log_id}, which no "
                "approval awaiting its credit backs",
            )
            return
        del self._logs[log_id]
        minutes = _minutes(data)
        problems = []
        if minutes != log.approved:
            problems.append(f"{data.get('minutes')!r} minutes where {log.approved} were approved")
        if owner is not None and owner != log.volunteer:
            problems.append(
                f"member {self._member_ids[owner]}'s account, where the log's volunteer is "
                f"{self._member_ids[log.volunteer]}"
            )
        if data.get("actor_id") != log.approver:
            problems.append(f"by {data.get('actor_id')}, where {log.approver} approved it")
        if problems:
            self._report(
                position,
                MISMATCH,
                f"the credit of service log {log_id} (approved at position {log.position}): "
                + "; ".join(problems),
            )
        self._credited[_id_key(log_id)] = (log.volunteer, minutes or 0)

    def _reversed(self, position: int, log_id: str, data: Mapping[str, Any]) -> None:
        credit = self._credited.pop(_id_key(log_id), None)
        if credit is None:
            self._report(
                position, UNBACKED, f"reverses service log {log_id}, which holds no credit"
            )
            return
        member, minutes = credit
        if data.get("actor_id") == self._member_ids[member]:
            self._report(position, RULE_BREACH, f"reverses service log {log_id}: their own service")
        self._reversing[log_id] = (member, minutes, data.get("actor_id"), position)

    def _earning_reversed(self, position: int, account: str, data: Mapping[str, Any]) -> None:
        log_id = _text(data.get("service_log_id"))
        owner = self._owner(position, account, "takes back")
        reversal = self._reversing.pop(log_id, None)
        if reversal is None:
            self._report(
                position,
                UNBACKED,
                f"takes back {data.get('minutes')!r} minutes of service log {log_id}, which no "
                "reversal awaiting it backs",
            )
            return
        member, minutes, by, at = reversal
        problems = []
        if _minutes(data) != minutes:
            problems.append(f"{data.get('minutes')!r} minutes where {minutes} were credited")
        if owner is not None and owner != member:
            problems.append(f"from member {self._member_ids[owner]}, not the log's volunteer")
        if data.get("actor_id") != by:
            problems.append(f"by {data.get('actor_id')}, where {by} reversed it")
        if problems:
            self._report(
                position,
                MISMATCH,
                f"taking back service log {log_id} (reversed at position {at}): "
                + "; ".join(problems),
            )

    # Redemptions --------------------------------------------------------------------------

    def _requested(self, position: int, ref: str, data: Mapping[str, Any]) -> None:
        member_id = data.get("member_id")
        actor = data.get("actor_id")
        if data.get("class_version", 1) != 1:  # version 1 did not record the consent
            self._check_consent(position, f"redemption {ref}", member_id, data)
        self._redemptions[ref] = _Redemption(
            self._member(member_id), _minutes(data), actor, position
        )

    def _held(self, position: int, account: str, data: Mapping[str, Any]) -> None:
        self._redemption_moved(
            position, account, data, awaited=_REQUESTED, what="holds", then=_HELD
        )

    def _fulfilled(self, position: int, ref: str, data: Mapping[str, Any]) -> None:
        r = self._redemption_decided(position, ref, "fulfils")
        if r is None:
            return
        requester, member = r.requester, self._member_ids[r.member]
        if requester != member and data.get("actor_id") == requester:
            self._report(
                position,
                RULE_BREACH,
                f"redemption {ref} is fulfilled by {requester}, who asked for it on the "
                "member's behalf",
            )
        r.status, r.position = _FULFILLED, position

    def _cancelled(self, position: int, ref: str, data: Mapping[str, Any]) -> None:
        r = self._redemption_decided(position, ref, "cancels")
        if r is not None:
            r.status, r.position = _CANCELLED, position

    def _redeemed(self, position: int, account: str, data: Mapping[str, Any]) -> None:
        self._redemption_moved(
            position, account, data, awaited=_FULFILLED, what="spends", then=None
        )

    def _released(self, position: int, account: str, data: Mapping[str, Any]) -> None:
        self._redemption_moved(
            position, account, data, awaited=_CANCELLED, what="releases", then=None
        )

    def _redemption_decided(self, position: int, ref: str, what: str) -> _Redemption | None:
        r = self._redemptions.get(ref)
        if r is None or r.status != _HELD:
            self._report(position, UNBACKED, f"{what} redemption {ref}, which holds no minutes")
            return None
        return r

    def _redemption_moved(
        self,
        position: int,
        account: str,
        data: Mapping[str, Any],
        *,
        awaited: int,
        what: str,
        then: int | None,
    ) -> None:
        ref = _text(data.get("redemption_id"))
        owner = self._owner(position, account, what)
        r = self._redemptions.get(ref)
        if r is None or r.status != awaited:
            self._report(
                position,
                UNBACKED,
                f"{what} {data.get('minutes')!r} minutes for redemption {ref}, which no "
                "decision awaiting it backs",
            )
            return
        problems = []
        if _minutes(data) != r.minutes:
            problems.append(f"{data.get('minutes')!r} minutes where it is for {r.minutes}")
        if owner is not None and owner != r.member:
            problems.append(
                f"on member {self._member_ids[owner]}'s account, where it is "
                f"{self._member_ids[r.member]}'s"
            )
        if problems:
            self._report(position, MISMATCH, f"redemption {ref}: " + "; ".join(problems))
        if then is None:
            del self._redemptions[ref]
        else:
            r.status = then

    # Transfers ----------------------------------------------------------------------------

    def _made(self, position: int, ref: str, data: Mapping[str, Any]) -> None:
        giver, receiver, actor = (
            data.get("from_member_id"),
            data.get("to_member_id"),
            data.get("actor_id"),
        )
        if giver == receiver:
            self._report(position, RULE_BREACH, f"transfer {ref} gives a member's minutes to them")
        elif actor != giver and receiver == actor:
            self._report(
                position,
                RULE_BREACH,
                f"transfer {ref} gives minutes on the giver's behalf to whoever asked for it",
            )
        if data.get("class_version", 1) != 1:  # version 1 gifts were all the giver's own
            self._check_consent(position, f"transfer {ref}", giver, data)
        self._transfers[ref] = _Transfer(giver, receiver, _minutes(data), position)

    def _gave(self, position: int, account: str, data: Mapping[str, Any]) -> None:
        self._leg(position, account, data, giving=True)

    def _received(self, position: int, account: str, data: Mapping[str, Any]) -> None:
        self._leg(position, account, data, giving=False)

    def _leg(self, position: int, account: str, data: Mapping[str, Any], *, giving: bool) -> None:
        ref = _text(data.get("transfer_id"))
        what = "gives" if giving else "receives"
        owner = self._owner(position, account, what)
        t = self._transfers.get(ref)
        if t is None or (t.gave if giving else t.received):
            self._report(
                position,
                UNBACKED,
                f"{what} {data.get('minutes')!r} minutes for transfer {ref}, which no gift "
                "awaiting it backs",
            )
            return
        holder, other = (t.giver, t.receiver) if giving else (t.receiver, t.giver)
        other_field = "to_member_id" if giving else "from_member_id"
        problems = []
        if _minutes(data) != t.minutes:
            problems.append(f"{data.get('minutes')!r} minutes where {t.minutes} were given")
        if owner is not None and self._member_ids[owner] != holder:
            problems.append(f"on member {self._member_ids[owner]}'s account, not {holder}'s")
        if data.get(other_field) != other:
            problems.append(f"names member {data.get(other_field)}, not {other}")
        if problems:
            self._report(position, MISMATCH, f"transfer {ref}: " + "; ".join(problems))
        if giving:
            t.gave = True
        else:
            t.received = True
        if t.gave and t.received:
            del self._transfers[ref]

    # Consent ------------------------------------------------------------------------------

    def _check_consent(
        self, position: int, what: str, member_id: Any, data: Mapping[str, Any]
    ) -> None:
        """The consent a spend records is one the ledger could have given it."""
        consent, by, actor = data.get("consent"), data.get("consented_by"), data.get("actor_id")
        problem = None
        if consent == "member":
            if actor != member_id or by != member_id:
                problem = f"records the member's own consent, but {actor} asked"
        elif consent == "agent":
            day = self._day(data.get("timestamp"))
            if by != actor or actor == member_id:
                problem = f"records an agent's consent given by {by}, but {actor} asked"
            elif day is None or not self._agent_on(member_id, actor, day):
                problem = (
                    f"records the consent of agent {actor}, whom the member had not "
                    f"registered for {day or 'that day'}"
                )
        elif consent == "card":
            printer = self._card_printers.get(_text(member_id), _NO_CARD)
            if by != member_id:
                problem = f"records the consent of the member's card, given by {by}"
            elif printer is _NO_CARD:
                problem = "records the consent of the member's card, but the member had none"
            elif printer == actor:
                problem = f"takes the code of the member's card from {actor}, who printed it"
        else:
            problem = f"records no consent the ledger knows ({consent!r})"
        if problem is not None:
            self._report(position, RULE_BREACH, f"{what} {problem}")

    def _agent_registered(self, position: int, member_id: str, data: Mapping[str, Any]) -> None:
        self._agencies.setdefault(member_id, []).append(
            [data.get("agent_id"), _text(data.get("since")), data.get("until")]
        )

    def _agent_ended(self, position: int, member_id: str, data: Mapping[str, Any]) -> None:
        """As `Member.end_agent`: a stretch that runs over the date ends on it (or, not yet
        begun, is withdrawn: it then ends where it starts)."""
        agent, effective = data.get("agent_id"), _text(data.get("effective_date"))
        for agency in self._agencies.get(member_id, ()):
            if agency[0] == agent and (agency[2] is None or _text(agency[2]) > effective):
                agency[2] = max(agency[1], effective)

    def _card_issued(self, position: int, member_id: str, data: Mapping[str, Any]) -> None:
        self._card_printers[member_id] = data.get("actor_id")

    def _agent_on(self, member_id: Any, agent: Any, day: str) -> bool:
        return any(
            a == agent and since <= day and (until is None or day < _text(until))
            for a, since, until in self._agencies.get(_text(member_id), ())
        )

    def _day(self, timestamp: Any) -> str | None:
        """The day an instant falls on where the ledger decides "today"."""
        try:
            instant = datetime.fromisoformat(timestamp)
        except (TypeError, ValueError):
            return None
        if instant.tzinfo is None:
            return None
        return instant.astimezone(self.timezone).date().isoformat()

    # Small things -------------------------------------------------------------------------

    def _member(self, member_id: Any) -> int:
        """A small number for a member id, so open items hold no copies of ids."""
        key = _text(member_id)
        index = self._member_index.get(key)
        if index is None:
            index = self._member_index[key] = len(self._member_ids)
            self._member_ids.append(key)
        return index

    def _opened(self, position: int, account: str, data: Mapping[str, Any]) -> None:
        self._owners[account] = self._member(data.get("member_id"))

    def _owner(self, position: int, account: str, what: str) -> int | None:
        owner = self._owners.get(account)
        if owner is None:
            self._report(position, UNBACKED, f"{what} minutes on account {account}, never opened")
        return owner

    def _report(self, position: int | None, kind: str, detail: str) -> None:
        self.findings.append((position, kind, detail))


_NO_CARD = object()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _minutes(data: Mapping[str, Any]) -> int | None:
    """The event's minutes when they are a whole number above zero, else None."""
    minutes = data.get("minutes")
    if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0:
        return minutes
    return None


def _id_key(ident: str) -> bytes | str:
    """An id as its 16 bytes (less than half its text), for the credited logs kept until
    they are reversed; text that is not an id is kept as it is."""
    try:
        return bytes.fromhex(ident.replace("-", ""))
    except ValueError:
        return ident
