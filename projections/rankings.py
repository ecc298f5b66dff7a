"""Tallies for the rankings: minutes, person-times (人次), volunteers and sessions (场次).

Minutes are approved minutes net of reversals, attributed to the service date, so a late
approval or a reversal changes the period the service belongs to. Person-times count
approved, unreversed logs; a session is one activity of a team on one day (one by one
logs: the same activity text on the same day), and sessions count distinct ones.

The tallies are kept per period a service date falls in (all time, its year, month and
ISO week), so that any period's ranking is one indexed read, never a scan of history:

- `view_attendance`: per team, day, session and volunteer, the logs credited;
- `view_team_sessions`: per team, day and session, how many volunteers attended;
- `view_volunteer_tallies`: per period, team and volunteer: minutes, person-times, sessions;
- `view_team_tallies`: per period and team: minutes, person-times, volunteers, sessions.

A row whose count falls to zero is deleted, so counting rows counts what is there.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from projections.base import ID, METADATA, Batch
from projections.service_logs import service_logs
from timebank.service_logs import ServiceLog

attendance = Table(
    "view_attendance",
    METADATA,
    Column("team_id", ID, primary_key=True),
    Column("service_date", Date, primary_key=True),
    Column("session", Text, primary_key=True),
    Column("volunteer_id", ID, primary_key=True),
    Column("person_times", Integer, nullable=False),
    Column("minutes", BigInteger, nullable=False),
)

team_sessions = Table(
    "view_team_sessions",
    METADATA,
    Column("team_id", ID, primary_key=True),
    Column("service_date", Date, primary_key=True),
    Column("session", Text, primary_key=True),
    Column("attendees", Integer, nullable=False),
)

volunteer_tallies = Table(
    "view_volunteer_tallies",
    METADATA,
    Column("period", String(10), primary_key=True),
    Column("team_id", ID, primary_key=True),
    Column("volunteer_id", ID, primary_key=True),
    Column("minutes", BigInteger, nullable=False),
    Column("person_times", Integer, nullable=False),
    Column("sessions", Integer, nullable=False),
    # A period's ranking sums each volunteer's rows over the teams in scope: read from this
    # index alone, in volunteer order, rather than row by row from the table.
    Index(
        "view_volunteer_tallies_ranking",
        "period",
        "volunteer_id",
        "minutes",
        "person_times",
        "sessions",
        "team_id",
    ),
)

team_tallies = Table(
    "view_team_tallies",
    METADATA,
    Column("period", String(10), primary_key=True),
    Column("team_id", ID, primary_key=True),
    Column("minutes", BigInteger, nullable=False),
    Column("person_times", Integer, nullable=False),
    Column("volunteers", Integer, nullable=False),
    Column("sessions", Integer, nullable=False),
)


@functools.lru_cache(maxsize=4096)
def periods_of(day: date) -> tuple[str, ...]:
    """The periods a service date counts in: all time, its year, its month, its ISO week
    (remembered for the last few thousand days: a batch asks for each of its days often)."""
    iso_year, week, _ = day.isocalendar()
    return (
        "all",
        f"{day.year:04d}",
        f"{day.year:04d}-{day.month:02d}",
        f"{iso_year:04d}-W{week:02d}",
    )


Key = tuple[Any, ...]


class RankingsProjection:
    """Folded after the service logs, whose rows (team, volunteer, day, session) it reads."""

    name: ClassVar[str] = "rankings"
    tables: ClassVar[tuple[Table, ...]] = (
        attendance,
        team_sessions,
        volunteer_tallies,
        team_tallies,
    )

    def fold(self, batch: Batch) -> None:
        credits = batch.of(ServiceLog.Approved, ServiceLog.Reversed)
        if not credits:
            return
        logs = _logs(batch, {logged.event.originator_id for logged in credits})
        # Per team, day, session and volunteer: (person-times, minutes) to add.
        deltas: dict[Key, list[int]] = {}
        for logged in credits:
            event = logged.event
            team, volunteer, day, session, approved = logs[event.originator_id]
            key = (team, day, session, volunteer)
            if isinstance(event, ServiceLog.Approved):
                change = (1, event.minutes)
            else:  # reversed: the minutes it was approved with leave the tallies
                change = (-1, -(approved or 0))
            delta = deltas.setdefault(key, [0, 0])
            delta[0] += change[0]
            delta[1] += change[1]
        present = _apply(
            batch, attendance, ("person_times", "minutes"), deltas, alive=lambda row: row[0] > 0
        )
        # A volunteer who comes to, or no longer counts in, a session: one attendee more or
        # fewer, and one session more or fewer in the volunteer's periods.
        attendees: dict[Key, list[int]] = {}
        per_volunteer: dict[Key, list[int]] = {}
        for (team, day, session, volunteer), (times, minutes) in deltas.items():
            came = present.get((team, day, session, volunteer), 0)
            if came:
                attendees.setdefault((team, day, session), [0])[0] += came
            for period in periods_of(day):
                row = per_volunteer.setdefault((period, team, volunteer), [0, 0, 0])
                row[0] += minutes
                row[1] += times
                row[2] += came
        held = _apply(batch, team_sessions, ("attendees",), attendees, alive=lambda r: r[0] > 0)
        counted = _apply(
            batch,
            volunteer_tallies,
            ("minutes", "person_times", "sessions"),
            per_volunteer,
            alive=lambda row: row[1] > 0,
        )
        per_team: dict[Key, list[int]] = {}
        for (period, team, volunteer), (minutes, times, _) in per_volunteer.items():
            row = per_team.setdefault((period, team), [0, 0, 0, 0])
            row[0] += minutes
            row[1] += times
            row[2] += counted.get((period, team, volunteer), 0)
        for (team, day, _), held_change in held.items():
            for period in periods_of(day):
                per_team.setdefault((period, team), [0, 0, 0, 0])[3] += held_change
        _apply(
            batch,
            team_tallies,
            ("minutes", "person_times", "volunteers", "sessions"),
            per_team,
            alive=lambda row: row[1] > 0,
        )


def _logs(batch: Batch, ids: Iterable[Any]) -> dict[Any, tuple[Any, ...]]:
    """The logs' team, volunteer, day, session and approved minutes, as stored (the service
    logs are folded first: this batch's new logs are in `batch.created`, as written)."""
    created = batch.created.get(service_logs.name, {})
    found: dict[Any, tuple[Any, ...]] = {}
    stored: list[tuple[Any, ...]] = []
    for ident in ids:
        row = created.get(ident)
        if row is None:
            stored.append((ident,))
        else:
            found[ident] = tuple(row[name] for name in _LOG_COLUMNS)
    for (ident,), values in batch.rows_by_keys(service_logs, _LOG_COLUMNS, stored).items():
        found[ident] = values
    return found


