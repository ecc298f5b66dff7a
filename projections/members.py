"""Members as the read side knows them: name, roles, birth date, agents, publicity, card.

Names are personal text: sealed when the ledger encrypts (see `Sealer`).
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    String,
    Table,
    Text,
    and_,
    case,
    or_,
)

from projections.base import ID, METADATA, SEALED, Batch, Instant
from timebank.members import Member, member_code

members = Table(
    "view_members",
    METADATA,
    Column("member_id", ID, primary_key=True),
    Column("name", Text, nullable=False, info=SEALED),
    Column("birth_date", Date),
    Column("registered_at", Instant, nullable=False),
    Column("anonymous", Boolean, nullable=False),
    Column("card_number", Integer, nullable=False),
    Column("card_issued_by", ID),
    Column("code", String(9), nullable=False, index=True),  # the member code (see member_code)
)

member_roles = Table(
    "view_member_roles",
    METADATA,
    Column("member_id", ID, primary_key=True),
    Column("role", String(20), primary_key=True),
)

agents = Table(
    "view_agents",
    METADATA,
    Column("member_id", ID, primary_key=True),
    Column("agent_id", ID, primary_key=True, index=True),
    Column("since", Date, primary_key=True),
    Column("until", Date),  # the first day the agent no longer acts; None: open
)


class MembersProjection:
    """Member.* events; they are few, so each is written as it comes."""

    name: ClassVar[str] = "members"
    tables: ClassVar[tuple[Table, ...]] = (members, member_roles, agents)

    def fold(self, batch: Batch) -> None:
        conn, seal = batch.conn, batch.sealer.seal
        for logged in batch.of(Member.Event):
            event, ident = logged.event, logged.event.originator_id
            match event:
                case Member.Registered(name=name, birth_date=born, roles=roles):
                    conn.execute(
                        members.insert().values(
                            member_id=ident,
                            name=seal(name),
                            birth_date=born,
                            registered_at=event.timestamp,
                            anonymous=False,
                            card_number=0,
                            code=member_code(ident),
                        )
                    )
                    if roles:
                        conn.execute(
                            member_roles.insert(),
                            [{"member_id": ident, "role": role} for role in roles],
                        )
                case Member.RoleGranted(role=role):
                    conn.execute(member_roles.insert().values(member_id=ident, role=role))
                case Member.RoleRevoked(role=role):
                    conn.execute(
                        member_roles.delete().where(
                            member_roles.c.member_id == ident, member_roles.c.role == role
                        )
                    )
                case Member.AgentRegistered(agent_id=agent, since=since, until=until):
                    conn.execute(
                        agents.insert().values(
                            member_id=ident, agent_id=agent, since=since, until=until
                        )
                    )
                case Member.AgentEnded(agent_id=agent, effective_date=day):
                    # Stretches running over the day end on it; later ones are withdrawn.
                    conn.execute(
                        agents.update()
                        .where(
                            agents.c.member_id == ident,
                            agents.c.agent_id == agent,
                            or_(agents.c.until.is_(None), agents.c.until > day),
                        )
                        .values(until=case((agents.c.since > day, agents.c.since), else_=day))
                    )
                case Member.PublicityChosen(anonymous=anonymous):
                    conn.execute(
                        members.update()
                        .where(members.c.member_id == ident)
                        .values(anonymous=anonymous)
                    )
                case Member.CardIssued(card_number=number):
                    conn.execute(
                        members.update()
                        .where(members.c.member_id == ident)
                        .values(card_number=number, card_issued_by=event.actor_id)
                    )


def agency_on(member_column: Column[object], agent_id: object, day: object) -> object:
    """The condition: `agent_id` acts on `day` for the member in `member_column`."""
    return and_(
        agents.c.member_id == member_column,
        agents.c.agent_id == agent_id,
        agents.c.since <= day,
        or_(agents.c.until.is_(None), agents.c.until > day),
    )
