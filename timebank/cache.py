"""The aggregate cache, kept current by following the notification log.

The library keeps a cached aggregate current by asking the store for newer events each time
it is read: one query per aggregate, four for an approval. Here a command asks once, at its
start, which events were stored since the cache last looked (`FollowedCache.catch_up`). An
aggregate of which another process or thread stored a newer version is dropped from the
cache and read again when next needed; every other cached aggregate is current as it is.

Three rules keep this correct while many threads and processes write at once:

- The log is followed by position, and positions become visible in order (SQLite has one
  writer at a time; the library's PostgreSQL recorder locks the table for each insert), so
  following never skips an event.
- An aggregate enters the cache only if no newer version of it was seen while it was being
  read or saved. Each catch-up that saw events opens a generation that remembers which
  aggregates reached which version; whoever offers an aggregate names the generation in
  which its read (or its save) began, and the offer is refused when a later generation saw
  a newer version, or when that generation is too old to be remembered.
- A cached aggregate is replaced, never changed in place, so whoever holds one holds one
  consistent version of it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from copy import deepcopy
from typing import Any
from uuid import UUID

from eventsourcing.application import Cache, Repository, project_aggregate
from eventsourcing.persistence import ApplicationRecorder, EventStore, Recording

REMEMBERED_GENERATIONS = 256
"""How many catch-ups back an offer can have begun and still be checked (older: refused)."""

FOLLOW_PAGE = 500
"""Events read per catch-up query; a catch-up that finds more empties the cache instead."""


class FollowedCache(Cache[UUID, Any]):
    """Aggregates by id, current as of `position`; beyond `maxsize` (when above zero) the
    least recently used go first."""

    def __init__(self, maxsize: int, recorder: ApplicationRecorder) -> None:
        super().__init__()
        self.maxsize = maxsize
        self._recorder = recorder
        self._entries: OrderedDict[UUID | str, Any] = OrderedDict()
        self._guard = threading.Lock()  # the entries and the generations
        self._following = threading.Lock()  # one catch-up at a time
        self._begun = 0  # catch-ups begun so far, numbered in the order they began
        self._finished = 0  # the number of the last one that finished
        # Every event up to this position has been seen: nothing cached is older.
        self.position = recorder.max_notification_id() or 0
        self.generation = 0
        # Per generation, the versions it saw (None: it saw too much, and forgot everything).
        self._seen: deque[tuple[int, Mapping[UUID | str, int] | None]] = deque(
            maxlen=REMEMBERED_GENERATIONS
        )

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        return True  # the library tests `if cache:` for "caching is on", even when empty

    def get(self, key: UUID, *, evict: bool = False) -> Any:
        with self._guard:
            if evict:
                return self._entries.pop(key)
            value = self._entries[key]
            self._entries.move_to_end(key)
            return value

    def put(self, key: UUID, value: Any) -> None:
        raise TypeError("offer aggregates with the generation their read began in")

    def offer(self, aggregate: Any, since: int) -> None:
        """Cache an aggregate read or saved from generation `since` on, unless a newer
        version of it was seen meanwhile or a newer one is cached."""
        with self._guard:
            if self._newer_seen(aggregate.id, aggregate.version, since):
                return
            cached = self._entries.get(aggregate.id)
            if cached is not None and cached.version >= aggregate.version:
                return
            self._entries[aggregate.id] = aggregate
            self._entries.move_to_end(aggregate.id)
            while 0 < self.maxsize < len(self._entries):
                self._entries.popitem(last=False)

    def catch_up(self, head: int | None = None) -> None:
        """Drop every cached aggregate that has a newer version stored than cached.

        Concurrent callers share: one who waited while a catch-up ran that began after it
        asked takes that one's answer, which saw every event stored before it asked. A
        caller who read the log's `head` after it asked, and finds the cache there already,
        needs nothing read."""
        if head is not None and head <= self.position:
            return
        asked = self._begun
        with self._following:
            if self._finished > asked:
                return
            self._begun += 1
            ticket = self._begun
            self._follow()
            self._finished = ticket

    def _follow(self) -> None:
        page = self._recorder.select_notifications(
            start=self.position, limit=FOLLOW_PAGE, inclusive_of_start=False
        )
        if len(page) < FOLLOW_PAGE:
            if page:
                self._open_generation({n.originator_id: n.originator_version for n in page})
                self.position = page[-1].id
            return
        # Far behind (a big import by another process): start again from empty rather than
        # read every event. Everything up to `head` is then read from the store.
        head = self._recorder.max_notification_id() or 0
        self._open_generation(None)
        self.position = head

    def saved(
        self, aggregates: Iterable[Any], recordings: Sequence[Recording[UUID]], since: int
    ) -> None:
        """After this process saved, from generation `since` on: the saved aggregates are
        cached, unless another process changed one of them again at once. When the saved
        events come right after `position`, the next catch-up need not read them back."""
        with self._following:
            ids = [r.notification.id for r in recordings]
            if ids and min(ids) == self.position + 1:
                versions = {
                    r.notification.originator_id: r.notification.originator_version
                    for r in recordings
                }
                self._open_generation(versions)
                self.position = max(ids)
        for aggregate in aggregates:
            self.offer(aggregate, since)

    def _open_generation(self, versions: Mapping[UUID | str, int] | None) -> None:
        with self._guard:
            self.generation += 1
            self._seen.append((self.generation, versions))
            if versions is None:
                self._entries.clear()
                return
            for key, version in versions.items():
                cached = self._entries.get(key)
                if cached is not None and cached.version < version:
                    del self._entries[key]

    def _newer_seen(self, key: UUID, version: int, since: int) -> bool:
        if since == self.generation:
            return False
        if not self._seen or since + 1 < self._seen[0][0]:
            return True  # generations since then are forgotten: cannot tell
        for generation, versions in reversed(self._seen):
            if generation <= since:
                break
            if versions is None or versions.get(key, 0) > version:
                return True
        return False


class NotInMemoryError(LookupError):
    """A read inside `FollowedRepository.from_memory()` that only the store can answer."""


class FollowedRepository(Repository[UUID]):
    """The library's repository over a `FollowedCache`: a read catches up first, unless
    it happens inside `current()`, where one catch-up serves every read of the block."""

    def __init__(self, event_store: EventStore[UUID], cache: FollowedCache) -> None:
        super().__init__(event_store, fastforward=False)
        self.cache: FollowedCache = cache
        self._local = threading.local()

    @contextmanager
    def current(self) -> Iterator[None]:
        """Reads in the block see the store as it was when the block began."""
        if getattr(self._local, "current", False):
            yield
            return
        self.cache.catch_up()
        with self._scope(memory_only=False):
            yield

    @contextmanager
    def from_memory(self) -> Iterator[None]:
        """Reads in the block come from the cache as of its last `catch_up` (whoever asked
        for it) and never touch the store: one the cache cannot answer raises NotInMemoryError.
        For a caller that cannot wait on the store (an event loop) and made sure that a
        catch-up began after the moment its reads must see."""
        with self._scope(memory_only=True):
            yield

    @contextmanager
    def _scope(self, *, memory_only: bool) -> Iterator[None]:
        local = self._local
        outer = (getattr(local, "current", False), getattr(local, "memory_only", False))
        local.current, local.memory_only = True, memory_only or outer[1]
        try:
            yield
        finally:
            local.current, local.memory_only = outer

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: Any = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        if version is not None:
            if getattr(self._local, "memory_only", False):
                raise NotInMemoryError(aggregate_id)
            return super().get(aggregate_id, version=version, projector_func=projector_func)
        if not getattr(self._local, "current", False):
            self.cache.catch_up()
        try:
            aggregate = self.cache.get(aggregate_id)
        except KeyError:
            if getattr(self._local, "memory_only", False):
                raise NotInMemoryError(aggregate_id) from None
            since = self.cache.generation
            aggregate = self._reconstruct_aggregate(aggregate_id, None, projector_func)
            self.cache.offer(aggregate, since)
        return deepcopy(aggregate) if deepcopy_from_cache else aggregate
