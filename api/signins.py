"""Limits on refused sign-ins, and the lifetime of members' tokens.

- A client address whose tokens were refused `limit` times within `window` seconds is
  answered 429 `too_many_attempts` with `Retry-After` for every further refused token,
  until the oldest of those refusals leaves the window. A token that signs its member in
  is never refused for its address's sake: a member behind the same address as someone
  guessing is not locked out. The counts are kept in each process's memory.
- With a lifetime set, a token older than that is refused with 401 `token_expired`; its
  member exchanges a live token for a new one with POST /tokens/rotate before then, or
  asks an admin for a new one after.
- Every refused sign-in is written to a bounded table admins read
  (`projections.sign_ins`).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from projections.sign_ins import SignInFailure, record_failure
from projections.store import ViewStore

MAX_ADDRESSES = 10_000
"""Addresses whose recent refusals are counted; the least recently refused go first."""


class TooManyAttemptsError(Exception):
    """Too many tokens from this address were refused lately; try again after a while."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many refused sign-ins from this address; try again in {retry_after} s"
        )
        self.retry_after = retry_after


class SignInGuard:
    def __init__(
        self,
        *,
        limit: int,
        window: float,
        lifetime: timedelta | None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.limit = limit
        self.window = window
        self.lifetime = lifetime
        self._clock = clock
        self.now = now
        self._refusals: OrderedDict[str, deque[float]] = OrderedDict()
        self._guard = threading.Lock()

    def expired(self, issued_at: datetime) -> bool:
        return self.lifetime is not None and self.now() - issued_at >= self.lifetime

    def refused(
        self, store: ViewStore, address: str, reason: str, credential_id: UUID | None
    ) -> TooManyAttemptsError | None:
        """Count and record a refused sign-in (reads and writes the store: not on the
        event loop); the error to answer with when the address is over its limit."""
        record_failure(store, SignInFailure(self.now(), address, reason, credential_id))
        if self.limit <= 0:
            return None
        with self._guard:
            now = self._clock()
            times = self._refusals.pop(address, None) or deque()
            while times and times[0] <= now - self.window:
                times.popleft()
            over = len(times) >= self.limit
            if not over:
                times.append(now)
            self._refusals[address] = times  # the most recently refused last
            while len(self._refusals) > MAX_ADDRESSES:
                self._refusals.popitem(last=False)
            if over:
                return TooManyAttemptsError(max(1, math.ceil(times[0] + self.window - now)))
        return None
