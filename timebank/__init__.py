"""Timebank: an event-sourced ledger for community time banks (时间银行)."""

from timebank.accounts import Account
from timebank.application import SYSTEM_ACTOR_ID, TimeBank
from timebank.members import GlobalRole, Member
from timebank.policy import Policy
from timebank.redemptions import Redemption, RedemptionStatus
from timebank.requests import ClientRequest
from timebank.service_logs import ServiceLog, ServiceStatus
from timebank.teams import Team, TeamRole
from timebank.transfers import Transfer

__all__ = [
    "SYSTEM_ACTOR_ID",
    "Account",
    "ClientRequest",
    "GlobalRole",
    "Member",
    "Policy",
    "Redemption",
    "RedemptionStatus",
    "ServiceLog",
    "ServiceStatus",
    "Team",
    "TeamRole",
    "TimeBank",
    "Transfer",
]
