"""Whether every stored decision kept the community's rules in force when it was made.

Fed the same stream as `projections.semantics` (position, topic, aggregate id, the stored
data as JSON values), it keeps the versions of the rules as the log adopts them and, per
member, the balance, the lots by expiry day and the minutes credited per service day; it
reports as `rule_breach`:

- a decision naming another version of the rules than the one in force on its day;
- a credit over the balance cap or past the day's limit, or whose lot expires on another
  day than the rules say; a gift received over the cap;
- a redemption asked for a member younger than the minimum age, without a hardship the
  rules allowed;
- minutes used or kept past the day their lot expired (an account event while a lot it
  holds is due), and an expiry of minutes that were not due.

Decisions stored before rules were kept in the ledger name version 0 and are not judged.
Memory grows with the members and their lots, never with the events: the minutes credited
per member and service day, which a credit for any earlier day may still need, are kept in
a `Spill`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo
from typing import Any

from projections.spill import Spill
from timebank import lots
from timebank.policies import Rules

Finding = tuple[int | None, str, str]
RULE_BREACH = "rule_breach"


class _Account:
    __slots__ = ("balance", "held", "index", "lots", "member")

    def __init__(self, member: str, index: int) -> None:
        self.member = member
        self.index = index  # the account's part of its keys in `RuleCheck._daily`
        self.balance = 0
        self.lots: lots.Lots = {}
        self.held: dict[str, list[lots.Part]] = {}


class RuleCheck:
    """The fold: `apply` each event in log order; findings go to `findings`."""

    def __init__(self, timezone: tzinfo, findings: list[Finding] | None = None) -> None:
        self.timezone = timezone
        self.findings: list[Finding] = [] if findings is None else findings
        self._versions: list[tuple[int, str, Rules]] = []  # number, effective day, rules
        self._accounts: dict[str, _Account] = {}
        self._births: dict[str, str | None] = {}
        self._daily = Spill()  # "account index:service day" -> minutes credited for it
        self._opened_count = 0
        self._handlers: dict[str, Callable[[int, str, Mapping[str, Any]], None]] = {
            "timebank:Policies.Adopted": self._adopted,
            "timebank:Member.Registered": self._registered,
            "timebank:Account.Opened": self._opened,
            "timebank:Account.Earned": self._earned,
            "timebank:Account.EarningReversed": self._reversed,
            "timebank:Account.Held": self._held,
            "timebank:Account.Released": self._released,
            "timebank:Account.Redeemed": self._redeemed,
            "timebank:Account.Gave": self._gave,
            "timebank:Account.Received": self._received,
            "timebank:Account.Expired": self._expired,
            "timebank:Redemption.Requested": self._requested,
        }

    def handles(self, topic: str) -> bool:
        return topic in self._handlers

    def close(self) -> None:
        """The log ended: let go of the minutes per day."""
        self._daily.close()

    def apply(self, position: int, topic: str, aggregate_id: str, data: Mapping[str, Any]) -> None:
        handler = self._handlers.get(topic)
        if handler is None:
            return
        try:
            handler(position, aggregate_id, data)
        except (KeyError, TypeError, ValueError) as error:
            # Malformed data is the semantics fold's and the books' finding to report.
            del error

    # The rules ------------------------------------------------------------------------------

    def _adopted(self, position: int, _: str, data: Mapping[str, Any]) -> None:
        try:
            rules = Rules.of(dict(data["rules"]))
        except Exception:
            self._breach(position, "a version of the rules that the ledger could not adopt")
            return
        self._versions.append((int(data["version"]), str(data["effective_on"]), rules))

    def _in_force(self, position: int, data: Mapping[str, Any], what: str) -> Rules | None:
        """The rules the decision names, if it names the version in force on its day; a
        breach (and None) otherwise; None without a finding for a version-0 decision."""
        named = data.get("policy_version", 0)
        if not named:
            return None
        day = self._decided(data)
        in_force = None
        for number, effective, rules in reversed(self._versions):
            if day is not None and effective <= day:
                in_force = (number, rules)
                break
        if in_force is None or in_force[0] != named:
            expected = "none" if in_force is None else f"version {in_force[0]}"
            self._breach(
                position, f"{what} names version {named} of the rules; {expected} was in force"
            )
            return None
        return in_force[1]

    # Members and accounts --------------------------------------------------------------------

    def _registered(self, _: int, member: str, data: Mapping[str, Any]) -> None:
        birth = data.get("birth_date")
        self._births[member] = birth if isinstance(birth, str) else None

    def _opened(self, _: int, account: str, data: Mapping[str, Any]) -> None:
        self._opened_count += 1
        self._accounts[account] = _Account(str(data["member_id"]), self._opened_count)

    def _account(self, position: int, account_id: str, data: Mapping[str, Any]) -> _Account:
        """The account, its lots due by the event's day checked: nothing moves while
        minutes that should have expired are still there."""
        account = self._accounts[account_id]
        day = data.get("decided_on")
        if isinstance(day, str):
            due = [(key, minutes) for key, minutes in account.lots.items() if key and key <= day]
            if due:
                late = ", ".join(f"{minutes} minutes due {key}" for key, minutes in sorted(due))
                self._breach(
                    position, f"member {account.member}'s account moved with {late} unexpired"
                )
                for key, _ in due:  # reported once
                    account.lots.pop(key)
        return account

    def _earned(self, position: int, account_id: str, data: Mapping[str, Any]) -> None:
        account = self._account(position, account_id, data)
        minutes, served = int(data["minutes"]), data.get("service_date")
        expires = data.get("expires_on")
        rules = self._in_force(position, data, "a credit")
        if rules is not None:
            self._check_cap(position, account, minutes, rules, "a credit")
            if isinstance(served, str):
                already = self._daily.get(f"{account.index}:{served}", 0)
                if already + minutes > rules.daily_limit_minutes:
                    self._breach(
                        position,
                        f"member {account.member} was credited {already + minutes} minutes for "
                        f"{served}, past the daily limit of {rules.daily_limit_minutes}",
                    )
            if isinstance(served, str):
                should = lots.expires_on(date.fromisoformat(served), rules.expiry_months)
                if (None if should is None else should.isoformat()) != expires:
                    self._breach(
                        position,
                        f"a credit of member {account.member} expires on {expires}; the rules "
                        f"say {should}",
                    )
        account.balance += minutes
        lots.add(account.lots, expires if isinstance(expires, str) else lots.NEVER, minutes)
        if isinstance(served, str):
            key = f"{account.index}:{served}"
            self._daily[key] = self._daily.get(key, 0) + minutes

    def _reversed(self, position: int, account_id: str, data: Mapping[str, Any]) -> None:
        account = self._account(position, account_id, data)
        minutes, served = int(data["minutes"]), data.get("service_date")
        account.balance -= minutes
        lots.take(account.lots, minutes)
        if isinstance(served, str):
            key = f"{account.index}:{served}"
            self._daily[key] = self._daily.get(key, 0) - minutes

    def _held(self, position: int, account_id: str, data: Mapping[str, Any]) -> None:
        account = self._account(position, account_id, data)
        account.held[str(data["redemption_id"])] = lots.take(account.lots, int(data["minutes"]))

    def _released(self, position: int, account_id: str, data: Mapping[str, Any]) -> None:
        account = self._account(position, account_id, data)
        lots.put_back(account.lots, account.held.pop(str(data["redemption_id"]), ()))

    def _redeemed(self, position: int, account_id: str, data: Mapping[str, Any]) -> None:
        account = self._account(position, account_id, data)
        account.held.pop(str(data["redemption_id"]), None)
        account.balance -= int(data["minutes"])

    def _gave(self, position: int, account_id: str, data: Mapping[str, Any]) -> None:
        account = self._account(position, account_id, data)
        account.balance -= int(data["minutes"])
        lots.take(account.lots, int(data["minutes"]))

    def _received(self, position: int, account_id: str, data: Mapping[str, Any]) -> None:
        account = self._account(position, account_id, data)
        minutes = int(data["minutes"])
        rules = self._in_force(position, data, "a gift received")
        if rules is not None:
            self._check_cap(position, account, minutes, rules, "a gift")
        account.balance += minutes
        parts = data.get("lots")
        came = (
            [(str(k), int(m)) for k, m in parts] if parts is not None else [(lots.NEVER, minutes)]
        )
        lots.put_back(account.lots, came)

    def _expired(self, position: int, account_id: str, data: Mapping[str, Any]) -> None:
        account = self._accounts[account_id]
        key, minutes = str(data["expires_on"]), int(data["minutes"])
        day = self._decided(data)
        if account.lots.get(key, 0) != minutes or day is None or key > day:
            self._breach(
                position,
                f"{minutes} minutes of member {account.member} expired on {day}: the lot due "
                f"{key} held {account.lots.get(key, 0)}",
            )
        account.lots.pop(key, None)
        account.balance -= minutes

    # Redemptions ------------------------------------------------------------------------------

    def _requested(self, position: int, _: str, data: Mapping[str, Any]) -> None:
        rules = self._in_force(position, data, "a redemption")
        if rules is None or rules.redemption_min_age is None:
            return
        member = str(data["member_id"])
        birth, day = self._births.get(member), self._decided(data)
        hardship = data.get("hardship")
        if hardship and rules.hardship_exception:
            return
        age = None if birth is None or day is None else _age(birth, day)
        if age is None or age < rules.redemption_min_age:
            self._breach(
                position,
                f"member {member} (age {age if age is not None else 'unknown'}) redeemed under "
                f"the minimum age of {rules.redemption_min_age}",
            )

    # Small things ------------------------------------------------------------------------------

    def _check_cap(
        self, position: int, account: _Account, minutes: int, rules: Rules, what: str
    ) -> None:
        cap = rules.balance_cap_minutes
        if cap is not None and account.balance + minutes > cap:
            self._breach(
                position,
                f"{what} took member {account.member} to {account.balance + minutes} minutes, "
                f"over the cap of {cap}",
            )

    def _decided(self, data: Mapping[str, Any]) -> str | None:
        """The ledger's day a decision was made on, as it recorded it (else the day of its
        timestamp, where the ledger decides "today")."""
        day = data.get("decided_on")
        return day if isinstance(day, str) else self._day(data.get("timestamp"))

    def _day(self, timestamp: Any) -> str | None:
        try:
            instant = datetime.fromisoformat(timestamp)
        except (TypeError, ValueError):
            return None
        if instant.tzinfo is None:
            return None
        return instant.astimezone(self.timezone).date().isoformat()

    def _breach(self, position: int | None, detail: str) -> None:
        self.findings.append((position, RULE_BREACH, detail))


def _age(birth: str, day: str) -> int:
    born, on = date.fromisoformat(birth), date.fromisoformat(day)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
