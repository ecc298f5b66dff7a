"""How a process keeps the ledger's calendar, and the rules it seeds a new ledger with."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from timebank.policies import Rules


@dataclass(frozen=True)
class Policy:
    """What a process brings to the ledger it opens.

    - `timezone`: where "today" is decided (no service is logged for tomorrow);
    - `membership_lead_days`: how far ahead a membership may be dated to start or end (a
      role change dated years ahead would keep the old role in force until then);
    - `seed`: the rules a new ledger's first command stores as version 1; afterwards the
      ledger's own rules decide (`timebank.policies`), never a process's settings.
    """

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    membership_lead_days: int = 31
    seed: Rules = field(default_factory=Rules)
