"""Every read model, in the order a batch is folded into them. A new read model is a module
with its tables and its fold, and one line here."""

from __future__ import annotations

from projections.activities import ActivitiesProjection
from projections.audit import AuditProjection
from projections.balances import BalancesProjection
from projections.base import Projection
from projections.certificates import CertificatesProjection
from projections.members import MembersProjection
from projections.pairings import PairingsProjection
from projections.policies import PoliciesProjection
from projections.rankings import RankingsProjection
from projections.records import RecordsProjection
from projections.service_logs import ServiceLogsProjection
from projections.teams import TeamsProjection

VIEWS: tuple[Projection, ...] = (
    MembersProjection(),
    TeamsProjection(),
    ServiceLogsProjection(),  # before the rankings, which read the logs it writes
    BalancesProjection(),
    RankingsProjection(),
    RecordsProjection(),
    ActivitiesProjection(),
    PairingsProjection(),
    PoliciesProjection(),
    CertificatesProjection(),
)
"""The views: folded again from the log by a rebuild, or when their form changes."""

AUDIT = AuditProjection()
"""The audit trail: the evidence verify compares the events with, never folded again by a
rebuild of the views (see `projections.auditor.rebuild_audit_trail`)."""

PROJECTIONS: tuple[Projection, ...] = (*VIEWS, AUDIT)
