"""The ledger's events on PostgreSQL: the library's recorder, with large writes sent
statement by statement.

The library saves a transaction's events through psycopg's pipeline mode: the table lock,
the NOTIFY and the insert go out together and are answered together, one round trip. With
psycopg 3.3.9 a pipeline whose insert carries more than about five megabytes never
finishes: the client waits for the answer while the server, idle in `ClientRead`, waits for
the rest of the request (reproduced with psycopg alone, a bytea array of 13,000 rows of 400
bytes). An import of 5,000 paper records saves 15,001 events, about six megabytes, so it
hung. A write above `PIPELINED_BYTES` therefore sends the same statements in the same
transaction without the pipeline, each waiting for its answer: a few more round trips,
which a write that large does not notice. Every ordinary command keeps the pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry

PIPELINED_BYTES = 1 << 20
"""The most event data one write sends through the pipeline: a fifth of where it hangs."""


class LedgerRecorder(PostgresApplicationRecorder):
    """`TimeBank`'s recorder on PostgreSQL (named by `timebank.storage.persistence_env`)."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids: Sequence[int] | None
        if sum(len(event.state) for event in stored_events) <= PIPELINED_BYTES:
            ids = super().insert_events(stored_events, **kwargs)
        else:
            ids = self._insert_unpipelined(stored_events, **kwargs)
        return ids

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _insert_unpipelined(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's `insert_events`, each statement answered before the next is sent
        (its table lock keeps commits in log order, as in the pipeline)."""
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
