"""Imports of historical paper records: many service logs entered, approved, all at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from timebank.rules import MAX_TEXT_LENGTH, require_text

_IMPORT_NAMESPACE = uuid5(NAMESPACE_URL, "timebank:service-import")


@dataclass(frozen=True)
class ServiceRecord:
    """One row of a paper record: who served, when, how long, what, for whom."""

    line: int  # where it stands in its file, for error reports
    volunteer_id: UUID
    service_date: date
    minutes: int
    activity: str
    beneficiary: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ImportView:
    id: UUID
    team_id: UUID
    name: str
    rows: int
    minutes: int
    source: str
    imported_by: UUID

    @classmethod
    def of(cls, batch: ServiceImport) -> ImportView:
        return cls(
            id=batch.id,
            team_id=batch.team_id,
            name=batch.name,
            rows=batch.rows,
            minutes=batch.minutes,
            source=batch.source,
            imported_by=batch.imported_by,
        )


class ServiceImport(Aggregate):
    """A file of paper records, entered once: its id follows from the file's digest."""

    TOPIC = "timebank:ServiceImport"

    class Event(Aggregate.Event):
        TOPIC = "timebank:ServiceImport.Event"
        actor_id: UUID

    class Imported(Event, Aggregate.Created):
        """A coordinator entered a file of paper records into a team's history."""

        TOPIC = "timebank:ServiceImport.Imported"
        digest: str
        team_id: UUID
        name: str
        rows: int
        minutes: int

    @staticmethod
    def create_id(digest: str) -> UUID:
        return uuid5(_IMPORT_NAMESPACE, digest)

    @classmethod
    def record(
        cls, *, actor_id: UUID, digest: str, team_id: UUID, name: str, rows: int, minutes: int
    ) -> ServiceImport:
        return cls(
            actor_id=actor_id,
            digest=digest,
            team_id=team_id,
            name=require_text("name", name, max_length=MAX_TEXT_LENGTH),
            rows=rows,
            minutes=minutes,
        )

    @event(Imported)
    def __init__(
        self, *, actor_id: UUID, digest: str, team_id: UUID, name: str, rows: int, minutes: int
    ) -> None:
        self.digest = digest
        self.team_id = team_id
        self.name = name
        self.rows = rows
        self.minutes = minutes
        self.imported_by = actor_id

    @property
    def source(self) -> str:
        return source_of(self.id, self.name)


def source_of(import_id: UUID, name: str) -> str:
    """How each service log of an import names it."""
    return f"import {import_id} ({name})"
