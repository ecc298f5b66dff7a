"""A certificate checked against an export's events alone (`timebank verify-certificate`):
no database, no server, only the file `timebank export` wrote.

The certificate must be issued in the export, and every log it states must have been
approved for the volunteer with the minutes it states before it was issued; then it is
valid, superseded (a log it covers was reversed later: when), or revoked (when and why).
Whether the file itself is intact is `verify_export`'s question, asked first by the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from projections.lines import LineError, Oversized, parse_line

ISSUED = "timebank:Certificate.Issued"
REVOKED = "timebank:Certificate.Revoked"
APPROVED = "timebank:ServiceLog.Approved"
LOGGED = "timebank:ServiceLog.Logged"
REVERSED = "timebank:ServiceLog.Reversed"


@dataclass
class CertificateCheck:
    """What the export says of one certificate number."""

    number: str
    status: str = "unknown"  # valid, superseded, revoked or unknown
    stated: dict[str, Any] = field(default_factory=dict)  # the Issued event's data
    issued_at: str | None = None
    superseded_at: str | None = None
    revoked_at: str | None = None
    revoke_reason: str | None = None
    problems: list[str] = field(default_factory=list)  # where the statement and events differ

    @property
    def holds(self) -> bool:
        return self.status == "valid" and not self.problems


def check_certificate(lines: Iterable[bytes | str | Oversized], number: str) -> CertificateCheck:
    """Fold the export's events that concern the certificate numbered `number`."""
    wanted = number.strip().upper()
    check = CertificateCheck(wanted)
    volunteers: dict[str, str] = {}  # log id -> volunteer id
    approved: dict[str, int] = {}  # log id -> minutes approved, as of the line read
    reversals: dict[str, str] = {}  # log id -> when reversed (after the issue only)
    certificate_id: str | None = None
    for line in lines:
        try:
            record = parse_line(line)
        except LineError:
            continue  # the file's own check reports it
        if not isinstance(record, dict) or "topic" not in record:
            continue
        topic, aggregate, data = record["topic"], record.get("aggregate_id"), record.get("data")
        if not isinstance(data, dict):
            continue
        if topic == LOGGED:
            volunteers[str(aggregate)] = str(data.get("volunteer_id"))
        elif topic == APPROVED:
            approved[str(aggregate)] = int(data.get("minutes", 0))
        elif topic == ISSUED and str(data.get("number", "")).upper() == wanted:
            certificate_id = str(aggregate)
            check.stated, check.issued_at = data, record.get("recorded_at")
            check.problems.extend(_disagreements(data, volunteers, approved))
        elif topic == REVERSED and certificate_id is None:
            approved.pop(str(aggregate), None)  # taken back before the issue
        elif topic == REVERSED:
            reversals.setdefault(str(aggregate), str(record.get("recorded_at")))
        elif topic == REVOKED and certificate_id is not None and str(aggregate) == certificate_id:
            check.revoked_at, check.revoke_reason = record.get("recorded_at"), data.get("reason")
    if certificate_id is None:
        return check
    covered = [str(log.get("log_id")) for log in check.stated.get("logs", [])]
    when = sorted(reversals[log] for log in covered if log in reversals)
    check.superseded_at = when[0] if when else None
    if check.revoked_at is not None:
        check.status = "revoked"
    elif check.superseded_at is not None:
        check.status = "superseded"
    else:
        check.status = "valid"
    return check


def _disagreements(
    data: dict[str, Any], volunteers: dict[str, str], approved: dict[str, int]
) -> list[str]:
    """Where the certificate states what the events before it do not bear out."""
    problems = []
    logs = data.get("logs", [])
    volunteer = str(data.get("volunteer_id"))
    for log in logs:
        log_id, minutes = str(log.get("log_id")), log.get("minutes")
        if volunteers.get(log_id) != volunteer:
            problems.append(f"service log {log_id} is not the volunteer's")
        elif approved.get(log_id) != minutes:
            problems.append(
                f"service log {log_id} was not approved for {minutes} minutes before the issue"
            )
    total = sum(int(log.get("minutes", 0)) for log in logs)
    if total != data.get("total_minutes"):
        problems.append(f"the logs add up to {total} minutes, not {data.get('total_minutes')}")
    return problems
