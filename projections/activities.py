"""Activities (场次) as a coordinator lists them, with their attendees."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Column, Date, Index, Integer, Table, Text

from projections.base import ID, METADATA, SEALED, Batch, Entities, Instant
from timebank.activities import Activity

activities = Table(
    "view_activities",
    METADATA,
    Column("activity_id", ID, primary_key=True),
    Column("team_id", ID, nullable=False),
    Column("service_date", Date, nullable=False),
    Column("activity", Text, nullable=False, info=SEALED),
    Column("place", Text, info=SEALED),
    Column("beneficiaries", Text, info=SEALED),
    Column("recorded_by", ID, nullable=False),
    Column("recorded_at", Instant, nullable=False),
    Column("attendees", Integer, nullable=False),
    Index("view_activities_team", "team_id", "service_date", "activity_id"),
)

attendees = Table(
    "view_activity_attendees",
    METADATA,
    Column("activity_id", ID, primary_key=True),
    Column("member_id", ID, primary_key=True),
    Column("minutes", Integer, nullable=False),
    Column("service_log_id", ID, nullable=False),
)


class ActivitiesProjection:
    name: ClassVar[str] = "activities"
    tables: ClassVar[tuple[Table, ...]] = (activities, attendees)

    def fold(self, batch: Batch) -> None:
        seal, conn = batch.sealer.seal, batch.conn
        recorded = Entities(activities, "activity_id")
        for logged in batch.of(Activity.Event):
            event, ident = logged.event, logged.event.originator_id
            match event:
                case Activity.Recorded():
                    recorded.create(
                        {
                            "activity_id": ident,
                            "team_id": event.team_id,
                            "service_date": event.service_date,
                            "activity": seal(event.activity),
                            "place": seal(event.place),
                            "beneficiaries": seal(event.beneficiaries),
                            "recorded_by": event.actor_id,
                            "recorded_at": event.timestamp,
                            "attendees": len(event.attendees),
                        }
                    )
                    recorded.flush(conn)
                    batch.insert(
                        attendees,
                        [
                            {
                                "activity_id": ident,
                                "member_id": member,
                                "minutes": minutes,
                                "service_log_id": log,
                            }
                            for member, minutes, log in event.attendees
                        ],
                    )
                case Activity.AttendeeAdded(member_id=member, minutes=minutes, service_log_id=log):
                    batch.insert(
                        attendees,
                        [
                            {
                                "activity_id": ident,
                                "member_id": member,
                                "minutes": minutes,
                                "service_log_id": log,
                            }
                        ],
                    )
                    conn.execute(
                        activities.update()
                        .where(activities.c.activity_id == ident)
                        .values(attendees=activities.c.attendees + 1)
                    )
                case Activity.AttendeeRemoved(member_id=member):
                    conn.execute(
                        attendees.delete().where(
                            attendees.c.activity_id == ident, attendees.c.member_id == member
                        )
                    )
                    conn.execute(
                        activities.update()
                        .where(activities.c.activity_id == ident)
                        .values(attendees=activities.c.attendees - 1)
                    )
