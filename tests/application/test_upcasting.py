"""Events stored before a schema change still read: version 1 logs gain `source = None`."""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from projections.auditor import verify
from projections.log import read_events
from projections.runner import ProjectionRunner
from tests.support import TODAY, Community
from timebank import ServiceLog


def test_a_version_1_service_log_is_upcast_when_read(community: Community) -> None:
    app = community.app
    old_id = _store_version_1_log(community)

    old = app.get_service_log(old_id)
    assert (old.minutes, old.activity, old.source) == (60, "home care", None)
    [event] = [e for e in read_events(app) if e.originator_id == old_id]
    assert isinstance(event, ServiceLog.Logged)
    assert event.source is None
    assert (
        app.approve_service(actor_id=community.care_coordinator, service_log_id=old_id).status
        == "approved"
    )


def test_the_audit_trail_hashes_a_version_1_event_as_it_was_stored(
    community: Community,
) -> None:
    """The runner reads the upcast event but must chain the stored version 1 data, which
    verify recomputes from the stored bytes."""
    app = community.app
    _store_version_1_log(community)
    runner = ProjectionRunner(app)
    runner.catch_up()

    report = verify(app, runner.store)
    assert report.ok, report.problems


def _store_version_1_log(community: Community) -> UUID:
    """A service log stored the way version 1 stored it: no `source`, no class version."""
    app = community.app
    log = app.log_service(
        actor_id=community.li,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=60,
        activity="home care",
    )
    [stored] = app.recorder.select_events(log.id)
    state = app.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    del state["source"]  # what a version 1 event looked like

    old_id = uuid4()
    app.recorder.insert_events(
        [StoredEvent(old_id, 1, stored.topic, app.mapper.transcoder.encode(state))]
    )
    return old_id
