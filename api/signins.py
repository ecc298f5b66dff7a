"""Limits on refused sign-ins, and the lifetime of members' tokens.

- A client address whose tokens were refused `limit` times within `window` seconds is
  answered 429 `too_many_attempts` with `Retry-After` for every further refused token,
  until the oldest of those refusals leaves the window; tokens and card links refused on
  the pages (web.auth) count alike. A token that signs its member in is never refused for
  its address's sake: a member behind the same address as someone guessing is not locked
  out. The counts are kept in each process's memory.
- With a lifetime set, a token older than that is refused with 401 `token_expired`; its
  member exchanges a live token for a new one with POST /tokens/rotate before then, or
  asks an admin for a new one after.
- Every refused sign-in under the limit is written to a bounded table admins read
  (`projections.sign_ins`), and one `limited` row for each window an address spends over
  it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from starlette.requests import HTTPConnection

from projections.sign_ins import SignInFailure, record_failure
from projections.store import ViewStore
from timebank.application import TimeBank
from timebank.credentials import CredentialKind

MAX_ADDRESSES = 10_000
"""Addresses whose recent refusals are counted; the least recently refused go first."""


def client_address(connection: HTTPConnection) -> str:
    """The address refused sign-ins are counted under, for the API and the pages alike."""
    return connection.client.host if connection.client is not None else "unknown"


class TooManyAttemptsError(Exception):
    """Too many tokens from this address were refused lately; try again after a while."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many refused sign-ins from this address; try again in {retry_after} s"
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignedIn:
    """The member a token signs in, and the credential it is (what a spend records)."""

    member_id: UUID
    credential_id: UUID


@dataclass(frozen=True)
class Refusal:
    """Why a presented token signed nobody in: "unknown" (or revoked), or "expired"."""

    reason: str
    credential_id: UUID | None


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
        # Per address: when its tokens were refused in the window, and when it was last
        # recorded as limited.
        self._refusals: OrderedDict[str, tuple[deque[float], float | None]] = OrderedDict()
        self._guard = threading.Lock()

    def expired(self, issued_at: datetime) -> bool:
        return self.lifetime is not None and self.now() - issued_at >= self.lifetime

    def signing_in(self, ledger: TimeBank, token: str) -> SignedIn | Refusal:
        """Whom a member's token signs in, as the ledger stands in the caller's reading
        (`TimeBank.reading_from_memory` or `reading`). A printed card's link lives until a
        new card replaces it; tokens may expire."""
        credential = ledger.sign_in(token)
        if credential is None:
            return Refusal("unknown", None)
        if credential.kind == CredentialKind.TOKEN and self.expired(credential.issued_at):
            return Refusal("expired", credential.id)
        return SignedIn(credential.member_id, credential.id)

    def refused(
        self, store: ViewStore, address: str, reason: str, credential_id: UUID | None
    ) -> TooManyAttemptsError | None:
        """Count and record a refused sign-in (writes to the store: not on the event loop);
        the error to answer with when the address is over its limit. Once an address is
        over, one `limited` row says so for the window, not one row per refusal: a flood
        must not become as many writes."""
        too_many, record = None, True
        if self.limit > 0:
            with self._guard:
                now = self._clock()
                empty: tuple[deque[float], float | None] = (deque(), None)
                times, noted = self._refusals.pop(address, empty)
                while times and times[0] <= now - self.window:
                    times.popleft()
                if len(times) < self.limit:
                    times.append(now)
                else:
                    too_many = TooManyAttemptsError(max(1, math.ceil(times[0] + self.window - now)))
                    record = noted is None or noted <= now - self.window
                    noted = now if record else noted
                    reason, credential_id = "limited", None
                self._refusals[address] = (times, noted)  # the most recently refused last
                while len(self._refusals) > MAX_ADDRESSES:
                    self._refusals.popitem(last=False)
        if record:
            record_failure(store, SignInFailure(self.now(), address, reason, credential_id))
        return too_many
