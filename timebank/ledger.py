"""The ledger's core: how every use case reads, decides and saves, once and atomically."""

from __future__ import annotations

import functools
import hashlib
import json
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Concatenate, ParamSpec, Self, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
)
from eventsourcing.domain import Aggregate, DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Recording,
    Transcoding,
)
from eventsourcing.utils import Environment

from timebank.accounts import Account
from timebank.availability import StoreGate, guard_connections
from timebank.cache import FollowedCache, FollowedRepository, NotInMemoryError
from timebank.consent import Consent
from timebank.credentials import (
    Credential,
    IssuedToken,
)
from timebank.errors import (
    ConcurrencyError,
    IdempotencyKeyReusedError,
    InsufficientMinutesError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from timebank.members import GlobalRole, Member
from timebank.policies import POLICIES_ID, Policies, PolicyVersion, seed_version
from timebank.policy import Policy
from timebank.requests import ClientRequest
from timebank.sealing import EventKeys, SealingMapper
from timebank.service_logs import ServiceLog
from timebank.storage import (
    DEFAULT_DATABASE_URL,
    SettingError,
    bound_connecting,
    check_secret,
    explicit_env,
    ledger_env,
    retried_at_startup,
)
from timebank.teams import Team, TeamRole

SYSTEM_ACTOR_ID = UUID(int=0)
"""The acting member of work done by the system itself: bootstrap and the admin token."""

A = TypeVar("A", bound=Aggregate)
P = ParamSpec("P")
R = TypeVar("R")
L = TypeVar("L", bound="Ledger")
Decision = tuple[A, Sequence[Aggregate]]


class DateAsISO(Transcoding):
    """Service dates and birth dates are stored as `YYYY-MM-DD`."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class Actor:
    """Who is acting, with the global roles they hold right now."""

    id: UUID
    is_admin: bool
    is_auditor: bool


def reads(method: Callable[Concatenate[L, P], R]) -> Callable[Concatenate[L, P], R]:
    """A use case that only reads: all its reads see the ledger as of one moment, for the
    price of one question to the store (see `TimeBank.reading`)."""

    def reading(self: L, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.reading():
            return method(self, *args, **kwargs)

    functools.update_wrapper(reading, method)
    return reading


class Ledger(Application[UUID]):
    """How the use cases of a community time bank run over one event store.

    Every command names its acting member, checks who may do it, lets the aggregates
    decide, and saves every aggregate it changed in one atomic `save(...)`. A command
    that loses an optimistic-concurrency race is run again from a fresh read, so callers
    only see a conflict when the ledger really refuses. A command that carries a client
    request id is carried out once: repeating it returns the first result.
    """

    name = "TimeBank"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "10000"}

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        policy: Policy | None = None,
        clock: Callable[[], datetime] | None = None,
        max_attempts: int = 50,
    ) -> None:
        super().__init__(env)
        self.policy = policy or Policy()
        self._clock = clock or (lambda: datetime.now(self.policy.timezone))
        self.max_attempts = max_attempts
        self._head = 0
        self._head_lock = threading.Lock()
        # Told (acting member, log position) after each command that saved something.
        self.on_saved: Callable[[UUID, int], None] | None = None

    @classmethod
    def from_url(
        cls,
        url: str = DEFAULT_DATABASE_URL,
        *,
        pool_size: int = 20,
        token_secret: str | None = None,
        encryption_key: str | None = None,
        policy: Policy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Self:
        """Open the ledger stored at a database URL (see `timebank.storage`), with the
        settings checked as the process settings check them (a short secret is refused)."""
        env = ledger_env(
            url, pool_size=pool_size, token_secret=token_secret, encryption_key=encryption_key
        )
        return cls(env, policy=policy, clock=clock)

    def construct_env(self, name: str, env: Mapping[str, str] | None = None) -> Environment:
        """The class defaults and the given env only, never os.environ (see
        `timebank.storage.explicit_env`); a token secret given here is checked too."""
        built = explicit_env(type(self), env)
        secret = built.get("TOKEN_SECRET")
        if secret:
            try:
                check_secret(secret)
            except ValueError as error:
                raise SettingError("token_secret", str(error)) from None
        return built

    def construct_recorder(self) -> ApplicationRecorder:
        """Creating the tables is retried when processes start together (see storage)."""
        recorder: ApplicationRecorder = retried_at_startup(super().construct_recorder)()
        # Whether the store answered at the last attempt (see timebank.availability): read
        # by the API to answer 503 at once while a PostgreSQL server is out of reach.
        self.gate = StoreGate()
        if (self.env.get("PERSISTENCE_MODULE") or "").endswith("postgres"):
            bound_connecting(recorder, self.env.get("POSTGRES_CONNECT_TIMEOUT"))
            guard_connections(getattr(recorder, "datastore", None), self.gate)
        return recorder

    def construct_mapper(self) -> Mapper[UUID]:
        """The library's mapper, sealing every stored event with the event key when one is
        set and checking every seal it reads (see `timebank.sealing`)."""
        mapper = self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=SealingMapper
        )
        if isinstance(mapper, SealingMapper):
            mapper.keys = EventKeys.from_env(self.env)
        return mapper

    def construct_repository(self) -> Repository[UUID]:
        """With a cache, one that follows the log (see `timebank.cache`): a command asks the
        store once what changed, not once per aggregate it reads."""
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        if not maxsize:
            return super().construct_repository()
        return FollowedRepository(self.events, FollowedCache(int(maxsize), self.recorder))

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """The library's `save`, taking the ledger's aggregates' events directly. The
        library asks a runtime-checkable Protocol about every object it is given (such an
        `isinstance` walks the protocol's members): a twentieth of a command's time."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library still calls its deprecated hook
        return recordings

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        repository = self.repository
        if not isinstance(repository, FollowedRepository):
            return super()._record(processing_event)
        since = repository.cache.generation  # before the save: see `FollowedCache.saved`
        recordings = self.events.put(
            processing_event.events,
            tracking=processing_event.tracking,
            **processing_event.saved_kwargs,
        )
        repository.cache.saved(processing_event.aggregates.values(), recordings, since)
        return recordings

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Reads in the block see the ledger as it stood when the block began, at the cost
        of one question to the store (without a cache: one per read, as always)."""
        repository = self.repository
        if isinstance(repository, FollowedRepository):
            with repository.current():
                yield
        else:
            yield

    def follow_store(self, head: int | None = None) -> int | None:
        """Let the aggregate cache see every event stored so far: one question to the store,
        none if the caller read the log's `head` just now and the cache has seen that far.
        Reads in a `reading_from_memory()` block begun afterwards see at least as much.
        Returns the log position seen up to (None without a cache: nothing was asked)."""
        repository = self.repository
        if not isinstance(repository, FollowedRepository):
            return None
        repository.cache.catch_up(head)
        return repository.cache.position

    @contextmanager
    def reading_from_memory(self) -> Iterator[None]:
        """Reads in the block come from the aggregate cache as of the last `follow_store()`
        and never wait on the store; one the cache cannot answer (or any read, without a
        cache) raises NotInMemoryError. For the API's event loop."""
        repository = self.repository
        if not isinstance(repository, FollowedRepository):
            raise NotInMemoryError("the aggregate cache is off")
        with repository.from_memory():
            yield

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def today(self) -> date:
        """The date in the community's time zone."""
        return self._clock().astimezone(self.policy.timezone).date()

    def _coordinates_accepted(self, actor: Actor, member_id: UUID, team_id: UUID | None) -> bool:
        """The actor coordinates the team today, and the member accepted their membership
        of it: the reason the member gave to be looked after by its coordinators."""
        if team_id is None:
            return False
        team = self._read(Team, team_id, "team")
        return (
            team.is_coordinator_on(actor.id, self.today())
            and team.current_membership(member_id) is not None
            and team.has_accepted(member_id)
        )

    def _coordinates(self, team: Team, member_id: UUID) -> bool:
        """The member coordinates the team now, or is to from a day ahead."""
        return any(
            m.member_id == member_id and m.role is TeamRole.COORDINATOR and not m.empty
            for m in team.memberships
            if m.until is None or m.until > self.today()
        )

    @staticmethod
    def _issued(credential: Credential, secret: bytes) -> IssuedToken:
        return IssuedToken(
            token=credential.recover_token(secret),
            credential_id=credential.id,
            member_id=credential.member_id,
        )

    def _token_secret(self) -> bytes:
        """The server secret tokens are derived with: `TOKEN_SECRET` in the application's
        env (`TIMEBANK_TOKEN_SECRET`). Without one, a random secret for this process:
        tokens still work after a restart, only a repeat can no longer recompute them."""
        configured = self.env.get("TOKEN_SECRET")
        if configured:
            return configured.encode("utf-8")
        # setdefault is atomic, so racing first requests agree on one secret.
        fallback: bytes = self.__dict__.setdefault("_process_token_secret", secrets.token_bytes(32))
        return fallback

    # How commands run ----------------------------------------------------------------

    def _execute(
        self,
        actor_id: UUID,
        request_id: str | None,
        command: str,
        args: Mapping[str, Any],
        decide: Callable[[Actor], Decision[A]],
    ) -> A:
        """Decide and save, again from a fresh read whenever a concurrent writer won.

        With a request id the command's changes and the request's record are saved
        together: either both are stored or neither, so a retried request is carried out
        exactly once and the repeat returns the first result.
        """
        # Only a request with an id is recorded, and checked against its repeats.
        fingerprint = "" if request_id is None else _fingerprint(command, actor_id, args)
        for attempt in range(1, self.max_attempts + 1):
            with self.reading():
                if request_id is not None:
                    earlier = self._earlier_result(request_id, fingerprint)
                    if earlier is not None:
                        return earlier  # type: ignore[return-value]
                actor = self._actor(actor_id)
                # A new ledger's first command stores the rules it is decided by.
                book = None
                if self._policies() is None:
                    book = Policies.start(actor_id=SYSTEM_ACTOR_ID, seed=self.policy.seed)
                result, changed = decide(actor)
                records: list[Aggregate] = list(changed)
                if book is not None and not any(isinstance(a, Policies) for a in records):
                    records.insert(0, book)
            if request_id is not None:
                records.append(
                    ClientRequest(
                        actor_id=actor.id,
                        request_id=request_id,
                        command=command,
                        fingerprint=fingerprint,
                        result_id=result.id,
                        result_version=result.version,
                    )
                )
            try:
                recordings = self.save(*records)
            except IntegrityError:
                # Another writer saved one of these aggregates first: back off a
                # little, with jitter, and decide again from what it saved.
                if attempt < self.max_attempts:
                    time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.05)))  # noqa: S311
                    continue
                raise ConcurrencyError(attempt) from None
            self._note_position(actor.id, recordings)
            return result
        raise ConcurrencyError(self.max_attempts)

    def _note_position(self, actor_id: UUID, recordings: Sequence[Recording[UUID]]) -> None:
        """Remember how far this process's commands reached in the log, so that a read
        made after a write can wait for the projections to get there; and tell
        `on_saved` (the API records it where every process serving the store sees it)."""
        if recordings:
            position = max(r.notification.id for r in recordings)
            with self._head_lock:
                self._head = max(self._head, position)
            if self.on_saved is not None:
                self.on_saved(actor_id, position)

    def last_position(self) -> int:
        """The furthest log position any command of this process has saved (0 before any)."""
        return self._head

    def _earlier_result(self, request_id: str, fingerprint: str) -> Aggregate | None:
        try:
            request = self._read(ClientRequest, ClientRequest.create_id(request_id), "request")
        except NotFoundError:
            return None
        if request.fingerprint != fingerprint:
            raise IdempotencyKeyReusedError(request_id)
        result: Aggregate = self.repository.get(request.result_id, version=request.result_version)
        return result

    def _actor(self, actor_id: UUID) -> Actor:
        if actor_id == SYSTEM_ACTOR_ID:
            return Actor(SYSTEM_ACTOR_ID, is_admin=True, is_auditor=True)
        try:
            member = self._read(Member, actor_id, "member")
        except NotFoundError:
            raise PermissionDeniedError(actor_id, "act", "not a registered member") from None
        return Actor(member.id, is_admin=member.is_admin, is_auditor=member.is_auditor)

    def _get(self, kind: type[A], aggregate_id: UUID, label: str) -> A:
        """An aggregate to change: the caller's own copy, so a refused change leaves
        nothing behind in the cache."""
        return self._fetch(kind, aggregate_id, label, copy=True)

    def _read(self, kind: type[A], aggregate_id: UUID, label: str) -> A:
        """An aggregate only looked at (who is acting, who is in a team): the cached
        object itself, brought up to date, not copied. Never change what this returns.
        A team of a thousand members is not copied on every command that checks one."""
        return self._fetch(kind, aggregate_id, label, copy=False)

    def _fetch(self, kind: type[A], aggregate_id: UUID, label: str, *, copy: bool) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id, deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            raise NotFoundError(label, aggregate_id) from None
        if not isinstance(aggregate, kind):
            raise NotFoundError(label, aggregate_id)
        return aggregate

    def _account(self, member_id: UUID) -> Account:
        """A member's account to change, its lots due by today expired first: a command
        never spends minutes past their expiry, whether or not a sweep came by."""
        account = self._get(Account, Account.create_id(member_id), "account")
        account.expire(actor_id=SYSTEM_ACTOR_ID, today=self.today())
        return account

    def _credit(self, account: Account, actor: Actor, log: ServiceLog) -> None:
        """Credit an approved log's minutes under the rules in force today (the cap, the
        day's limit, when they expire), recording the rules' version."""
        account.earn(
            actor_id=actor.id,
            service_log_id=log.id,
            minutes=log.credited_minutes,
            service_date=log.service_date,
            policy=self._rules_in_force(),
            today=self.today(),
        )
        # Service older than the rules' validity is credited, and expires at once.
        account.expire(actor_id=SYSTEM_ACTOR_ID, today=self.today())

    def _take_back(self, account: Account, actor: Actor, log: ServiceLog, minutes: int) -> None:
        """Take a reversed log's credit back, the day's credited minutes with it."""
        account.reverse_earning(
            actor_id=actor.id,
            service_log_id=log.id,
            minutes=minutes,
            service_date=log.service_date,
        )

    # The community's rules --------------------------------------------------------------

    def _policies(self) -> Policies | None:
        try:
            return self._read(Policies, POLICIES_ID, "policies")
        except NotFoundError:
            return None

    @reads
    def rules_in_force(self, day: date | None = None) -> PolicyVersion:
        """The rules that decide on `day` (today by default): the ledger's own, or, before
        a new ledger's first command stored them, the seed this process would store."""
        return self._rules_in_force(day)

    def _rules_in_force(self, day: date | None = None) -> PolicyVersion:
        """`rules_in_force` for a command, which already reads the ledger as of one moment:
        the book as the command's other reads saw it, without a read block of its own."""
        book = self._policies()
        if book is None:
            return seed_version(self.policy.seed)
        return book.in_force_on(day or self.today())

    def _require_admin(self, actor: Actor, action: str) -> None:
        if not actor.is_admin:
            raise PermissionDeniedError(actor.id, action, "only admins may")

    def _leads(self, actor: Actor, team: Team) -> bool:
        """Admins, and whoever coordinates the team today."""
        return actor.is_admin or team.is_coordinator_on(actor.id, self.today())

    def _require_team_lead(self, actor: Actor, team: Team, action: str) -> None:
        """Admins, and whoever coordinates the team today."""
        if not self._leads(actor, team):
            raise PermissionDeniedError(
                actor.id, action, f"not a coordinator of team {team.id} or an admin"
            )

    def _require_reviewer(self, actor: Actor, log: ServiceLog, action: str) -> None:
        """A coordinator of the log's team or an admin, and never by a power the log's
        volunteer gave them: nobody is credited by a decision they made or arranged (the
        aggregate refuses the volunteer themself)."""
        team = self._read(Team, log.team_id, "team")
        self._require_team_lead(actor, team, f"{action} service logs of the team")
        if actor.id == SYSTEM_ACTOR_ID:
            return
        as_admin = (
            actor.is_admin
            and self._read(Member, actor.id, "member").granted_by.get(GlobalRole.ADMIN)
            != log.volunteer_id
        )
        membership = team.membership_on(actor.id, self.today())
        as_coordinator = (
            membership is not None
            and membership.role is TeamRole.COORDINATOR
            and membership.appointed_by != log.volunteer_id
        )
        if not (as_admin or as_coordinator):
            raise PermissionDeniedError(
                actor.id,
                f"{action} service log {log.id}",
                "the log's volunteer appointed them; another coordinator or an admin decides",
            )

    def _check_redemption_age(
        self, actor: Actor, member: Member, policy: PolicyVersion, hardship: str | None
    ) -> None:
        """Members redeem from the rules' minimum age; younger, only with a hardship stated
        when the rules allow the exception (the request records it for auditors)."""
        rules = policy.rules
        min_age = rules.redemption_min_age
        if hardship is not None and not rules.hardship_exception:
            raise InvalidRequestError(
                "hardship", f"the rules in force (version {policy.version}) make no exception"
            )
        if min_age is None:
            return
        age = member.age_on(self.today())
        if age is not None and age >= min_age:
            return
        if hardship is not None:
            return
        unknown = " (a member whose birth date is not recorded cannot)" if age is None else ""
        exception = ", or younger with a hardship stated" if rules.hardship_exception else ""
        raise PermissionDeniedError(
            actor.id,
            f"redeem minutes of member {member.id}",
            f"members redeem from age {min_age}{exception}{unknown}",
        )


@contextmanager
def disclosed_to(consent: Consent | None) -> Iterator[None]:
    """A refusal for lack of minutes tells the member (or their agent) what they have,
    and anyone else only the rule."""
    try:
        yield
    except InsufficientMinutesError as error:
        if consent is not None and consent.discloses:
            raise
        raise error.undisclosed() from None


def _fingerprint(command: str, actor_id: UUID, args: Mapping[str, Any]) -> str:
    """A digest of what was asked, so a request id reused for something else is caught."""
    canonical = json.dumps(
        {"command": command, "actor_id": str(actor_id), "args": args},
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
