"""Signed-in browsers: server-side sessions kept beside the views, so any process serving
the store knows them and signing out ends one everywhere at once.

The cookie holds a random session id; the table keeps only its SHA-256 (whoever reads the
database cannot sign in with it), the member, the credential signed in with (so revoking
that credential ends the session too), the form token (CSRF) and when the session ends.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
)

SESSION_COOKIE = "tb_session"
SESSION_SECONDS = 8 * 3600  # a working day at the service counter

_METADATA = MetaData()

web_sessions = Table(
    "web_sessions",
    _METADATA,
    Column("digest", String(64), primary_key=True),
    Column("member_id", String(36), nullable=False),
    Column("credential_id", String(36), nullable=True),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
)


@dataclass(frozen=True)
class Session:
    member_id: UUID
    credential_id: UUID | None  # None: signed in with the bootstrap admin token
    csrf: str
    expires_at: float


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


class Sessions:
    """The sessions of one store."""

    def __init__(
        self,
        engine: Engine,
        *,
        writes: Callable[[], AbstractContextManager[Connection]] | None = None,
        seconds: int = SESSION_SECONDS,
    ) -> None:
        """`writes` opens a transaction that holds the write lock from its start (the view
        store's writer): a SQLite transaction that read first and wrote second would be
        refused at once, "database is locked", whenever the views' writer wrote between."""
        self.engine = engine
        self.writes = writes or engine.begin
        self.seconds = seconds
        with self.writes() as conn:
            _METADATA.create_all(conn, checkfirst=True)

    def start(self, member_id: UUID, credential_id: UUID | None) -> tuple[str, Session]:
        """A new session: its id (for the cookie only) and what it holds."""
        session_id = secrets.token_urlsafe(32)
        session = Session(
            member_id, credential_id, secrets.token_urlsafe(32), time.time() + self.seconds
        )
        with self.writes() as conn:
            # Ended sessions go whenever a new one starts: the table stays small.
            conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < time.time()))
            conn.execute(
                insert(web_sessions).values(
                    digest=_digest(session_id),
                    member_id=str(member_id),
                    credential_id=None if credential_id is None else str(credential_id),
                    csrf=session.csrf,
                    expires_at=session.expires_at,
                )
            )
        return session_id, session

    def find(self, session_id: str) -> Session | None:
        """The live session of a cookie; None when unknown, ended or expired."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(web_sessions).where(web_sessions.c.digest == _digest(session_id))
            ).first()
        if row is None or row.expires_at < time.time():
            return None
        credential = None if row.credential_id is None else UUID(row.credential_id)
        return Session(UUID(row.member_id), credential, row.csrf, row.expires_at)

    def end(self, session_id: str) -> None:
        with self.writes() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.digest == _digest(session_id)))
