"""What an insider with write access to the database does, on SQLite and on PostgreSQL.

Statements are written once with `{events}` (the events table), `{pos}` (its log position
column), `{trail}` (the audit trail), `{positions}` (where the views stand) and `?`
placeholders; `run` adapts them to the store the URL names.
"""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg
from psycopg import sql


def run(url: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement on the store, committed, and return any rows it gives."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        text = statement.format(
            events="stored_events",
            pos="rowid",
            trail="view_audit_trail",
            positions="view_positions",
        )
        with sqlite3.connect(parts.path[1:]) as db:
            return [tuple(row) for row in db.execute(text, params).fetchall()]
    schema = parse_qs(parts.query)["schema"][0]
    quoted = sql.Identifier(schema).as_string(None)
    text = (
        statement.format(
            events=f"{quoted}.timebank_events",
            pos="notification_id",
            trail=f"{quoted}.view_audit_trail",
            positions=f"{quoted}.view_positions",
        )
        .replace("%", "%%")
        .replace("?", "%s")
    )
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    with psycopg.connect(base, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute(text.encode(), params)  # the statement is the test's own text
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []


def stored(url: str, topic: str, *, last: bool = False) -> tuple[int, bytes]:
    """The position and stored state of the first (or last) event of a topic."""
    order = "DESC" if last else "ASC"
    [(position, state)] = run(
        url,
        f"SELECT {{pos}}, state FROM {{events}} WHERE topic = ? ORDER BY {{pos}} {order} LIMIT 1",
        (topic,),
    )
    return int(position), bytes(state)


def last_position(url: str) -> int:
    [(position,)] = run(url, "SELECT MAX({pos}) FROM {events}")
    return int(position)


def set_state(url: str, position: int, state: bytes) -> None:
    run(url, "UPDATE {events} SET state = ? WHERE {pos} = ?", (state, position))


def cut_tail(url: str, events: int) -> None:
    """Delete the last events and their audit entries, as if they were never written."""
    keep = last_position(url) - events
    run(url, "DELETE FROM {events} WHERE {pos} > ?", (keep,))
    run(url, "DELETE FROM {trail} WHERE position > ?", (keep,))
    set_audited(url, keep)


def drop_trail_from(url: str, position: int) -> None:
    """Delete the audit trail from a position on, so that the next runner chains the events
    again from there, as they now stand."""
    run(url, "DELETE FROM {trail} WHERE position >= ?", (position,))
    set_audited(url, position - 1)


def set_audited(url: str, position: int) -> None:
    """Move the audit trail's position back: the next writer chains on from its last row."""
    run(url, "UPDATE {positions} SET position = ? WHERE name = 'audit'", (position,))
