"""Teams and their dated memberships, and which memberships their members accepted."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import (
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
    case,
    or_,
)

from projections.base import ID, METADATA, Batch, Instant
from projections.writes import insert_or_ignore
from timebank.teams import Team

teams = Table(
    "view_teams",
    METADATA,
    Column("team_id", ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("community", Text, nullable=False, index=True),
    Column("founded_on", Date),
    Column("formed_at", Instant, nullable=False),
)

memberships = Table(
    "view_memberships",
    METADATA,
    Column("team_id", ID, primary_key=True),
    Column("seq", Integer, primary_key=True),  # the team's version that opened the stretch
    Column("member_id", ID, nullable=False),
    Column("role", String(20), nullable=False),
    Column("since", Date, nullable=False),
    Column("until", Date),  # the first day not covered; None: open; == since: withdrawn
    Column("appointed_by", ID),
    Index("view_memberships_member", "member_id", "team_id"),
)

acceptances = Table(
    "view_acceptances",
    METADATA,
    Column("team_id", ID, primary_key=True),
    Column("member_id", ID, primary_key=True, index=True),
)


class TeamsProjection:
    """Team.* events; they are few, so each is written as it comes, in log order."""

    name: ClassVar[str] = "teams"
    tables: ClassVar[tuple[Table, ...]] = (teams, memberships, acceptances)

    def fold(self, batch: Batch) -> None:
        conn = batch.conn
        for logged in batch.of(Team.Event):
            event, team_id = logged.event, logged.event.originator_id
            match event:
                case Team.Formed(name=name, community=community, founded_on=founded_on):
                    conn.execute(
                        teams.insert().values(
                            team_id=team_id,
                            name=name,
                            community=community,
                            founded_on=founded_on,
                            formed_at=event.timestamp,
                        )
                    )
                case Team.MemberJoined(
                    member_id=member_id, role=role, effective_date=since, accepted=accepted
                ):
                    conn.execute(
                        memberships.update()
                        .where(
                            memberships.c.team_id == team_id,
                            memberships.c.member_id == member_id,
                            memberships.c.until.is_(None),
                        )
                        .values(until=since)
                    )
                    conn.execute(
                        memberships.insert().values(
                            team_id=team_id,
                            seq=event.originator_version,
                            member_id=member_id,
                            role=role,
                            since=since,
                            appointed_by=event.actor_id,
                        )
                    )
                    if accepted:
                        insert_or_ignore(conn, acceptances, team_id=team_id, member_id=member_id)
                case Team.MembershipAccepted(member_id=member_id):
                    insert_or_ignore(conn, acceptances, team_id=team_id, member_id=member_id)
                case Team.MemberLeft(member_id=member_id, effective_date=day):
                    conn.execute(
                        memberships.update()
                        .where(
                            memberships.c.team_id == team_id,
                            memberships.c.member_id == member_id,
                            or_(memberships.c.until.is_(None), memberships.c.until > day),
                        )
                        .values(
                            until=case((memberships.c.since > day, memberships.c.since), else_=day)
                        )
                    )
                    conn.execute(
                        acceptances.delete().where(
                            acceptances.c.team_id == team_id,
                            acceptances.c.member_id == member_id,
                        )
                    )
