"""Reports a street office files: whole tables read at one position of the ledger.

Each report is read whole (not a page) by the reads every list uses, under the same rule of
who may read what, and states the log position its views had reached: two reports of the
same position agree, and `timebank replay` reproduces any of them. The position is read
before and after the report; a report the views' writer moved under is read again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import select

from projections.balances import balances
from projections.periods import Period
from projections.queries import Reader
from projections.store import VIEWS
from projections.visibility import Viewer
from timebank.errors import ConcurrencyError
from timebank.ledger import SYSTEM_ACTOR_ID
from timebank.stars import star_level

T = TypeVar("T")
Value = int | str

_ALL = 1_000_000  # a report holds every row
_ATTEMPTS = 20


@dataclass(frozen=True)
class Report:
    """A table with the position of the ledger it was computed at."""

    name: str
    title: str
    position: int
    parameters: dict[str, str]
    columns: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]

    def items(self) -> list[dict[str, Value]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def as_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "title": self.title,
            "position": self.position,
            "parameters": self.parameters,
            "columns": list(self.columns),
            "items": self.items(),
        }


def hours(minutes: int) -> str:
    """`12:05`: whole hours and minutes, as a time sheet writes them."""
    sign = "-" if minutes < 0 else ""
    whole, rest = divmod(abs(minutes), 60)
    return f"{sign}{whole}:{rest:02d}"


def at_one_position(reader: Reader, compute: Callable[[], T]) -> tuple[int, T]:
    """What `compute` reads, and the views' position it was read at."""
    for _ in range(_ATTEMPTS):
        before = reader.store.positions()[VIEWS]
        result = compute()
        if reader.store.positions()[VIEWS] == before:
            return before, result
    raise ConcurrencyError(_ATTEMPTS)


def team_rankings(
    reader: Reader, viewer: Viewer, period: Period, *, community: str | None = None
) -> Report:
    """Teams by approved minutes in the period: volunteers, person-times (人次), sessions
    (场次)."""
    position, ranks = at_one_position(
        reader,
        lambda: reader.team_rankings(viewer, period, community=community, limit=_ALL).items,
    )
    return Report(
        name="team-rankings",
        title=f"Team rankings, {period.name}",
        position=position,
        parameters=_given(period=period.name, community=community),
        columns=(
            "rank",
            "team_id",
            "team",
            "community",
            "minutes",
            "hours",
            "volunteers",
            "person_times",
            "sessions",
        ),
        rows=tuple(
            (
                r.rank,
                str(r.team_id),
                r.name,
                r.community,
                r.minutes,
                hours(r.minutes),
                r.volunteers,
                r.person_times,
                r.sessions,
            )
            for r in ranks
        ),
    )


def volunteer_rankings(
    reader: Reader,
    viewer: Viewer,
    period: Period,
    *,
    team_id: UUID | None = None,
    community: str | None = None,
) -> Report:
    """Volunteers by approved minutes in the period, named as the reader may see them."""
    position, ranks = at_one_position(
        reader,
        lambda: (
            reader.volunteer_rankings(
                viewer, period, team_id=team_id, community=community, limit=_ALL
            ).items
        ),
    )
    return Report(
        name="volunteer-rankings",
        title=f"Volunteer rankings, {period.name}",
        position=position,
        parameters=_given(period=period.name, team_id=team_id, community=community),
        columns=("rank", "member_id", "volunteer", "minutes", "hours", "person_times", "sessions"),
        rows=tuple(
            (
                r.rank,
                "" if r.member_id is None else str(r.member_id),
                r.name,
                r.minutes,
                hours(r.minutes),
                r.person_times,
                r.sessions,
            )
            for r in ranks
        ),
    )


def statement(reader: Reader, viewer: Viewer, member_id: UUID) -> Report:
    """Every posting that changed the member's balance, with the balance after it."""

    def read() -> tuple[str, list[Any]]:
        name = reader.profile(viewer, member_id).name
        lines: list[Any] = []
        after: int | None = 0
        while after is not None:
            page = reader.statement(viewer, member_id, after=after, limit=500)
            lines.extend(page.items)
            after = page.next_after
        return name, lines

    position, (name, lines) = at_one_position(reader, read)
    return Report(
        name="statement",
        title=f"Statement of {name}",
        position=position,
        parameters=_given(member_id=member_id),
        columns=(
            "position",
            "recorded_at",
            "kind",
            "minutes",
            "balance_minutes",
            "service_date",
            "activity",
            "team",
            "counterparty",
        ),
        rows=tuple(
            (
                line.position,
                line.recorded_at.isoformat(),
                line.kind,
                line.minutes,
                line.balance_minutes,
                "" if line.service_date is None else line.service_date.isoformat(),
                line.activity or "",
                line.team_name or "",
                line.counterparty_name or line.counterparty,
            )
            for line in lines
        ),
    )


