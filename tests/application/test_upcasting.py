"""Events stored before a schema change still read: version 1 logs gain `source = None`."""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from projections.auditor import verify
from projections.log import read_events
from tests.support import TODAY, Community, views_of
from timebank import ServiceLog, TimeBank


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
    with views_of(app) as views:
        report = verify(app, views.store)
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
    assert state.pop("class_version") == 3
    for added in ("source", "activity_id", "pairing_id"):
        del state[added]  # what a version 1 event looked like

    old_id = uuid4()
    app.recorder.insert_events(
        [StoredEvent(old_id, 1, stored.topic, app.mapper.transcoder.encode(state))]
    )
    return old_id


def _store_as_version(app: TimeBank, stored: StoredEvent, version: int, drop: list[str]) -> UUID:
    """A copy of a stored creation event as an earlier class version stored it."""
    state = app.mapper.transcoder.decode(stored.state)
    if version == 1:
        state.pop("class_version")
    else:
        state["class_version"] = version
    for name in drop:
        del state[name]
    copy_id = uuid4()
    app.recorder.insert_events(
        [StoredEvent(copy_id, 1, stored.topic, app.mapper.transcoder.encode(state))]
    )
    return copy_id


def test_events_stored_before_consent_was_recorded_read_as_unrecorded(
    community: Community,
) -> None:
    """Redemptions, gifts, teams and tokens stored before the trust rules still read, and
    say plainly that what they could not record is not known."""
    app = community.app
    community.earn(community.li, 60)
    redemption = app.request_redemption(
        actor_id=community.li, team_id=community.care_team, service="care", minutes=10
    )
    gift = app.transfer(actor_id=community.li, to_member_id=community.wang, minutes=10)
    token = app.issue_token(actor_id=community.admin, member_id=community.li)

    def first(aggregate_id: UUID) -> StoredEvent:
        return app.recorder.select_events(aggregate_id)[0]

    old_redemption = _store_as_version(
        app, first(redemption.id), 1, ["consent", "consented_by", "credential_id"]
    )
    old_gift = _store_as_version(
        app, first(gift.id), 1, ["consent", "consented_by", "credential_id"]
    )
    old_team = _store_as_version(app, first(community.care_team), 1, ["founded_on"])
    old_token = _store_as_version(app, first(token.credential_id), 1, ["kind"])

    read = app.get_redemption(old_redemption)
    assert (read.consent, read.consented_by) == ("unrecorded", None)
    given = app.get_transfer(old_gift)
    assert (given.consent, given.consented_by) == ("member", community.li)
    assert app.get_team(old_team).founded_on is None
    with views_of(app) as views:
        assert views.reader.credential(views.everyone, old_token).kind == "token"


def test_approvals_and_memberships_stored_before_read_with_their_new_fields(
    community: Community,
) -> None:
    app = community.app
    log_id = community.earn(community.li, 60)
    approval = app.recorder.select_events(log_id)[1]
    state = app.mapper.transcoder.decode(approval.state)
    state["class_version"] = 2
    del state["reason"], state["certified_by_recorder"]
    copy_id = uuid4()
    logged = app.recorder.select_events(log_id)[0]
    app.recorder.insert_events(
        [
            StoredEvent(copy_id, 1, logged.topic, logged.state),
            StoredEvent(copy_id, 2, approval.topic, app.mapper.transcoder.encode(state)),
        ]
    )
    [joined] = [
        e for e in app.recorder.select_events(community.care_team) if e.topic.endswith("Joined")
    ][:1]
    old_team = _store_as_version(app, app.recorder.select_events(community.care_team)[0], 1, [])
    member_state = app.mapper.transcoder.decode(joined.state)
    member_state.pop("class_version")
    del member_state["accepted"]
    app.recorder.insert_events(
        [StoredEvent(old_team, 2, joined.topic, app.mapper.transcoder.encode(member_state))]
    )

    log = app.get_service_log(copy_id)
    assert (log.status, log.reason, log.certified_by_recorder) == ("approved", None, None)
    team = app.get_team(old_team)
    assert [m.accepted for m in team.members] == [True]  # memberships before asking count
