"""Request and response bodies of certificates, their verification, reports and honour walls."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field, model_validator

from api.schemas import Day, Name, Reason, Request, Response
from timebank.rules import MAX_NAME_LENGTH, PERIOD_PATTERN


class CertificateIn(Request):
    period_from: Day = Field(description="The first day of service certified.")
    period_until: Day = Field(description="The last day of service certified (not after today).")
    team_id: UUID | None = Field(
        None,
        description="Only this team's service; a coordinator names their own team. "
        "Admins may leave it out for service in every team.",
    )
    community: Name | None = Field(None, description="Only service in this community's teams.")

    @model_validator(mode="after")
    def _period_in_order(self) -> CertificateIn:
        if self.period_until < self.period_from:
            msg = "period_until: the period ends before it begins"
            raise ValueError(msg)
        return self


class RevocationIn(Request):
    reason: Reason


class CoveredLogOut(Response):
    log_id: UUID
    service_date: date
    minutes: int = Field(description="The minutes approved, as certified.")
    team_id: UUID
    team_name: str
    activity: str
    status: str = Field(description="The log's status now (`reversed` once taken back).")


class CertificateOut(Response):
    id: UUID
    number: str = Field(description="Sequential per issuing organisation and year.")
    code: str = Field(description="The verification code printed on the certificate.")
    organisation: str
    volunteer_id: UUID
    volunteer_name: str
    period_from: date
    period_until: date
    team_id: UUID | None
    team_name: str | None
    community: str | None
    total_minutes: int
    issued_by: UUID
    issued_by_name: str
    issued_on: date
    status: Literal["valid", "superseded", "revoked"]
    superseded_at: datetime | None = Field(
        description="When a log it covers was first reversed, after it was issued."
    )
    revoked_on: date | None
    revoke_reason: str | None
    logs: list[CoveredLogOut]
    pdf_url: str = Field(description="Where to download it as a PDF (`?language=en`).")
    verification_url: str = Field(description="The public page its QR code leads to.")


class CertificatesOut(Response):
    member_id: UUID
    items: list[CertificateOut] = Field(description="Newest first.")


class VerificationOut(Response):
    """What the certificate states and what became of it; nothing else about anyone."""

    status: Literal["valid", "superseded", "revoked"]
    number: str
    organisation: str
    volunteer_name: str
    period_from: date
    period_until: date
    total_minutes: int
    issued_on: date
    superseded_at: datetime | None
    revoked_on: date | None
    revoke_reason: str | None


class PdfQuery(Request):
    language: Literal["zh", "en"] = Field(
        "zh", description="`zh` (default): the certificate in Chinese; `en`: in English."
    )


class PageQuery(Request):
    language: Literal["zh", "en"] = Field("zh", description="`zh` (default) or `en`.")


ReportFormat = Literal["json", "csv", "xlsx"]
_FORMAT = (
    "`json` (default), `csv` (UTF-8 with a byte-order mark, as spreadsheets expect) or "
    "`xlsx`; without it, the `Accept` header decides (text/csv, the XLSX media type)."
)


class ReportQuery(Request):
    format: ReportFormat | None = Field(None, description=_FORMAT)


class RankingReportQuery(ReportQuery):
    period: str = Field(
        "all",
        pattern=PERIOD_PATTERN,
        description="`all` (default), a year `2026`, a month `2026-10` or a week `2026-W45`.",
    )
    community: str | None = Field(
        None, max_length=MAX_NAME_LENGTH, description="Only this community's teams."
    )


class VolunteerReportQuery(RankingReportQuery):
    team_id: UUID | None = Field(None, description="Only this team's volunteers.")


class LogReportQuery(ReportQuery):
    team_id: UUID | None = None
    status: Literal["pending", "approved", "rejected", "reversed"] | None = None
    served_from: Day | None = Field(None, description="Served on or after this day.")
    served_until: Day | None = Field(None, description="Served on or before this day.")


class HonourWallQuery(Request):
    period: str = Field(
        "all",
        pattern=PERIOD_PATTERN,
        description="`all` (default), a year `2026`, a month `2026-10` or a week `2026-W45`.",
    )
    team_id: UUID | None = Field(None, description="One team's wall.")
    community: str | None = Field(
        None, max_length=MAX_NAME_LENGTH, description="One community's wall."
    )
    format: Literal["html", "pdf"] = Field("html", description="`html` (default) or `pdf`.")
    language: Literal["zh", "en"] = Field("zh", description="`zh` (default) or `en`.")


class ReportOut(Response):
    report: str = Field(description="Which report.")
    title: str
    position: int = Field(
        description="The ledger position it was computed at: reports of the same position "
        "agree, and `timebank replay` reproduces them."
    )
    parameters: dict[str, str]
    columns: list[str]
    items: list[dict[str, int | str]]


class PairingReportQuery(ReportQuery):
    team_id: UUID | None = None
    community: str | None = Field(None, max_length=MAX_NAME_LENGTH)
    active: bool = Field(True, description="Only the pairings in force today.")
    period: str = Field(
        "all", pattern=PERIOD_PATTERN, description="Which visits to count: all, YYYY, YYYY-MM."
    )


class CareGapReportQuery(ReportQuery):
    days: int = Field(7, ge=1, le=366, description="Nobody visited within this many days.")
    team_id: UUID | None = None
    community: str | None = Field(None, max_length=MAX_NAME_LENGTH)
