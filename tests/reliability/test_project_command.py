"""`timebank project`: the projections in a process of their own, stopped by a signal."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.reliability.harness import (
    Processes,
    Service,
    check_stored_views,
    open_views,
    replayed_balances,
    server_env,
    wait_for_stored_views,
)
from tests.support import build_community, open_ledger, wait_until

pytestmark = pytest.mark.slow  # a real `timebank project` process


def test_the_projection_process_catches_up_follows_and_stops_on_a_signal(
    processes: Processes, tmp_path: Path
) -> None:
    """It catches up with a ledger written before it started, follows what is written
    while it runs, stops cleanly on SIGTERM, and started again resumes where it stopped
    and stops cleanly on SIGINT; its stored views match a replay and verify."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = open_ledger(url)
    try:
        community = build_community(ledger)
        community.earn(community.li, 120)
        store = open_views(ledger)
        projector = Service(processes, "project", ["project"], server_env(url))
        projector.start()
        wait_for_stored_views(store, ledger.recorder.max_notification_id() or 0)
        check_stored_views(ledger, store, replayed_balances(url))

        ledger.transfer(actor_id=community.li, to_member_id=community.grandma, minutes=45)
        head = ledger.recorder.max_notification_id() or 0
        wait_for_stored_views(store, head)
        check_stored_views(ledger, store, replayed_balances(url))
        assert projector.stop() == 0, projector.tail()
        assert f"stopped on SIGTERM at position {head}" in projector.tail()

        community.earn(community.wang, 30)
        projector.start()
        wait_until(
            lambda: f"views at position {head} " in projector.tail(),
            timeout=60,
            what="the projection process to start again where it stopped",
        )
        wait_for_stored_views(store, ledger.recorder.max_notification_id() or 0)
        check_stored_views(ledger, store, replayed_balances(url))
        assert projector.stop(signal.SIGINT) == 0, projector.tail()
        assert "stopped on SIGINT" in projector.tail()
        store.close()
    finally:
        ledger.close()
