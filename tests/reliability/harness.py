"""Real `timebank` processes, clients that write with Idempotency-Keys, and the final checks."""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from projections.auditor import replay, verify
from projections.balances import balances
from projections.store import ViewStore
from tests.support import wait_until
from timebank.application import TimeBank

ADMIN_TOKEN = "reliability-admin-token-0123456789abcdef0123"
TOKEN_SECRET = "reliability-token-secret-0123456789abcdef0123"
TIMEZONE = "Asia/Shanghai"
REPO = Path(__file__).resolve().parents[2]

STARTUP_SECONDS = 60.0  # a server (or the projection process) answers within this
REQUEST_SECONDS = 30.0  # one HTTP request
CONVERGE_SECONDS = 10.0  # the projections catch up with the log within this
INITIAL_MINUTES = 1200  # approved for each volunteer before the load starts


JSON = dict[str, Any]
Balances = dict[str, tuple[int, int, int]]  # member id: balance, held, available


class ProjectionMismatchError(AssertionError):
    """What the projections show (served or stored) differs from a replay of the log, told
    apart from a lost or doubled write in the reports."""


class Divergences:
    """Projection checks that failed, kept until every ledger and process check has run."""

    def __init__(self) -> None:
        self.found: list[str] = []

    @contextlib.contextmanager
    def check(self, what: str) -> Iterator[None]:
        try:
            yield
        except ProjectionMismatchError as diverged:
            self.found.append(f"{what}: {diverged}")

    def raise_any(self) -> None:
        if self.found:
            raise ProjectionMismatchError("\n".join(self.found))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


# Processes ------------------------------------------------------------------------------


