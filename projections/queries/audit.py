"""Reads for auditors: the audit trail and the system accounts."""

from __future__ import annotations

from sqlalchemy import Connection, select

from projections.audit import AuditEntry, audit_trail, entry_of_row
from projections.balances import system_accounts
from projections.queries.base import ReaderBase
from projections.queries.records import Page
from projections.store import ViewStore
from projections.visibility import (
    Viewer,
    require_auditor,
)


class AuditReads(ReaderBase):
    """Reads of the audit trail."""

    # Auditing -----------------------------------------------------------------------------

    def audit_events(self, viewer: Viewer, *, after: int, limit: int) -> Page[AuditEntry]:
        """The audit trail in log order: each event's data and its chained hash."""
        require_auditor(viewer)
        entries = self.audit_entries(after=after, limit=limit + 1)
        shown = entries[:limit]
        return Page(shown, shown[-1].position if len(entries) > limit else None)

    def audit_entries(self, *, after: int, limit: int) -> list[AuditEntry]:
        with self._read() as conn:
            return _entries(conn, self.store, after=after, limit=limit)

    def system_accounts(self) -> dict[str, int]:
        with self._read() as conn:
            return {row.account: int(row.minutes) for row in conn.execute(select(system_accounts))}


def audit_entries(store: ViewStore, *, after: int, limit: int) -> list[AuditEntry]:
    """Audit entries after a position, their data opened (for verify and export, which
    apply no reader's rule: they are the auditor's own tools)."""
    with store.read() as conn:
        return _entries(conn, store, after=after, limit=limit)


def _entries(conn: Connection, store: ViewStore, *, after: int, limit: int) -> list[AuditEntry]:
    rows = conn.execute(
        select(audit_trail)
        .where(audit_trail.c.position > after)
        .order_by(audit_trail.c.position)
        .limit(limit)
    ).all()
    return [entry_of_row(row, store.sealer.opened(row.data)) for row in rows]
