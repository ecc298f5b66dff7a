"""The rules a time bank may set for itself, with the defaults this ledger ships."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Policy:
    """Community rules that differ between cities; every one is configurable.

    - `timezone`: where "today" is decided (no service is logged for tomorrow);
    - `balance_cap_minutes`: the most a member may hold (Nanjing caps at 1,500 hours);
      None for no cap;
    - `redemption_min_age`: the youngest age at which a member may redeem (Nanjing 60,
      Shanghai 65); None lets anyone redeem, for example hours given to a parent;
    - `membership_lead_days`: how far ahead a membership may be dated to start or end (a
      role change dated years ahead would keep the old role in force until then);
    - `organisation`: the issuing organisation named on certificates and reports;
    - `certificate_prefix`: the letters before a certificate's number (`LK-2026-000123`).
    """

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    balance_cap_minutes: int | None = None
    redemption_min_age: int | None = None
    membership_lead_days: int = 31
    organisation: str = "社区时间银行"
    certificate_prefix: str = "TB"
