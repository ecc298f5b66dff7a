"""A review of many logs is saved so that verify reads each approval before its credit."""

from __future__ import annotations

from projections.auditor import verify
from tests.support import TODAY, Community, views_of
from timebank.reviews import Decision


def test_logs_approved_together_verify_clean(community: Community) -> None:
    c, app = community, community.app
    logs = [
        app.log_service(
            actor_id=volunteer,
            team_id=c.care_team,
            service_date=TODAY,
            minutes=60,
            activity="home care",
        ).id
        for volunteer in (c.li, c.wang, c.li)  # two of Li's: one account, two credits
    ]

    app.review_service_logs(
        actor_id=c.care_coordinator,
        decisions=[
            Decision(logs[0], "approve"),
            Decision(logs[1], "approve", 30, "left early"),
            Decision(logs[2], "approve"),
        ],
    )

    with views_of(app) as views:
        views.caught_up()
        report = verify(app, views.store)
    assert report.problems == []
