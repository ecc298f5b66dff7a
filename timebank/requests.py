"""Client requests: what makes a retried command safe (idempotency by request id)."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

_REQUEST_NAMESPACE = uuid5(NAMESPACE_URL, "timebank:client-request")


class ClientRequest(Aggregate):
    """A command carried out for a client request id, and the result it gave.

    Its id follows from the request id, so the same request saved twice collides in the
    store itself, in the same transaction as the command's own changes.
    """

    TOPIC = "timebank:ClientRequest"

    class Event(Aggregate.Event):
        TOPIC = "timebank:ClientRequest.Event"
        actor_id: UUID

    class Recorded(Event, Aggregate.Created):
        """The command was carried out; repeating the request returns this result."""

        TOPIC = "timebank:ClientRequest.Recorded"
        request_id: str
        command: str
        fingerprint: str
        result_id: UUID
        result_version: int

    @staticmethod
    def create_id(request_id: str) -> UUID:
        return uuid5(_REQUEST_NAMESPACE, request_id)

    @event(Recorded)
    def __init__(
        self,
        *,
        actor_id: UUID,
        request_id: str,
        command: str,
        fingerprint: str,
        result_id: UUID,
        result_version: int,
    ) -> None:
        self.request_id = request_id
        self.command = command
        self.fingerprint = fingerprint
        self.result_id = result_id
        self.result_version = result_version
