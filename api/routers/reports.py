"""Reports as a street office files them: whole tables at one ledger position, as JSON, CSV
or XLSX (`?format=`, or the `Accept` header)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query
from fastapi.responses import HTMLResponse
from fastapi.responses import Response as RawResponse

from api.bodies import StrictJSONRoute
from api.certificate_schemas import (
    CareGapReportQuery,
    HonourWallQuery,
    LogReportQuery,
    PairingReportQuery,
    RankingReportQuery,
    ReportFormat,
    ReportOut,
    ReportQuery,
    VolunteerReportQuery,
)
from api.dependencies import Reads, ViewerOf
from api.documents.honour_wall import honour_wall_html, honour_wall_pdf
from api.documents.tables import CSV_TYPE, XLSX_TYPE, file_name, to_csv, to_xlsx
from api.errors import error_responses
from projections.periods import parse_period
from projections.queries import reports
from projections.queries.reports import Report

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/reports",
    tags=["reports"],
    responses={
        **error_responses(401, 403, 413, 422, 503),
        200: {
            "content": {"text/csv": {}, XLSX_TYPE: {}},
            "description": "The report; as CSV or XLSX with `format` or `Accept`.",
        },
    },
)

Accept = Annotated[str | None, Header(include_in_schema=False)]


def answer(report: Report, chosen: ReportFormat | None, accept: str | None) -> Any:
    """The report in the format asked for: the query's, else the Accept header's."""
    wanted = chosen or accepted(accept)
    if wanted == "json":
        return ReportOut.model_validate(report.as_json())
    content, media, extension = (
        (to_csv(report), CSV_TYPE, "csv")
        if wanted == "csv"
        else (to_xlsx(report), XLSX_TYPE, "xlsx")
    )
    return RawResponse(
        content,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{file_name(report, extension)}"',
            "X-Ledger-Position": str(report.position),
        },
    )


def accepted(accept: str | None) -> ReportFormat:
    text = (accept or "").lower()
    if "text/csv" in text:
        return "csv"
    if XLSX_TYPE in text:
        return "xlsx"
    return "json"


@router.get(
    "/team-rankings",
    response_model=ReportOut,
    summary="Team rankings of a period: minutes, volunteers, person-times, sessions (members)",
)
def team_rankings_report(
    reader: Reads,
    viewer: ViewerOf,
    query: Annotated[RankingReportQuery, Query()],
    accept: Accept = None,
) -> Any:
    report = reports.team_rankings(
        reader, viewer, parse_period(query.period), community=query.community
    )
    return answer(report, query.format, accept)


@router.get(
    "/volunteer-rankings",
    response_model=ReportOut,
    responses=error_responses(404),
    summary="Volunteer rankings of a period (members; names as the rankings show them)",
)
def volunteer_rankings_report(
    reader: Reads,
    viewer: ViewerOf,
    query: Annotated[VolunteerReportQuery, Query()],
    accept: Accept = None,
) -> Any:
    report = reports.volunteer_rankings(
        reader,
        viewer,
        parse_period(query.period),
        team_id=query.team_id,
        community=query.community,
    )
    return answer(report, query.format, accept)


@router.get(
    "/members/{member_id}/statement",
    response_model=ReportOut,
    responses=error_responses(404),
    summary="A member's whole statement (the member, their coordinators, auditors, admins)",
)
def statement_report(
    member_id: UUID,
    reader: Reads,
    viewer: ViewerOf,
    query: Annotated[ReportQuery, Query()],
    accept: Accept = None,
) -> Any:
    return answer(reports.statement(reader, viewer, member_id), query.format, accept)


@router.get(
    "/service-logs",
    response_model=ReportOut,
    summary="Service logs by team, status and service-date range (the logs the caller sees)",
)
def service_log_report(
    reader: Reads,
    viewer: ViewerOf,
    query: Annotated[LogReportQuery, Query()],
    accept: Accept = None,
) -> Any:
    report = reports.service_logs(
        reader,
        viewer,
        team_id=query.team_id,
        status=query.status,
        served_from=query.served_from,
        served_until=query.served_until,
    )
    return answer(report, query.format, accept)


@router.get(
    "/honour-wall",
    responses={
        **error_responses(404),
        200: {"content": {"text/html": {}, "application/pdf": {}}, "description": "The wall."},
    },
    summary="The honour wall (光荣榜) of a team or community for a period, as a page or PDF "
    "(members)",
)
def honour_wall(
    reader: Reads, viewer: ViewerOf, query: Annotated[HonourWallQuery, Query()]
) -> RawResponse:
    """The period's volunteers with approved service, ranked by hours, with their star
    levels; named as the rankings name them (匿名志愿者 for those who chose so)."""
    wall = reports.honour_wall(
        reader,
        viewer,
        parse_period(query.period),
        team_id=query.team_id,
        community=query.community,
    )
    if query.format == "pdf":
        return RawResponse(
            honour_wall_pdf(wall, query.language),
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="honour-wall-{wall.period}.pdf"',
                "X-Ledger-Position": str(wall.position),
            },
        )
    return HTMLResponse(
        honour_wall_html(wall, query.language),
        headers={"X-Ledger-Position": str(wall.position)},
    )


@router.get(
    "/pairings",
    response_model=ReportOut,
    summary="Care pairings with their visits in a period (as GET /pairings: who may see them)",
)
def pairing_report(
    reader: Reads,
    viewer: ViewerOf,
    query: Annotated[PairingReportQuery, Query()],
    accept: Accept = None,
) -> Any:
    report = reports.pairings(
        reader,
        viewer,
        parse_period(query.period),
        team_id=query.team_id,
        community=query.community,
        active=query.active,
    )
    return answer(report, query.format, accept)


@router.get(
    "/care-gaps",
    response_model=ReportOut,
    summary="The elders nobody visited in the last N days (as GET /pairings/care-gaps)",
)
def care_gap_report(
    reader: Reads,
    viewer: ViewerOf,
    query: Annotated[CareGapReportQuery, Query()],
    accept: Accept = None,
) -> Any:
    report = reports.care_gaps(
        reader, viewer, days=query.days, team_id=query.team_id, community=query.community
    )
    return answer(report, query.format, accept)