def child_env(settings: Mapping[str, str]) -> dict[str, str]:
    """This environment without any TIMEBANK_ setting of its own, plus the given ones."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
    return {**inherited, **settings}


class Processes:
    """Every `python -m cli ...` process a test starts, each in a session of its own, so
    that the whole group (uvicorn and any workers) is killed by its id at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(
        self, name: str, args: Sequence[str], env: Mapping[str, str]
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.logs / f"{len(self.started):02d}-{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "cli", *args],
                cwd=REPO,
                env=child_env(env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process, log

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the process's group (it was started as its own session leader)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def kill_all(self) -> None:
        for process in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        for process in self.started:
            process.wait(timeout=30)


@dataclass
class Service:
    """One `timebank` process that may be killed and started again (on the same port)."""

    processes: Processes
    name: str
    args: list[str]
    env: dict[str, str]
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    starts: int = 0

    @property
    def base(self) -> str:
        assert self.port is not None, f"{self.name} serves no HTTP"
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process, self.log = self.processes.start(
            f"{self.name}-{self.starts}", self.args, self.env
        )
        self.starts += 1

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_healthy(self, timeout: float = STARTUP_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while not healthy(self.base):
            if not self.running():
                log = self.tail()
                if "Application startup failed" in log and "projections/runner.py" in log:
                    # The runner it started with folded the log onto views of an earlier
                    # position: the reload race.
                    raise ProjectionMismatchError(f"{self.name} died catching up: {log}")
                raise AssertionError(f"{self.name} exited: {log}")
            assert time.monotonic() < deadline, f"{self.name} silent for {timeout} s: {self.tail()}"
            time.sleep(0.05)

    def start_healthy(self, divergences: Divergences, attempts: int = 3) -> None:
        """Start it and wait until it answers; like a supervisor, start it again when it
        died of a projection mismatch, and note the mismatch."""
        for _ in range(attempts):
            self.start()
            with divergences.check(f"{self.name} starting"):
                self.wait_healthy()
                return
        raise AssertionError(f"{self.name} did not start in {attempts} attempts")

    def kill(self) -> None:
        assert self.process is not None
        Processes.kill(self.process)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
        """Send a signal, then the exit status (SIGKILL and fail if it does not stop in time)."""
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} ignored {sig.name} for {timeout} s") from None

    def tail(self, chars: int = 3000) -> str:
        if self.log is None or not self.log.exists():
            return "(no log)"
        return self.log.read_text(errors="replace")[-chars:]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "TIMEBANK_DATABASE_URL": database_url,
        "TIMEBANK_ADMIN_TOKEN": ADMIN_TOKEN,
        "TIMEBANK_TOKEN_SECRET": TOKEN_SECRET,
        "TIMEBANK_TIMEZONE": TIMEZONE,
        **extra,
    }


def api_server(processes: Processes, name: str, env: dict[str, str]) -> Service:
    port = free_port()
    return Service(processes, name, ["serve", "--port", str(port)], env, port=port)


def open_store(
    database_url: str, connections: int = 1, clock: Callable[[], datetime] | None = None
) -> TimeBank:
    """A fresh ledger on the same store, in the test process (twice `connections` at most)."""
    return TimeBank.from_url(database_url, pool_size=connections, clock=clock)


def open_views(ledger: TimeBank) -> ViewStore:
    """The views of the ledger's store, as a process opening them would."""
    store = ViewStore.open(ledger, pool_size=2)
    store.prepare()
    return store


def stored_balances(ledger: TimeBank, store: ViewStore) -> Balances:
    """The balances view as stored by whoever last wrote it."""
    with store.read() as conn:
        rows = conn.execute(select(balances)).all()
    stored = {}
    for row in rows:
        balance = row.earned - row.redeemed + row.received - row.given - row.expired
        stored[str(row.member_id)] = (balance, row.held, balance - row.held)
    return stored


def check_stored_views(ledger: TimeBank, store: ViewStore, expected: Balances) -> None:
    """The stored balances are the expected ones, and verify finds nothing."""
    stored = stored_balances(ledger, store)
    if stored != expected:
        differ = {k: (stored.get(k), v) for k, v in expected.items() if stored.get(k) != v}
        raise ProjectionMismatchError(f"stored balances (stored, expected): {differ}")
    report = verify(ledger, store)
    if not report.ok:
        raise ProjectionMismatchError(f"verify: {report.problems}")


def wait_for_stored_views(store: ViewStore, position: int) -> None:
    """Until the stored views and the audit trail have reached a log position."""
    wait_until(
        lambda: store.position() >= position,
        timeout=CONVERGE_SECONDS,
        what=f"the stored projections to reach position {position}",
    )


def run_cli(args: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """A `timebank` command to its end (killed if it takes more than a minute)."""
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=REPO,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def replayed_balances(database_url: str) -> Balances:
    """Every member's minutes folded from the stored events by a fresh ledger."""
    ledger = open_store(database_url)
    try:
        result = replay(ledger)
    finally:
        ledger.close()
    return {
        str(b.member_id): (b.balance_minutes, b.held_minutes, b.available_minutes)
        for b in result.balances
    }


# A community, set up over HTTP ----------------------------------------------------------


@dataclass(frozen=True)
class Member:
    id: str
    token: str


@dataclass(frozen=True)
class Community:
    team: str
    coordinator: Member
    volunteers: list[Member]
    elder: Member  # receives what the volunteers give
    # The days the load logs service on, all before "today" where it is decided: spread
    # so that no volunteer comes near the rules' daily limit.
    service_days: list[str]

    @property
    def members(self) -> list[Member]:
        return [self.coordinator, *self.volunteers, self.elder]


def admin_post(client: httpx.Client, path: str, body: JSON, key: str) -> JSON:
    response = client.post(path, json=body, headers={**bearer(ADMIN_TOKEN), "Idempotency-Key": key})
    assert response.status_code in (200, 201), f"{path}: {response.status_code} {response.text}"
    answer: JSON = response.json()
    return answer


def build_community(base: str, volunteers: int, initial_minutes: int) -> Community:
    """A day-care team: a coordinator, volunteers each with `initial_minutes` approved,
    and an elder in no team; every member with a token."""
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    since, first = (
        (today - timedelta(days=30)).isoformat(),
        (today - timedelta(days=29)).isoformat(),
    )
    days = [(today - timedelta(days=n)).isoformat() for n in range(1, 29)]
    with httpx.Client(base_url=base, timeout=REQUEST_SECONDS) as client:

        def register(name: str) -> Member:
            answer = admin_post(client, "/members", {"name": name}, f"register-{name}")
            return Member(answer["id"], answer["token"])

        team = admin_post(
            client,
            "/teams",
            {"name": "Day care", "community": "Dongcheng", "founded_on": "2020-01-01"},
            "team",
        )["id"]
        coordinator = register("Coordinator Chen")
        people = [register(f"Volunteer {n}") for n in range(volunteers)]
        elder = register("Grandma Liu")
        for person, role in [(coordinator, "coordinator")] + [(p, "volunteer") for p in people]:
            admin_post(
                client,
                f"/teams/{team}/members",
                {"member_id": person.id, "role": role, "effective_date": since},
                f"join-{person.id}",
            )
        for person in people:
            logged = client.post(
                "/service-logs",
                json={
                    "team_id": team,
                    "service_date": first,
                    "minutes": initial_minutes,
                    "activity": "home care",
                },
                headers=bearer(person.token),
            )
            assert logged.status_code == 201, logged.text
            approved = client.post(
                f"/service-logs/{logged.json()['id']}/approve", headers=bearer(coordinator.token)
            )
            assert approved.status_code == 200, approved.text
    return Community(team, coordinator, people, elder, days)


# Writes and the clients that send them ---------------------------------------------------


@dataclass
class Write:
    """One POST with its Idempotency-Key, and the answer that acknowledged it (if any)."""

    kind: str  # log, approve, redeem, transfer
    key: str
    token: str
    path: str
    body: JSON
    volunteer: str  # whose minutes it concerns
    minutes: int
    approves: Write | None = None  # the log an approval reviews
    status: int | None = None  # of the first 2xx answer
    answer: JSON | None = None
    dropped: int = 0  # attempts that ended in a broken connection
    busy: int = 0  # attempts answered 503 (nothing changed, retry)
    busy_codes: list[str] = field(default_factory=list)  # the code of each 503 answer

    @property
    def acknowledged(self) -> bool:
        return self.status is not None

    @property
    def resource_id(self) -> str:
        assert self.answer is not None, f"{self.key} was never acknowledged"
        ident: str = self.answer["id"]
        return ident

    def send(self, client: httpx.Client) -> bool:
        """One attempt; True when a 2xx answer acknowledged it. Any other answer than a
        2xx, a 503 or a broken connection fails the test."""
        try:
            response = client.post(
                self.path,
                json=self.body,
                headers={**bearer(self.token), "Idempotency-Key": self.key},
            )
        except httpx.TransportError:
            self.dropped += 1
            return False
        if response.status_code == 503:
            self.busy += 1
            self.busy_codes.append(response.json().get("code", "?"))
            return False
        assert response.status_code in (200, 201), (
            f"{self.kind} {self.key}: {response.status_code} {response.text}"
        )
        if self.status is None:
            self.status, self.answer = response.status_code, response.json()
        return True


class Journal:
    """Every write the clients sent, in the order they were first sent, and how far ahead of
    the main thread's last wait the clients may write (so none runs out of writes while a
    slow restart keeps the main thread waiting)."""

    AHEAD = 40  # acknowledged writes the clients may make beyond the awaited number

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.writes: list[Write] = []
        self.acknowledged = 0
        self.allowance = 0  # acknowledged writes after which the clients wait

    def sent(self, write: Write) -> None:
        with self.lock:
            self.writes.append(write)

    def acknowledge(self) -> None:
        with self.lock:
            self.acknowledged += 1

    def count(self) -> int:
        with self.lock:
            return self.acknowledged

    def await_more(self, count: int) -> int:
        """Let the clients write `count` more (and AHEAD beyond); the count to wait for."""
        with self.lock:
            target = self.acknowledged + count
            self.allowance = target + self.AHEAD
            self.lock.notify_all()
            return target

    def admit(self, stop: threading.Event) -> bool:
        """Wait until one more write is allowed; False once the load is stopping."""
        with self.lock:
            self.lock.wait_for(lambda: stop.is_set() or self.acknowledged < self.allowance)
        return not stop.is_set()

    def wake(self) -> None:
        with self.lock:
            self.lock.notify_all()

    def busy_codes(self) -> dict[str, int]:
        """How many 503 answers of each code the writes got so far."""
        with self.lock:
            return dict(Counter(code for write in self.writes for code in write.busy_codes))


@dataclass
class Client:
    """One client thread: a volunteer who logs service, redeems and gives to the elder, and
    the coordinator who approves that volunteer's logs. Every write has a key of its own.
    A spend is only sent when it is surely affordable, whatever became of the writes that
    were not acknowledged, so the ledger never refuses one."""

    name: str
    base: str
    community: Community
    volunteer: Member
    seed: int
    journal: Journal
    stop: threading.Event

    def run(self) -> None:
        rng = random.Random(self.seed)
        unreviewed: list[Write] = []
        spendable = INITIAL_MINUTES  # acknowledged approvals minus every spend sent
        client = httpx.Client(base_url=self.base, timeout=REQUEST_SECONDS)
        try:
            for n in itertools.count():
                if not self.journal.admit(self.stop):
                    return
                write = self._next(rng, n, unreviewed, spendable)
                if write.kind in ("redeem", "transfer"):
                    spendable -= write.minutes
                self.journal.sent(write)
                if write.send(client):
                    self.journal.acknowledge()
                    if write.kind == "log":
                        unreviewed.append(write)
                    elif write.kind == "approve":
                        spendable += write.minutes
                else:  # the server went away: wait for it, on fresh connections
                    client.close()
                    self._wait_for_server()
                    client = httpx.Client(base_url=self.base, timeout=REQUEST_SECONDS)
        finally:
            client.close()

    def _next(self, rng: random.Random, n: int, unreviewed: list[Write], spendable: int) -> Write:
        c, me = self.community, self.volunteer
        key = f"{self.name}-{n}"
        roll, minutes = rng.random(), rng.randint(5, 40)
        if unreviewed and roll < 0.3:
            log = unreviewed.pop(0)
            approved = rng.randint(1, log.minutes)
            return Write(
                "approve",
                f"{key}-approve",
                c.coordinator.token,
                f"/service-logs/{log.resource_id}/approve",
                {"minutes": approved},
                me.id,
                approved,
                approves=log,
            )
        if roll < 0.55 and minutes <= spendable:
            body: JSON = {"team_id": c.team, "service": "haircut", "minutes": minutes}
            return Write("redeem", f"{key}-redeem", me.token, "/redemptions", body, me.id, minutes)
        if roll < 0.8 and minutes <= spendable:
            body = {"to_member_id": c.elder.id, "minutes": minutes, "note": "for mother"}
            return Write(
                "transfer", f"{key}-transfer", me.token, "/transfers", body, me.id, minutes
            )
        logged = rng.randint(15, 180)
        body = {
            "team_id": c.team,
            "service_date": rng.choice(c.service_days),
            "minutes": logged,
            "activity": "home care",
        }
        return Write("log", f"{key}-log", me.token, "/service-logs", body, me.id, logged)

    def _wait_for_server(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.stop.is_set() and not healthy(self.base):
            assert time.monotonic() < deadline, f"{self.base} down for {STARTUP_SECONDS} s"
            time.sleep(0.05)


class Load:
    """Client threads writing until told to stop; the main thread waits on their progress."""

    def __init__(self, clients: Sequence[Client], journal: Journal, stop: threading.Event) -> None:
        self.clients = clients
        self.journal = journal
        self.stop = stop
        self.pool = ThreadPoolExecutor(len(clients), thread_name_prefix="client")
        self.futures: list[Future[None]] = []

    def __enter__(self) -> Load:
        self.futures = [self.pool.submit(c.run) for c in self.clients]
        return self

    def wait_for_acknowledgements(self, count: int, timeout: float = 60) -> None:
        """Until `count` more writes are acknowledged; a failed client fails at once."""
        target = self.journal.await_more(count)
        wait_until(
            lambda: self.journal.count() >= target or any(f.done() for f in self.futures),
            timeout=timeout,
            what=f"{count} more acknowledged writes",
        )
        for future in self.futures:
            if future.done():
                future.result()  # raises what failed the client
        assert self.journal.count() >= target, (
            f"a client stopped writing; 503 answers by code: {self.journal.busy_codes()}"
        )

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop.set()
        self.journal.wake()
        done, running = wait_futures(self.futures, timeout=STARTUP_SECONDS + REQUEST_SECONDS)
        self.pool.shutdown(wait=not running, cancel_futures=True)
        if kind is None:
            assert not running, "client threads did not stop"
            for future in done:
                future.result()


# What must hold afterwards ---------------------------------------------------------------


@dataclass
class Tally:
    """What happened to the writes, for the report and for sanity checks."""

    sent: int = 0
    acknowledged: int = 0  # while the servers were being killed
    unacknowledged: int = 0
    recorded_before_the_crash: int = 0  # unacknowledged, yet the retry found them done
    dropped_connections: int = 0
    busy_answers: int = 0
    kinds: Counter[str] = field(default_factory=Counter)


def settle_every_write(journal: Journal, bases: Sequence[str]) -> Tally:
    """Retry every write with its key, on another server when there are several: an
    acknowledged one must answer exactly as it did; an unacknowledged one must be recorded
    now, and a second retry must answer the same again. Every resource must be readable."""
    tally = Tally()
    started = datetime.now(UTC)
    clients = [httpx.Client(base_url=b, timeout=REQUEST_SECONDS) for b in bases]
    try:
        for n, write in enumerate(journal.writes):
            tally.sent += 1
            tally.kinds[write.kind] += 1
            client = clients[(n + 1) % len(clients)]
            if write.acknowledged:
                tally.acknowledged += 1
            else:
                tally.unacknowledged += 1
                _retry_until_acknowledged(client, write)
                tally.recorded_before_the_crash += _stored_before(write, started)
            status, answer = write.status, write.answer
            write.status, write.answer = None, None
            _retry_until_acknowledged(client, write)
            assert (write.status, write.answer) == (status, answer), (
                f"{write.key}: the retry answered {write.status} {write.answer}, "
                f"not {status} {answer}"
            )
            assert write.status == (200 if write.kind == "approve" else 201), write.key
            tally.dropped_connections += write.dropped
            tally.busy_answers += write.busy
            _check_readable(client, write)
    finally:
        for client in clients:
            client.close()
    ids = [w.resource_id for w in journal.writes if w.kind != "approve"]
    assert len(ids) == len(set(ids)), "two writes answered with the same resource"
    return tally


def _retry_until_acknowledged(client: httpx.Client, write: Write, attempts: int = 20) -> None:
    for _ in range(attempts):
        if write.send(client):
            return
        time.sleep(0.05)
    raise AssertionError(f"{write.key} was not acknowledged in {attempts} attempts")


def _stored_before(write: Write, moment: datetime) -> bool:
    """Whether what a write answered with was stored before `moment` (by the server's clock,
    which is this machine's): an unacknowledged write the crash cut off after its commit."""
    answer = write.answer or {}
    field = {"log": "recorded_at", "approve": "updated_at", "redeem": "requested_at"}
    stamp = answer.get(field.get(write.kind, "made_at"))
    return stamp is not None and datetime.fromisoformat(stamp) < moment


def _check_readable(client: httpx.Client, write: Write) -> None:
    path = {
        "log": "/service-logs/{}",
        "approve": "/service-logs/{}",
        "redeem": "/redemptions/{}",
        "transfer": "/transfers/{}",
    }[write.kind].format(write.resource_id)
    read = client.get(path, headers=bearer(ADMIN_TOKEN))
    assert read.status_code == 200, f"{write.key}: GET {path}: {read.status_code} {read.text}"
    if write.kind == "approve":
        assert read.json()["status"] == "approved", read.text
        assert read.json()["approved_minutes"] == write.minutes, read.text


def expected_minutes(
    community: Community, writes: Sequence[Write], initial: int = INITIAL_MINUTES
) -> dict[str, JSON]:
    """Every member's minutes from the writes alone, each recorded exactly once, after each
    volunteer was approved `initial` minutes."""
    zero = {
        "pending_minutes": 0,
        "earned_minutes": 0,
        "redeemed_minutes": 0,
        "held_minutes": 0,
        "received_minutes": 0,
        "given_minutes": 0,
    }
    expected: dict[str, JSON] = {m.id: {"member_id": m.id, **zero} for m in community.members}
    for v in community.volunteers:
        expected[v.id]["earned_minutes"] = initial
    approved = {w.approves.key for w in writes if w.approves is not None}
    for w in writes:
        mine = expected[w.volunteer]
        if w.kind == "log" and w.key not in approved:
            mine["pending_minutes"] += w.minutes
        elif w.kind == "approve":
            mine["earned_minutes"] += w.minutes
        elif w.kind == "redeem":
            mine["held_minutes"] += w.minutes
        elif w.kind == "transfer":
            mine["given_minutes"] += w.minutes
            expected[community.elder.id]["received_minutes"] += w.minutes
    for m in expected.values():
        m["balance_minutes"] = (
            m["earned_minutes"] - m["redeemed_minutes"] + m["received_minutes"] - m["given_minutes"]
        )
        m["available_minutes"] = m["balance_minutes"] - m["held_minutes"]
        m["expired_minutes"] = 0  # the default rules never expire minutes
        m["expiring"] = []
    return expected


def as_replayed(expected: Mapping[str, JSON]) -> Balances:
    return {
        ident: (m["balance_minutes"], m["held_minutes"], m["available_minutes"])
        for ident, m in expected.items()
    }


def served_balances(base: str, member_ids: Sequence[str]) -> dict[str, JSON]:
    with httpx.Client(base_url=base, timeout=REQUEST_SECONDS) as client:
        answers = {}
        for ident in member_ids:
            response = client.get(f"/members/{ident}/balance", headers=bearer(ADMIN_TOKEN))
            if response.status_code != 200:
                raise ProjectionMismatchError(f"GET balance of {ident}: {response.text}")
            answers[ident] = response.json()
        return answers


def wait_for_served_balances(base: str, expected: Mapping[str, JSON]) -> None:
    """Until the server's projections show exactly the expected minutes for everyone."""
    last: dict[str, JSON] = {}

    def agree() -> bool:
        nonlocal last
        last = served_balances(base, list(expected))
        return last == expected

    try:
        wait_until(agree, timeout=CONVERGE_SECONDS, what=f"{base} to serve the replayed balances")
    except ProjectionMismatchError:
        raise
    except AssertionError:
        differ = {k: (last.get(k), v) for k, v in expected.items() if last.get(k) != v}
        msg = f"{base} serves other balances (served, expected): {differ}"
        raise ProjectionMismatchError(msg) from None


def check_statements_and_logs(base: str, community: Community, journal: Journal) -> None:
    """Each volunteer's statement has one `gave` line per transfer and one `earned` line per
    approval; the logs listed for them are exactly the logs written (one each)."""
    with httpx.Client(base_url=base, timeout=REQUEST_SECONDS, headers=bearer(ADMIN_TOKEN)) as c:
        for v in community.volunteers:
            mine = [w for w in journal.writes if w.volunteer == v.id]
            kinds = Counter(line["kind"] for line in _all_items(c, f"/members/{v.id}/statement"))
            want = {
                "gave": sum(w.kind == "transfer" for w in mine),
                "earned": 1 + sum(w.kind == "approve" for w in mine),  # + the initial one
            }
            if {k: kinds[k] for k in want} != want:
                raise ProjectionMismatchError(f"statement of {v.id}: {kinds}, expected {want}")
            logs = {item["id"] for item in _all_items(c, f"/service-logs?volunteer_id={v.id}")}
            written = {w.resource_id for w in mine if w.kind == "log"}
            if not written <= logs or len(logs) != len(written) + 1:
                raise ProjectionMismatchError(
                    f"logs of {v.id}: {len(logs)} listed, {written - logs}"
                )


def _all_items(client: httpx.Client, path: str) -> list[JSON]:
    items: list[JSON] = []
    after: str | int | None = None
    separator = "&" if "?" in path else "?"
    for _ in range(100):  # bounded: at most 100 pages
        query = f"{separator}limit=500" + ("" if after is None else f"&after={after}")
        response = client.get(path + query)
        if response.status_code != 200:
            raise ProjectionMismatchError(f"GET {path}: {response.status_code} {response.text}")
        page = response.json()
        items.extend(page["items"])
        after = page["next_after"]
        if after is None:
            return items
    raise AssertionError(f"{path}: more than 100 pages")


def verify_over_http(base: str) -> JSON:
    response = httpx.get(f"{base}/audit/verify", headers=bearer(ADMIN_TOKEN), timeout=60)
    if response.status_code != 200:
        raise ProjectionMismatchError(f"GET /audit/verify: {response.status_code} {response.text}")
    report: JSON = response.json()
    if not report["ok"]:
        raise ProjectionMismatchError(f"verify: {report['problems']}")
    return report