_LOG_COLUMNS = ("team_id", "volunteer_id", "service_date", "session", "approved_minutes")


def _apply(
    batch: Batch,
    table: Table,
    counters: Sequence[str],
    deltas: dict[Key, list[int]],
    *,
    alive: Callable[[Sequence[int]], bool],
) -> dict[Key, int]:
    """Add the deltas to the rows of their keys (the table's key columns, in order), write
    the rows back, deleting those no longer alive; return, per key, +1 where a row came
    alive, -1 where it died (keys whose aliveness did not change are left out)."""
    keys = [c.name for c in table.primary_key.columns]
    names = (*keys, *counters)  # a row's columns: its key's, then its counters
    stored = batch.rows_by_keys(table, counters, list(deltas))
    none = (0,) * len(counters)
    changes: dict[Key, int] = {}
    kept: list[dict[str, Any]] = []
    gone: list[Key] = []
    for key, delta in deltas.items():
        before = stored.get(key)
        after = [b + d for b, d in zip(before or none, delta, strict=True)]
        was, now = before is not None and alive(before), alive(after)
        if was != now:
            changes[key] = 1 if now else -1
        if now:
            kept.append(dict(zip(names, (*key, *after), strict=True)))
        elif before is not None:
            gone.append(key)
    batch.upsert(table, kept, keys=keys)
    batch.delete(table, gone)
    return changes
