"""What the events mean: literal histories in, findings out (`projections.semantics`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from projections.semantics import Meaning

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = "2026-11-20T02:00:00+00:00"  # 10:00 on 20 November in Shanghai


def uid() -> str:
    return str(uuid4())


@dataclass
class Story:
    """A history as verify-export reads one: topics and stored data, in log order."""

    events: list[tuple[int, str, str, dict[str, Any]]] = field(default_factory=list)
    accounts: dict[str, str] = field(default_factory=dict)  # member -> account

    def add(self, topic: str, aggregate_id: str, actor: str, at: str = AT, **data: Any) -> int:
        position = len(self.events) + 1
        body = {"actor_id": actor, "timestamp": at, **data}
        self.events.append((position, f"timebank:{topic}", aggregate_id, body))
        return position

    def member(self) -> str:
        member, account = uid(), uid()
        self.accounts[member] = account
        self.add("Account.Opened", account, ADMIN, member_id=member)
        return member

    def log(self, volunteer: str, minutes: int, *, by: str | None = None) -> str:
        log = uid()
        self.add(
            "ServiceLog.Logged",
            log,
            by or volunteer,
            class_version=2,
            volunteer_id=volunteer,
            minutes=minutes,
        )
        return log

    def approve(self, log: str, by: str, minutes: int) -> int:
        return self.add("ServiceLog.Approved", log, by, class_version=3, minutes=minutes)

    def earn(self, volunteer: str, log: str, by: str, minutes: int) -> int:
        return self.add(
            "Account.Earned",
            self.accounts[volunteer],
            by,
            service_log_id=log,
            minutes=minutes,
            debit="issuance",
            credit=f"member:{volunteer}",
        )

    def earned(self, volunteer: str, minutes: int, by: str) -> str:
        """Service logged, approved and credited, as the ledger records it."""
        log = self.log(volunteer, minutes)
        self.approve(log, by, minutes)
        self.earn(volunteer, log, by, minutes)
        return log

    def request(
        self, member: str, minutes: int, *, by: str | None = None, consent: str = "member"
    ) -> str:
        ref = uid()
        by = by or member
        self.add(
            "Redemption.Requested",
            ref,
            by,
            class_version=2,
            member_id=member,
            minutes=minutes,
            consent=consent,
            consented_by=by if consent == "agent" else member,
        )
        self.add("Account.Held", self.accounts[member], by, redemption_id=ref, minutes=minutes)
        return ref

    def gift(self, giver: str, receiver: str, minutes: int, *, by: str | None = None) -> int:
        """A gift as the ledger records it; the position of its `Transfer.Made`."""
        ref = uid()
        by = by or giver
        made = self.add(
            "Transfer.Made",
            ref,
            by,
            class_version=2,
            from_member_id=giver,
            to_member_id=receiver,
            minutes=minutes,
            consent="member" if by == giver else "agent",
            consented_by=by,
        )
        self.add(
            "Account.Gave",
            self.accounts[giver],
            by,
            transfer_id=ref,
            to_member_id=receiver,
            minutes=minutes,
        )
        self.add(
            "Account.Received",
            self.accounts[receiver],
            by,
            transfer_id=ref,
            from_member_id=giver,
            minutes=minutes,
        )
        return made

    def findings(self) -> set[tuple[int | None, str]]:
        return {(position, kind) for position, kind, _ in self.details()}

    def details(self) -> list[tuple[int | None, str, str]]:
        meaning = Meaning(SHANGHAI)
        for position, topic, aggregate_id, data in self.events:
            meaning.apply(position, topic, aggregate_id, data)
        meaning.finish()
        return meaning.findings


ADMIN = uid()
CHEN = uid()  # a coordinator


@pytest.fixture
def story() -> Story:
    return Story()


def test_a_ledger_kept_by_its_rules_means_what_it_says(story: Story) -> None:
    li, elder, son = story.member(), story.member(), story.member()
    story.earned(li, 600, CHEN)
    wrong = story.earned(li, 90, CHEN)
    story.add("ServiceLog.Reversed", wrong, CHEN, reason="twice")
    story.add("Account.EarningReversed", story.accounts[li], CHEN, service_log_id=wrong, minutes=90)
    spent = story.request(li, 50)
    story.add("Redemption.Fulfilled", spent, CHEN)
    story.add("Account.Redeemed", story.accounts[li], CHEN, redemption_id=spent, minutes=50)
    called_off = story.request(li, 20)
    story.add("Redemption.Cancelled", called_off, li, reason=None)
    story.add("Account.Released", story.accounts[li], li, redemption_id=called_off, minutes=20)
    story.gift(li, elder, 100)
    story.add(
        "Member.AgentRegistered",
        elder,
        elder,
        agent_id=son,
        since="2026-11-20",
        until=None,
        consent="member",
    )
    story.request(elder, 30, by=son, consent="agent")
    assert story.details() == []


def test_a_credit_without_an_approved_log_is_unbacked(story: Story) -> None:
    li = story.member()
    forged = story.earn(li, uid(), CHEN, 1440)
    log = story.log(li, 60)
    early = story.earn(li, log, CHEN, 60)  # logged, never approved
    assert story.findings() == {(forged, "unbacked"), (early, "unbacked")}


def test_a_credit_larger_than_its_approval_is_a_mismatch(story: Story) -> None:
    """The forged, well-chained Earned of 6000 for a log approved at 600."""
    li = story.member()
    log = story.log(li, 600)
    story.approve(log, CHEN, 600)
    forged = story.earn(li, log, CHEN, 6000)
    [(position, kind, detail)] = story.details()
    assert (position, kind) == (forged, "mismatch")
    assert "6000 minutes where 600 were approved" in detail


def test_a_credit_by_someone_else_or_to_someone_else_is_a_mismatch(story: Story) -> None:
    li, wang = story.member(), story.member()
    log = story.log(li, 60)
    story.approve(log, CHEN, 60)
    other = story.earn(wang, log, CHEN, 60)
    log2 = story.log(li, 30)
    story.approve(log2, CHEN, 30)
    stranger = story.earn(li, log2, uid(), 30)
    assert story.findings() == {(other, "mismatch"), (stranger, "mismatch")}


def test_a_log_is_credited_once(story: Story) -> None:
    li = story.member()
    log = story.earned(li, 60, CHEN)
    again = story.earn(li, log, CHEN, 60)
    assert story.findings() == {(again, "unbacked")}


def test_nobody_approves_their_own_service_nor_more_than_was_logged(story: Story) -> None:
    li = story.member()
    log = story.log(li, 60, by=CHEN)
    own = story.approve(log, li, 60)
    story.earn(li, log, li, 60)
    log2 = story.log(li, 60)
    more = story.approve(log2, CHEN, 90)
    story.earn(li, log2, CHEN, 90)
    assert story.findings() == {(own, "rule_breach"), (more, "rule_breach")}


def test_an_approval_never_credited_is_unposted(story: Story) -> None:
    li = story.member()
    log = story.log(li, 60)
    approval = story.approve(log, CHEN, 60)
    assert story.findings() == {(approval, "unposted")}


def test_a_taken_back_credit_needs_a_reversal_of_those_minutes(story: Story) -> None:
    li = story.member()
    log = story.earned(li, 90, CHEN)
    unbacked = story.add(
        "Account.EarningReversed", story.accounts[li], CHEN, service_log_id=log, minutes=90
    )
    story.add("ServiceLog.Reversed", log, CHEN, reason="twice")
    wrong = story.add(
        "Account.EarningReversed", story.accounts[li], CHEN, service_log_id=log, minutes=900
    )
    assert story.findings() == {(unbacked, "unbacked"), (wrong, "mismatch")}


def test_holds_and_spends_follow_their_redemption(story: Story) -> None:
    li = story.member()
    story.earned(li, 600, CHEN)
    unasked = story.add("Account.Held", story.accounts[li], CHEN, redemption_id=uid(), minutes=60)
    ref = story.request(li, 50)
    story.add("Redemption.Fulfilled", ref, CHEN)
    more = story.add("Account.Redeemed", story.accounts[li], CHEN, redemption_id=ref, minutes=500)
    assert story.findings() == {(unasked, "unbacked"), (more, "mismatch")}


def test_whoever_asked_for_a_member_does_not_confirm_the_delivery(story: Story) -> None:
    elder, son = story.member(), story.member()
    story.earned(elder, 600, CHEN)
    story.add(
        "Member.AgentRegistered",
        elder,
        elder,
        agent_id=son,
        since="2026-11-01",
        until=None,
        consent="member",
    )
    ref = story.request(elder, 60, by=son, consent="agent")
    alone = story.add("Redemption.Fulfilled", ref, son)
    story.add("Account.Redeemed", story.accounts[elder], son, redemption_id=ref, minutes=60)
    assert story.findings() == {(alone, "rule_breach")}


def test_a_gift_moves_what_was_given_between_those_members(story: Story) -> None:
    li, grandma, stranger = story.member(), story.member(), story.member()
    story.earned(li, 600, CHEN)
    story.gift(li, grandma, 100)
    unbacked = story.add(
        "Account.Received",
        story.accounts[stranger],
        li,
        transfer_id=uid(),
        from_member_id=li,
        minutes=100,
    )
    ref2 = uid()
    story.add(
        "Transfer.Made",
        ref2,
        li,
        class_version=2,
        from_member_id=li,
        to_member_id=grandma,
        minutes=10,
        consent="member",
        consented_by=li,
    )
    story.add(
        "Account.Gave",
        story.accounts[li],
        li,
        transfer_id=ref2,
        to_member_id=grandma,
        minutes=10,
    )
    elsewhere = story.add(
        "Account.Received",
        story.accounts[stranger],
        li,
        transfer_id=ref2,
        from_member_id=li,
        minutes=10,
    )
    assert story.findings() == {(unbacked, "unbacked"), (elsewhere, "mismatch")}


def agency(story: Story, member: str, agent: str, since: str, until: str | None) -> None:
    story.add(
        "Member.AgentRegistered",
        member,
        member,
        agent_id=agent,
        since=since,
        until=until,
        consent="member",
    )


@pytest.mark.parametrize(
    ("since", "until", "at", "allowed"),
    [
        ("2026-11-20", None, AT, True),
        ("2026-11-21", None, AT, False),  # not yet begun
        ("2026-11-01", "2026-11-20", AT, False),  # ends on the 20th: not on it
        ("2026-11-01", "2026-11-21", AT, True),
        # 16:30 UTC on the 20th is already the 21st in Shanghai, where the ledger decides
        ("2026-11-21", None, "2026-11-20T16:30:00+00:00", True),
        ("2026-11-01", "2026-11-21", "2026-11-20T16:30:00+00:00", False),
    ],
)
def test_an_agent_spends_only_on_days_the_member_named_them_for(
    story: Story, since: str, until: str | None, at: str, allowed: bool
) -> None:
    elder, son = story.member(), story.member()
    story.earned(elder, 600, CHEN)
    agency(story, elder, son, since, until)
    ref = uid()
    asked = story.add(
        "Redemption.Requested",
        ref,
        son,
        at,
        class_version=2,
        member_id=elder,
        minutes=30,
        consent="agent",
        consented_by=son,
    )
    story.add("Account.Held", story.accounts[elder], son, redemption_id=ref, minutes=30)
    assert story.findings() == (set() if allowed else {(asked, "rule_breach")})


def test_an_ended_agency_stops_on_its_date(story: Story) -> None:
    elder, son, grandson = story.member(), story.member(), story.member()
    story.earned(elder, 600, CHEN)
    agency(story, elder, son, "2026-11-01", None)
    story.add("Member.AgentEnded", elder, elder, agent_id=son, effective_date="2026-11-20")
    late = story.gift(elder, grandson, 10, by=son)
    assert story.findings() == {(late, "rule_breach")}


def card(story: Story, member: str, printer: str) -> None:
    story.add(
        "Member.CardIssued",
        member,
        printer,
        card_number=1,
        code_digest="0" * 64,
        code_salt="0" * 32,
        credential_id=uid(),
    )


def counter_redemption(story: Story, member: str, staff: str) -> int:
    ref = uid()
    position = story.add(
        "Redemption.Requested",
        ref,
        staff,
        class_version=2,
        member_id=member,
        minutes=30,
        consent="card",
        consented_by=member,
    )
    story.add("Account.Held", story.accounts[member], staff, redemption_id=ref, minutes=30)
    return position


def test_a_card_consents_only_if_the_member_has_one_and_its_printer_does_not_use_it(
    story: Story,
) -> None:
    elder = story.member()
    story.earned(elder, 600, CHEN)
    no_card = counter_redemption(story, elder, CHEN)
    card(story, elder, ADMIN)
    counter_redemption(story, elder, CHEN)
    printer = counter_redemption(story, elder, ADMIN)
    assert story.findings() == {(no_card, "rule_breach"), (printer, "rule_breach")}


def test_a_spend_on_a_members_behalf_names_a_consent_the_ledger_knows(story: Story) -> None:
    elder = story.member()
    story.earned(elder, 600, CHEN)
    ref = uid()
    claimed = story.add(
        "Redemption.Requested",
        ref,
        CHEN,
        class_version=2,
        member_id=elder,
        minutes=30,
        consent="member",  # the coordinator claims the elder asked herself
        consented_by=elder,
    )
    story.add("Account.Held", story.accounts[elder], CHEN, redemption_id=ref, minutes=30)
    old = uid()
    story.add("Redemption.Requested", old, CHEN, member_id=elder, minutes=30)  # version 1
    story.add("Account.Held", story.accounts[elder], CHEN, redemption_id=old, minutes=30)
    assert story.findings() == {(claimed, "rule_breach")}


def test_a_gift_never_goes_to_whoever_asked_for_it(story: Story) -> None:
    elder, son = story.member(), story.member()
    story.earned(elder, 600, CHEN)
    agency(story, elder, son, "2026-11-01", None)
    to_himself = story.gift(elder, son, 100, by=son)
    assert story.findings() == {(to_himself, "rule_breach")}


def test_data_that_is_not_what_the_ledger_writes_is_a_finding_never_an_error(
    story: Story,
) -> None:
    li = story.member()
    log = story.log(li, 60)
    story.add("ServiceLog.Approved", log, CHEN, minutes="sixty")
    story.add("Account.Earned", story.accounts[li], CHEN, service_log_id=None, minutes=[60])
    story.add("Redemption.Requested", uid(), li, class_version=2, consent=None, timestamp=7)
    story.add("Account.Held", "no-such-account", li, redemption_id={"a": 1}, minutes=-5)
    kinds = {kind for _, kind in story.findings()}
    assert kinds <= {"unbacked", "mismatch", "rule_breach", "unposted"}
    assert kinds
