"""For auditors and admins: every event with its chained hash, replays, verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.bodies import StrictJSONRoute
from api.dependencies import AuditingViewer, Ledger, Reads, Runner
from api.errors import error_responses
from api.schemas import (
    AuditEventOut,
    AuditEventsOut,
    FindingOut,
    PositionPage,
    ReplayBalanceOut,
    ReplayOut,
    ReplayQuery,
    TrustReportOut,
    VerifyOut,
)
from projections.auditor import replay, verify
from projections.trust import trust_report

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/audit",
    tags=["audit"],
    responses=error_responses(401, 403, 413, 422, 503),
)


@router.get("/events", summary="Read every stored event, a page at a time (auditors, admins)")
def list_events(
    viewer: AuditingViewer, reader: Reads, page: Annotated[PositionPage, Query()]
) -> AuditEventsOut:
    """The audit trail in log order: each event's data and a SHA-256 hash chained to the
    one before, so that an auditor can recompute the chain independently."""
    entries = reader.audit_events(viewer, after=page.after, limit=page.limit)
    return AuditEventsOut(
        items=[AuditEventOut.model_validate(entry) for entry in entries.items],
        next_after=entries.next_after,
    )


@router.get("/replay", summary="Replay every balance as of an instant (auditors, admins)")
def replay_balances(
    viewer: AuditingViewer, ledger: Ledger, query: Annotated[ReplayQuery, Query()]
) -> ReplayOut:
    """Recomputed from the stored events alone, never from a projection: the events
    recorded up to `as_of`, every member's account, the two system accounts and their sum,
    which double entry keeps at zero."""
    result = replay(ledger, query.as_of)
    return ReplayOut(
        as_of=result.as_of,
        events_replayed=result.events_replayed,
        balances=[ReplayBalanceOut.model_validate(row) for row in result.balances],
        system_accounts=result.system,
        total_minutes=result.total,
    )


@router.get("/verify", summary="Verify the chain, the books and the views (auditors, admins)")
def verify_ledger(viewer: AuditingViewer, ledger: Ledger, runner: Runner) -> VerifyOut:
    """Checks every stored event against the audit trail's hash chain, that the accounts
    sum to zero and never went below zero, and that every stored view agrees row by row
    with the log folded afresh up to the view's position. Findings come back as data;
    `ok` is true when there are none."""
    # The audit trail sees every event stored so far before the events are checked
    # against it (the writer folds them now; another process waits for the writer).
    runner.wait_for(ledger.recorder.max_notification_id() or 0)
    report = verify(ledger, runner.store)
    return VerifyOut(
        ok=report.ok,
        events_checked=report.events_checked,
        problems=[FindingOut.model_validate(finding) for finding in report.problems],
    )


@router.get(
    "/trust-report",
    summary="Decisions one person could make alone, listed (auditors, admins)",
)
def get_trust_report(viewer: AuditingViewer, ledger: Ledger) -> TrustReportOut:
    """From the stored events alone: credits that their own recorder certified, per
    coordinator; spends made on a member's behalf, with who consented and how; and spends
    made with a credential that someone other than its member issued."""
    return TrustReportOut.model_validate(trust_report(ledger))
