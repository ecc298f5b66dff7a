"""The read side's one way in: every read the API, the pages and the CLI make.

Each read takes the reader (a `Viewer`), applies the one rule of who may read what
(`projections.visibility`), runs SQL over the view tables in one snapshot, and returns
plain frozen data. No runner, lock or in-memory copy of history is involved: a read is a
few indexed queries, and two reads never wait for each other. The reads are grouped by
what they read (one module each); `Reader` is all of them.
"""

from __future__ import annotations

from projections.queries.audit import AuditReads, audit_entries
from projections.queries.certificates import CertificateReads
from projections.queries.coordination import CoordinationReads
from projections.queries.logs import LogReads
from projections.queries.members import MemberReads
from projections.queries.policies import PolicyReads, PolicyRecord
from projections.queries.rankings import RankingReads
from projections.queries.records import (
    ActivityRecord,
    Agent,
    AttendeeRecord,
    Balance,
    CredentialRecord,
    CursorError,
    FoundMember,
    LogRecord,
    Me,
    MemberName,
    Membership,
    MemberTeam,
    Page,
    PairingRecord,
    Profile,
    RedemptionRecord,
    StatementLine,
    TeamRank,
    TeamRecord,
    TransferRecord,
    VolunteerRank,
)
from projections.queries.teams import TeamReads


class Reader(
    MemberReads,
    LogReads,
    TeamReads,
    CoordinationReads,
    RankingReads,
    PolicyReads,
    AuditReads,
    CertificateReads,
):
    """Every read over one store's views."""


__all__ = [
    "ActivityRecord",
    "Agent",
    "AttendeeRecord",
    "Balance",
    "CredentialRecord",
    "CursorError",
    "FoundMember",
    "LogRecord",
    "Me",
    "MemberName",
    "MemberTeam",
    "Membership",
    "Page",
    "PairingRecord",
    "PolicyRecord",
    "Profile",
    "Reader",
    "RedemptionRecord",
    "StatementLine",
    "TeamRank",
    "TeamRecord",
    "TransferRecord",
    "VolunteerRank",
    "audit_entries",
]