def service_logs(
    reader: Reader,
    viewer: Viewer,
    *,
    team_id: UUID | None = None,
    status: str | None = None,
    served_from: date | None = None,
    served_until: date | None = None,
) -> Report:
    """The service logs the reader may see, by team, status and service-date range, in
    the order they were recorded."""

    def read() -> list[Any]:
        logs: list[Any] = []
        after: UUID | None = None
        while True:
            page = reader.service_logs(
                viewer,
                status=status,
                team_id=team_id,
                served_from=served_from,
                served_until=served_until,
                after=after,
                limit=500,
            )
            logs.extend(page.items)
            if page.next_after is None:
                return logs
            after = page.next_after

    position, logs = at_one_position(reader, read)
    return Report(
        name="service-logs",
        title="Service logs",
        position=position,
        parameters=_given(
            team_id=team_id, status=status, served_from=served_from, served_until=served_until
        ),
        columns=(
            "log_id",
            "service_date",
            "volunteer",
            "team",
            "activity",
            "minutes",
            "approved_minutes",
            "status",
            "recorded_at",
        ),
        rows=tuple(
            (
                str(log.id),
                log.service_date.isoformat(),
                log.volunteer_name,
                log.team_name,
                log.activity,
                log.minutes,
                "" if log.approved_minutes is None else log.approved_minutes,
                log.status,
                log.recorded_at.isoformat(),
            )
            for log in logs
        ),
    )


def _given(**parameters: object) -> dict[str, str]:
    return {
        name: value.isoformat() if isinstance(value, date) else str(value)
        for name, value in parameters.items()
        if value is not None
    }


@dataclass(frozen=True)
class Honoured:
    """One volunteer on an honour wall: their rank and hours in the period, and their star
    level (星级) from lifetime approved hours under the rules of the day."""

    rank: int
    name: str
    minutes: int
    stars: int


@dataclass(frozen=True)
class HonourWall:
    title: str
    period: str
    scope: str  # the team's or community's name, or "" for every team
    position: int
    honoured: tuple[Honoured, ...]


def honour_wall(
    reader: Reader,
    viewer: Viewer,
    period: Period,
    *,
    team_id: UUID | None = None,
    community: str | None = None,
    top: int = 50,
) -> HonourWall:
    """The period's volunteers with approved service, ranked, named as the rankings name
    them to the reader (匿名志愿者 for those who chose so), with their star levels."""
    everyone = Viewer(SYSTEM_ACTOR_ID, sees_everything=True)

    def read() -> tuple[list[Any], list[Any], dict[UUID, int], tuple[int, ...], str]:
        shown = reader.volunteer_rankings(
            viewer, period, team_id=team_id, community=community, limit=top
        ).items
        # The same ranking, in the same order, with every id: for the star levels only.
        full = reader.volunteer_rankings(
            everyone, period, team_id=team_id, community=community, limit=top
        ).items
        ids = [rank.member_id for rank in full if rank.member_id is not None]
        with reader.store.read() as conn:
            earned = dict(
                conn.execute(
                    select(balances.c.member_id, balances.c.earned).where(
                        balances.c.member_id.in_(ids)
                    )
                ).all()
            )
            ladder = reader.rules_on(reader.today(), conn).star_ladder_hours
        scope = ""
        if team_id is not None:
            scope = reader.team(everyone, team_id).name
        elif community is not None:
            scope = community
        return shown, full, earned, ladder, scope

    position, (shown, full, earned, ladder, scope) = at_one_position(reader, read)
    honoured = tuple(
        Honoured(
            rank=seen.rank,
            name=seen.name,
            minutes=seen.minutes,
            stars=star_level(int(earned.get(whole.member_id, 0)), ladder),
        )
        for seen, whole in zip(shown, full, strict=True)
        if seen.minutes > 0
    )
    return HonourWall(
        title="光荣榜",
        period=period.name,
        scope=scope,
        position=position,
        honoured=honoured,
    )


_PAIRING_COLUMNS = (
    "pairing_id",
    "team",
    "community",
    "elder",
    "volunteer",
    "since",
    "until",
    "last_visit",
    "visits",
    "minutes",
)


def _pairing_rows(found: list[Any]) -> tuple[tuple[Value, ...], ...]:
    return tuple(
        (
            str(p.id),
            p.team_name,
            p.community,
            p.beneficiary_name,
            p.volunteer_name or "",
            p.since.isoformat(),
            "" if p.until is None else p.until.isoformat(),
            "" if p.last_visit is None else p.last_visit.isoformat(),
            p.visits,
            p.minutes,
        )
        for p in found
    )


def pairings(
    reader: Reader,
    viewer: Viewer,
    period: Period,
    *,
    team_id: UUID | None = None,
    community: str | None = None,
    active: bool = True,
) -> Report:
    """Care pairings (结对) with their visits and minutes in the period, and the last visit."""
    position, found = at_one_position(
        reader,
        lambda: reader.pairings(
            viewer,
            team_id=team_id,
            community=community,
            active_on=reader.today() if active else None,
            period=period,
        ),
    )
    return Report(
        name="pairings",
        title=f"Pairings, {period.name}",
        position=position,
        parameters=_given(period=period.name, team_id=team_id, community=community),
        columns=_PAIRING_COLUMNS,
        rows=_pairing_rows(found),
    )


def care_gaps(
    reader: Reader,
    viewer: Viewer,
    *,
    days: int,
    team_id: UUID | None = None,
    community: str | None = None,
) -> Report:
    """The elders nobody visited in the last `days` days, longest waiting first."""
    position, found = at_one_position(
        reader,
        lambda: reader.care_gaps(viewer, days=days, team_id=team_id, community=community),
    )
    return Report(
        name="care-gaps",
        title=f"Care gaps, {days} days",
        position=position,
        parameters=_given(days=days, team_id=team_id, community=community),
        columns=_PAIRING_COLUMNS,
        rows=_pairing_rows(found),
    )
