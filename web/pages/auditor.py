"""An auditor's pages: verify with its findings, replay as of a moment, the trail, export."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.dependencies import AppSettings, Ledger, Runner
from projections.auditor import replay, verify
from projections.export import export_ledger
from projections.visibility import require_auditor
from web.auth import PageReads, PageRoute, SignedIn
from web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False, prefix="/auditor")

TRAIL = 20


@router.get("")
def auditor_home(request: Request, visitor: SignedIn) -> HTMLResponse:
    require_auditor(visitor.viewer)
    return render(request, "auditor.html", {"visitor": visitor})


@router.get("/verify")
def run_verify(request: Request, visitor: SignedIn, ledger: Ledger, runner: Runner) -> HTMLResponse:
    """The whole history checked: the chain, the books, the views; findings as a list."""
    require_auditor(visitor.viewer)
    runner.wait_for(ledger.recorder.max_notification_id() or 0)
    report = verify(ledger, runner.store)
    return render(request, "verify.html", {"visitor": visitor, "report": report})


@router.get("/replay")
def run_replay(
    *,
    request: Request,
    visitor: SignedIn,
    ledger: Ledger,
    reader: PageReads,
    settings: AppSettings,
    as_of: Annotated[datetime | None, Query()] = None,
) -> HTMLResponse:
    """Every balance as of a moment (the community's local time), from the events alone."""
    require_auditor(visitor.viewer)
    result = None
    if as_of is not None:
        moment = as_of if as_of.tzinfo else as_of.replace(tzinfo=ZoneInfo(settings.timezone))
        result = replay(ledger, moment)
    names = {m.id: m.name for m in reader.member_names()} if result else {}
    return render(
        request,
        "replay.html",
        {"visitor": visitor, "result": result, "names": names, "as_of": as_of},
    )


@router.get("/trail")
def trail(
    *,
    request: Request,
    visitor: SignedIn,
    reader: PageReads,
    after: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """The audit trail, every event with its chained hash, a page at a time."""
    page = reader.audit_events(visitor.viewer, after=after, limit=TRAIL)
    return render(request, "trail.html", {"visitor": visitor, "page": page})


@router.get("/export")
def export(visitor: SignedIn, ledger: Ledger, runner: Runner) -> Response:
    """The whole ledger as JSON Lines closed by a checkpoint (as `timebank export`)."""
    require_auditor(visitor.viewer)
    runner.wait_for(ledger.recorder.max_notification_id() or 0)
    out = io.StringIO()
    export_ledger(ledger, runner.store, out)
    return Response(
        out.getvalue(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="timebank-export.jsonl"'},
    )
