"""The ledger's own commands in-process, on a community made for the benchmark."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from timebank import GlobalRole, TeamRole, TimeBank
from timebank.imports import ServiceRecord

SINCE = date(2020, 1, 1)  # every membership starts here, so any recent service date fits
SPREAD_DAYS = 2_000  # services go back at most this many days, all after SINCE


@dataclass(frozen=True)
class Community:
    """An admin, one team with its coordinator, and volunteers who serve in it."""

    app: TimeBank
    admin: UUID
    coordinator: UUID
    team: UUID
    volunteers: list[UUID]
    _services: Iterator[int] = field(default_factory=itertools.count, repr=False, compare=False)

    def service_date(self) -> date:
        """The day of the next service: yesterday in the community's time zone (never in
        the future, whatever the hour), then a day earlier once every volunteer has served,
        so that no volunteer comes near the rules' daily limit however big the ledger."""
        rounds = next(self._services) // len(self.volunteers)
        return self.app.today() - timedelta(days=1 + rounds % SPREAD_DAYS)

    def volunteer(self, i: int) -> UUID:
        return self.volunteers[i % len(self.volunteers)]


def build_community(app: TimeBank, volunteers: int) -> Community:
    admin = app.bootstrap_admin(name="Bench admin").id
    coordinator = app.register_member(actor_id=admin, name="Bench coordinator").id
    team = app.form_team(
        actor_id=admin, name="Bench care", community="Bench street", founded_on=SINCE
    ).id
    app.add_team_member(
        actor_id=admin,
        team_id=team,
        member_id=coordinator,
        role=TeamRole.COORDINATOR,
        effective_date=SINCE,
    )
    people = []
    for i in range(volunteers):
        person = app.register_member(actor_id=admin, name=f"Volunteer {i:05d}").id
        app.add_team_member(
            actor_id=admin,
            team_id=team,
            member_id=person,
            role=TeamRole.VOLUNTEER,
            effective_date=SINCE,
        )
        people.append(person)
    return Community(app, admin, coordinator, team, people)


def register_auditor(app: TimeBank, admin: UUID) -> UUID:
    return app.register_member(actor_id=admin, name="Bench auditor", roles=[GlobalRole.AUDITOR]).id


def _timed(commands: int, command: Callable[[int], object]) -> tuple[int, float]:
    start = time.perf_counter()
    for i in range(commands):
        command(i)
    return commands, time.perf_counter() - start


def command_round(c: Community, commands: int) -> dict[str, tuple[int, float]]:
    """One repeat of every command type: (commands, seconds) each.

    The approvals review the logs this round logged, the fulfilments spend the holds this
    round's redemptions made, so only what is timed differs between rounds.
    """
    app = c.app
    logs: list[UUID] = []
    redemptions: list[UUID] = []

    def log(i: int) -> None:
        view = app.log_service(
            actor_id=c.volunteer(i),
            team_id=c.team,
            service_date=c.service_date(),
            minutes=30,
            activity="care",
        )
        logs.append(view.id)

    def approve(i: int) -> None:
        app.approve_service(actor_id=c.coordinator, service_log_id=logs[i])

    def redeem(i: int) -> None:
        view = app.request_redemption(
            actor_id=c.volunteer(i), team_id=c.team, service="a meal", minutes=5
        )
        redemptions.append(view.id)

    def fulfil(i: int) -> None:
        app.fulfil_redemption(actor_id=c.coordinator, redemption_id=redemptions[i])

    def transfer(i: int) -> None:
        app.transfer(actor_id=c.volunteer(i), to_member_id=c.volunteer(i + 1), minutes=5)

    return {
        "log service": _timed(commands, log),
        "approve": _timed(commands, approve),
        "redeem": _timed(commands, redeem),
        "fulfil": _timed(commands, fulfil),
        "transfer": _timed(commands, transfer),
    }


def import_rows(c: Community, rows: int, label: str) -> int:
    """Enter `rows` approved service records in one import; return the events written.

    An import is a real use case (paper records entered by a coordinator): each row is a
    logged and approved service log and an earning on the volunteer's account, all saved in
    one transaction, so a big ledger grows quickly through the application itself.
    """
    records = [
        ServiceRecord(
            line=i + 1,
            volunteer_id=c.volunteer(i),
            service_date=c.service_date(),
            minutes=30,
            activity="care",
        )
        for i in range(rows)
    ]
    digest = hashlib.sha256(label.encode()).hexdigest()
    c.app.import_service_records(
        actor_id=c.coordinator, team_id=c.team, name=label, digest=digest, records=records
    )
    return 3 * rows + 1
