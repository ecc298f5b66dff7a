"""The read side as a client meets it: reads never wait for each other, and a read after a
write reflects it on any process serving the store."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import threads
from api.app import create_app
from projections.queries import Reader
from tests.api.conftest import ADMIN_TOKEN, World, bearer, make_settings
from tests.support import fixed_clock


def test_a_slow_read_does_not_stall_another_read_of_the_same_process(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ranking stuck in its query (held here until released) while a balance is read."""
    entered, release = threading.Event(), threading.Event()
    ranked = Reader.team_rankings

    def slow(self: Reader, *args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(timeout=30)
        return ranked(self, *args, **kwargs)

    monkeypatch.setattr(Reader, "team_rankings", slow)
    answers: list[int] = []
    stuck = threading.Thread(
        target=lambda: answers.append(world.call("volunteer", "GET", "/rankings/teams").status_code)
    )
    stuck.start()
    try:
        assert entered.wait(timeout=30)
        balance = world.call("volunteer", "GET", f"/members/{world.volunteer}/balance")
        assert balance.status_code == 200  # answered while the ranking is still stuck
        assert stuck.is_alive()
    finally:
        release.set()
        stuck.join(timeout=30)
    assert answers == [200]


def test_health_answers_while_every_turn_is_taken(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A probe does not queue behind reads (api/threads.py): here one read holds the only
    turn for as long as the test keeps it stuck."""
    monkeypatch.setattr(threads, "PATIENCE", 60.0)
    entered, release = threading.Event(), threading.Event()
    ranked = Reader.team_rankings

    def slow(self: Reader, *args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(timeout=30)
        return ranked(self, *args, **kwargs)

    monkeypatch.setattr(Reader, "team_rankings", slow)
    stuck = threading.Thread(target=lambda: world.call("volunteer", "GET", "/rankings/teams"))
    stuck.start()
    try:
        assert entered.wait(timeout=30)
        probe = world.call("volunteer", "GET", "/health")
        assert probe.json() == {"status": "ok"}
        assert stuck.is_alive()
    finally:
        release.set()
        stuck.join(timeout=30)


def two_processes(tmp_path: Path) -> tuple[TestClient, TestClient]:
    """Two processes serving one SQLite file: the first writes the views, the second only
    reads them (and no follower of its own brings them on)."""
    settings = make_settings(tmp_path)
    writer = TestClient(create_app(settings, clock=fixed_clock))
    reader = TestClient(create_app(settings, clock=fixed_clock))
    return writer, reader


def test_a_read_on_the_writer_reflects_a_write_another_process_served(tmp_path: Path) -> None:
    """The writer's own follower is stopped: only the caller's recorded write can tell
    the read on it how far the views must be brought first."""
    writer, reader = two_processes(tmp_path)
    with writer, reader:
        assert writer.app.state.projections.is_writer  # type: ignore[attr-defined]
        assert not reader.app.state.projections.is_writer  # type: ignore[attr-defined]
        writer.app.state.projections.stop()  # type: ignore[attr-defined]
        writer.app.state.projections.claim()  # type: ignore[attr-defined]

        member = reader.post("/members", json={"name": "Zhang"}, headers=bearer(ADMIN_TOKEN))
        seen = writer.get(f"/members/{member.json()['id']}", headers=bearer(ADMIN_TOKEN))

        assert member.status_code == 201, member.text
        assert seen.status_code == 200, seen.text
        assert seen.json()["name"] == "Zhang"


def test_a_read_on_a_reading_process_waits_for_the_writer(tmp_path: Path) -> None:
    writer, reader = two_processes(tmp_path)
    with writer, reader:
        member = writer.post("/members", json={"name": "Zhang"}, headers=bearer(ADMIN_TOKEN))
        seen = reader.get(f"/members/{member.json()['id']}", headers=bearer(ADMIN_TOKEN))

        assert seen.status_code == 200, seen.text
        assert seen.json()["name"] == "Zhang"
