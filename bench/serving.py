"""The API from outside: cold start, reads under load, memory, and several processes."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx

from bench.load import Call, LoadResult, run_load
from bench.server import (
    HttpCommunity,
    Server,
    balance_calls,
    health_calls,
    pending_calls,
    ranking_calls,
    service_log_calls,
    statement_calls,
)

LAG_PROBE_RATE = 10.0  # log+approve pairs a second over HTTP, beside the balance reads

# Each endpoint the issue sets a target for: (ratio to GET /health, p99 limit in ms).
READ_TARGETS: dict[str, tuple[float | None, float | None]] = {
    "GET /health": (None, None),
    "GET /members/{id}/balance": (0.7, 20.0),
    "GET /members/{id}/statement": (None, 30.0),
    "GET /rankings/teams?period=all": (None, 100.0),
    "GET /rankings/teams?period=YYYY": (None, 100.0),
    "GET /rankings/teams?period=YYYY-MM": (None, 100.0),
    "GET /rankings/volunteers?period=all": (None, 100.0),
    "GET /rankings/volunteers?period=YYYY": (None, 100.0),
    "GET /rankings/volunteers?period=YYYY-MM": (None, 100.0),
    "GET /service-logs?status=pending": (None, 50.0),
    "POST /service-logs": (0.15, 100.0),
}


def endpoint_calls(c: HttpCommunity) -> dict[str, list[Call]]:
    """The calls of each endpoint in READ_TARGETS, in its order."""
    periods = {"all": "all", "YYYY": c.year, "YYYY-MM": c.month}
    calls = {
        "GET /health": health_calls(),
        "GET /members/{id}/balance": balance_calls(c),
        "GET /members/{id}/statement": statement_calls(c),
    }
    for of in ("teams", "volunteers"):
        for shown, period in periods.items():
            calls[f"GET /rankings/{of}?period={shown}"] = ranking_calls(c, of, period)
    calls["GET /service-logs?status=pending"] = pending_calls(c)
    calls["POST /service-logs"] = service_log_calls(c)
    return calls


def mixed_calls(c: HttpCommunity) -> list[Call]:
    """What a day's clients send, roughly: each member reads their balance twice, a page of
    their statement and one of the six rankings, and logs a service; the coordinator reads
    the pending list once every four members."""
    calls = endpoint_calls(c)
    rankings = [calls[name] for name in calls if name.startswith("GET /rankings")]
    pending = calls["GET /service-logs?status=pending"][0]
    mixed: list[Call] = []
    for i in range(len(c.members)):
        mixed += [
            calls["GET /members/{id}/balance"][i],
            calls["GET /members/{id}/statement"][i],
            calls["GET /members/{id}/balance"][i],
            rankings[i % len(rankings)][i],
            calls["POST /service-logs"][i],
        ]
        if i % 4 == 3:
            mixed.append(pending)
    return mixed


def loader_for(
    loader: str, server: Server, connections: int, workdir: Path
) -> Callable[[list[Call], float], LoadResult]:
    def load(calls: list[Call], seconds: float) -> LoadResult:
        return run_load(
            loader,
            server.base_url,
            calls,
            connections=connections,
            seconds=seconds,
            workdir=workdir,
        )

    return load


@dataclass
class HttpLags:
    seconds: list[float] = field(default_factory=list)
    pairs: int = 0
    rate: float = 0.0  # log+approve pairs per second achieved
    failures: int = 0  # writes refused, not visible in time, or cut off
    errors: list[str] = field(default_factory=list)  # the connection errors among them


def probe_lag(server: Server, c: HttpCommunity, rate: float, stop: threading.Event) -> HttpLags:
    """Over HTTP, beside a load, until stopped: a volunteer logs service and the coordinator
    approves it, at a steady rate; another caller (the admin token, who wrote nothing) reads
    the volunteer's balance until the credit shows. Lag is the time from the approval's 200
    to that read, whichever API process served each request. A pair refused, never seen or
    cut off (a connection reset) is counted as failed, and the probe goes on."""
    lags = HttpLags()
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    lead = {"Authorization": f"Bearer {c.coordinator[1]}"}
    yesterday = date.fromisoformat(c.service_date)
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:

        def earned(member: str) -> int:
            read = client.get(f"/members/{member}/balance", headers=admin)
            read.raise_for_status()
            minutes: int = read.json()["earned_minutes"]
            return minutes

        def pair(i: int) -> float | None:
            """One log and its approval; the lag, or None when it failed."""
            member, token = c.members[i % len(c.members)]
            # A different day each round, far from any volunteer's daily limit.
            served = yesterday - timedelta(days=(i // len(c.members)) % 300)
            before = earned(member)
            logged = client.post(
                "/service-logs",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "team_id": c.team_id,
                    "service_date": served.isoformat(),
                    "minutes": 30,
                    "activity": "care",
                },
            )
            if logged.status_code != 201:
                return None
            approved = client.post(f"/service-logs/{logged.json()['id']}/approve", headers=lead)
            acknowledged = time.perf_counter()
            if approved.status_code != 200:
                return None
            lags.pairs += 1
            deadline = acknowledged + 10
            while earned(member) < before + 30:
                if time.perf_counter() > deadline:
                    return None
                time.sleep(0.002)
            return time.perf_counter() - acknowledged

        start = time.perf_counter()
        i = 0
        while i == 0 or not stop.is_set():  # one pair at least, however starved the machine
            due = start + i / rate
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            try:
                lag = pair(i)
            except httpx.TransportError as error:
                lags.errors.append(repr(error))
                lag = None
            i += 1
            if lag is None:
                lags.failures += 1
            else:
                lags.seconds.append(lag)
        taken = time.perf_counter() - start
    lags.rate = lags.pairs / taken if taken else 0.0
    return lags


def median_of(runs: list[LoadResult], which: str) -> float:
    value: float = statistics.median(getattr(r, which) for r in runs)
    return value
