"""One question to the store for many requests at once: has anything been stored since?

Every request must see the ledger at least as it stood when the request arrived: a token
revoked or a role taken away through another process is in force on the next request.
The aggregate cache learns what changed with one query (`TimeBank.follow_store`), which
blocks, so it runs in a worker thread. A worker-thread hop per request costs more than the
query itself; requests that arrive while a query is out instead share the next one, which
begins after all of them arrived. Signing in and looking up the caller then happen on the
event loop, from memory (`TimeBank.reading_from_memory`), when the cache holds what they
need: a server under load asks the store about twice per wave of requests, not once each.
The question is one statement where the events are beside the views (`ViewStore.heads`):
where the log ends and how far the views stand, which decides whether the requests it
answers may take a kept answer (api/answers.py). The cache reads the new events only when
the log has moved past what it has seen, which under a load of reads it rarely has.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from api.threads import in_a_worker_thread


class StoreFollower:
    """Coalesces the store questions of concurrent requests (one event loop's)."""

    def __init__(self, ask: Callable[[], None]) -> None:
        self._ask = ask
        self._next: asyncio.Future[None] | None = None  # the question not yet asked
        self._asking: asyncio.Task[None] | None = None

    async def caught_up(self) -> None:
        """Return once a question asked after this call began has been answered."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        answer = self._next
        if self._asking is None:
            self._asking = asyncio.create_task(self._ask_in_turn())
        # Shielded: a request that goes away must not cancel the others' answer.
        await asyncio.shield(answer)

    async def _ask_in_turn(self) -> None:
        """Ask while anyone waits; whoever arrives during a question waits for the next."""
        try:
            while self._next is not None:
                answer, self._next = self._next, None
                try:
                    await in_a_worker_thread(self._ask)
                except asyncio.CancelledError:  # the server is stopping
                    for waiting in (answer, self._next):
                        if waiting is not None:
                            waiting.cancel()
                    self._next = None
                    raise
                except Exception as error:  # every waiter gets it, as it would have alone
                    answer.set_exception(error)
                    answer.exception()  # retrieved here too: nobody may be left to wait
                else:
                    answer.set_result(None)
        finally:
            self._asking = None
