"""Sessions kept beside the views: found while they live, gone when ended or expired."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from sqlalchemy import create_engine, select

from web.sessions import Sessions, web_sessions


def test_a_session_is_found_until_it_ends(tmp_path: Path) -> None:
    sessions = Sessions(create_engine(f"sqlite:///{tmp_path}/s.db"))
    member, credential = uuid4(), uuid4()
    session_id, started = sessions.start(member, credential)

    found = sessions.find(session_id)
    sessions.end(session_id)

    assert found == started
    assert found.member_id == member
    assert found.credential_id == credential
    assert sessions.find(session_id) is None
    assert sessions.find("made-up") is None


def test_an_expired_session_signs_nobody_in(tmp_path: Path) -> None:
    sessions = Sessions(create_engine(f"sqlite:///{tmp_path}/s.db"), seconds=-1)

    session_id, _ = sessions.start(uuid4(), None)

    assert sessions.find(session_id) is None


def test_the_table_keeps_no_usable_session_id(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/s.db")
    session_id, _ = Sessions(engine).start(uuid4(), None)

    with engine.connect() as conn:
        stored = conn.execute(select(web_sessions.c.digest)).scalars().all()

    assert session_id not in stored
    assert len(stored) == 1
