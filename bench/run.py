"""One benchmark run: every group on one fresh store, written to BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from api.settings import Settings
from bench import floor as floor_bench
from bench.freshness import balance_reads, projection_lag
from bench.ledger import Community, build_community, command_round, import_rows
from bench.load import LoadResult, choose_loader, loader_version, run_load
from bench.logscan import head, scan_and_decode
from bench.report import Figure, RunReport, machine, median_rate, percentile, write_markdown
from bench.server import (
    balance_calls,
    health_calls,
    running_server,
    service_log_calls,
    setup_over_http,
)
from bench.sizes import FULL, QUICK, SMOKE, Sizes
from bench.store import BenchStore, fresh_store
from projections.auditor import rebuild_audit_trail
from projections.queries import Reader
from projections.runner import ProjectionRunner
from projections.store import ViewStore
from timebank import TimeBank

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("log service", "approve", "redeem", "fulfil", "transfer")


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class Bench:
    """The state of one run: the store, the sizes, the report, and the ledger in-process."""

    def __init__(self, store: BenchStore, sizes: Sizes, loader: str, command: str) -> None:
        self.store = store
        self.sizes = sizes
        self.loader = loader
        self.report = RunReport(
            store=store.kind,
            store_label=store.label,
            mode=sizes.mode,
            command=command,
            machine=machine(),
        )
        self.timings: dict[str, float] = {}
        self.command_rates: dict[str, float] = {}

    @contextmanager
    def group(self, name: str) -> Iterator[None]:
        _say(f"{name} ...")
        start = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - start
        _say(f"{name} done in {self.timings[name]:.1f} s")

    def add(self, group: str, name: str, value: float | None, unit: str, **kw: Any) -> Figure:
        return self.report.add(Figure(group, name, value, unit, **kw))

    # 1 and 2: the library floor and the ledger's commands ------------------------------

    def commands(self, c: Community) -> None:
        sizes = self.sizes
        floor_app, ids = floor_bench.open_floor(self.store.floor_env, sizes.volunteers)
        try:
            floor_bench.run_floor(floor_app, ids, sizes.commands)  # warm-up, untimed
            command_round(c, sizes.commands)
            floors: list[tuple[int, float]] = []
            rounds: dict[str, list[tuple[int, float]]] = {name: [] for name in COMMANDS}
            for _ in range(sizes.repeats):  # interleaved, so drift hits both alike
                floors.append(floor_bench.run_floor(floor_app, ids, sizes.commands))
                for name, sample in command_round(c, sizes.commands).items():
                    rounds[name].append(sample)
        finally:
            floor_app.close()
        floor = median_rate(floors)
        self.add("1 library floor", "library floor: get, one event, save", floor, "commands/s")
        for name in COMMANDS:
            rate = median_rate(rounds[name])
            self.command_rates[name] = rate
            self.add(
                "2 ledger commands",
                f"command: {name}",
                rate,
                "commands/s",
                baseline=floor,
                baseline_name="library floor",
                min_ratio=0.8,
            )

    # Growing the ledger ----------------------------------------------------------------

    def grow(self, c: Community) -> None:
        app, sizes = c.app, self.sizes
        start_events = head(app)
        start = time.perf_counter()
        written, batch = 0, 0
        while head(app) < sizes.ledger_events:
            rows = min(sizes.import_rows, max(1, (sizes.ledger_events - head(app)) // 3 + 1))
            written += import_rows(c, rows, f"bench-grow-{batch}")
            batch += 1
            if batch % 50 == 0:
                _say(f"  ledger at {head(app):,} events")
        seconds = time.perf_counter() - start
        self.report.facts["Ledger"] = (
            f"{head(app):,} events: {start_events:,} from the commands above, then {written:,} "
            f"through {batch} imports of up to {sizes.import_rows:,} approved service records "
            f"(TimeBank.import_service_records, one transaction each) in {seconds:.1f} s"
        )
        if written:
            self.add(
                "ledger generation",
                "generation through imports",
                written / seconds,
                "events/s",
                note=f"{written:,} events in {seconds:.1f} s",
            )

    # 4: projections ----------------------------------------------------------------------

    def projections(self, c: Community, runner: ProjectionRunner) -> None:
        app, sizes = c.app, self.sizes
        scans: list[tuple[int, float]] = []
        rebuilds: list[tuple[int, float]] = []
        rechains: list[tuple[int, float]] = []
        for _ in range(sizes.heavy_repeats):
            scans.append(scan_and_decode(app))
            start = time.perf_counter()
            applied = runner.rebuild()
            rebuilds.append((applied, time.perf_counter() - start))
            start = time.perf_counter()
            applied = rebuild_audit_trail(app, runner.store, force=True)
            rechains.append((applied, time.perf_counter() - start))
        scan = median_rate(scans)
        events = rebuilds[-1][0]
        self.add(
            "4 projections",
            "scan-and-decode, whole log",
            scan,
            "events/s",
            note=f"{events:,} events",
        )
        self.add(
            "4 projections",
            "projections: rebuild",
            median_rate(rebuilds),
            "events/s",
            baseline=scan,
            baseline_name="scan-and-decode",
            min_ratio=0.3,
            note=f"{events:,} events: every view, as `timebank rebuild`",
        )
        self.add(
            "4 projections",
            "projections: chain the audit trail again",
            median_rate(rechains),
            "events/s",
            baseline=scan,
            baseline_name="scan-and-decode",
            note=f"{events:,} events, as `timebank rebuild audit` once verify passes",
        )
        tails: list[tuple[int, float]] = []
        catch_ups: list[tuple[int, float]] = []
        for repeat in range(sizes.heavy_repeats):
            before = head(app)
            import_rows(c, sizes.catch_up_rows, f"bench-catch-up-{repeat}")
            tails.append(scan_and_decode(app, after=before))
            start = time.perf_counter()
            applied = runner.catch_up()
            catch_ups.append((applied, time.perf_counter() - start))
        tail = median_rate(tails)
        self.add(
            "4 projections",
            "scan-and-decode, last events",
            tail,
            "events/s",
            note=f"{catch_ups[-1][0]:,} events",
        )
        self.add(
            "4 projections",
            "projections: catch-up",
            median_rate(catch_ups),
            "events/s",
            baseline=tail,
            baseline_name="scan-and-decode of the same events",
            min_ratio=0.3,
            note=f"last {catch_ups[-1][0]:,} events",
        )

    # 6: freshness ------------------------------------------------------------------------

    def freshness(self, c: Community, runner: ProjectionRunner) -> None:
        sizes = self.sizes
        log_rate, approve_rate = self.command_rates["log service"], self.command_rates["approve"]
        pair_rate = 1 / (1 / log_rate + 1 / approve_rate)
        rate = min(sizes.freshness_max_rate, pair_rate / 2)
        interval = Settings.model_fields["projection_interval"].default
        runner.start(interval=interval)
        reader = Reader(runner.store, c.app.today)
        try:
            lags = projection_lag(c, reader, rate=rate, seconds=sizes.freshness_seconds)
            events = head(c.app)
            reads = balance_reads(reader, c.volunteers[0], sizes.balance_reads)
        finally:
            runner.stop()
        note = (
            f"{lags.writes} log+approve pairs at {lags.rate:.0f}/s, half the measured pair "
            f"rate or {sizes.freshness_max_rate:g}/s; runner polling every {interval * 1000:g} ms"
        )
        lag_ms = [s * 1000 for s in lags.seconds]
        self.add("6 freshness", "projection lag p50", percentile(lag_ms, 50), "ms", note=note)
        self.add("6 freshness", "projection lag p99", percentile(lag_ms, 99), "ms", limit=250)
        read_us = [s * 1e6 for s in reads]
        note = f"{len(reads):,} reads over SQL in-process, ledger of {events:,} events"
        self.add("6 freshness", "balance read p50", percentile(read_us, 50), "µs", note=note)
        self.add("6 freshness", "balance read p99", percentile(read_us, 99), "µs", limit=1000)

    # 5: the auditor, each in a child process ---------------------------------------------

    def auditor(self, events: int) -> None:
        scope = f"{events:,} events" + (
            "" if events >= 1_000_000 else "; the targets are for a million (--full)"
        )
        for work in ("replay", "verify"):
            done = subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "bench.auditor_child",
                    work,
                    self.store.url,
                    str(self.sizes.heavy_repeats),
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            data = json.loads(done.stdout)
            self.report.problems += data["problems"]
            scan = median_rate([tuple(s) for s in data["scans"]])
            self.add(
                "5 auditor",
                f"auditor: {work}",
                median_rate([tuple(r) for r in data["runs"]]),
                "events/s",
                baseline=scan,
                baseline_name="scan-and-decode in the same process",
                min_ratio=0.3,
                note=scope,
            )
            self.add(
                "5 auditor",
                f"auditor: {work} peak memory",
                data["peak_mib"],
                "MiB",
                limit=300,
                note=f"whole child process; {data['before_mib']:.0f} MiB before the work",
            )

    # 3: HTTP -----------------------------------------------------------------------------

    def http(self) -> None:
        sizes, workdir = self.sizes, self.store.workdir
        with running_server(self.store.url, workdir) as server:
            self.report.facts["Server"] = (
                f"`{server.command}` (uvicorn, one process, its default access log to a file)"
            )
            community = setup_over_http(server, sizes.http_connections)
            endpoints: dict[str, list[Any]] = {
                "GET /health": health_calls(),
                "GET /members/{id}/balance": balance_calls(community),
                "POST /service-logs": service_log_calls(community),
            }
            if not community.balance_available:
                del endpoints["GET /members/{id}/balance"]

            def load(calls: list[Any], seconds: float) -> LoadResult:
                return run_load(
                    self.loader,
                    server.base_url,
                    calls,
                    connections=sizes.http_connections,
                    seconds=seconds,
                    workdir=workdir,
                )

            for calls in endpoints.values():
                load(calls, 1.0)  # warm-up, untimed
            results: dict[str, list[LoadResult]] = {name: [] for name in endpoints}
            for _ in range(sizes.http_repeats):
                for name, calls in endpoints.items():
                    results[name].append(load(calls, sizes.http_seconds))
        self.report.facts["Load generator"] = (
            f"{loader_version(self.loader)} in its own process, {sizes.http_connections} "
            f"connections, {sizes.http_seconds:g} s per endpoint and repeat; rates are medians "
            "of the repeats, p50/p99 the medians of each repeat's percentiles"
        )
        self._http_figures(results)

    def _http_figures(self, results: dict[str, list[LoadResult]]) -> None:
        def rate(name: str) -> float | None:
            runs = results.get(name)
            return statistics.median(r.rate for r in runs) if runs else None

        def pct(name: str, which: str) -> float | None:
            runs = results.get(name)
            if not runs:
                return None
            seconds: float = statistics.median(getattr(r, which) for r in runs)
            return seconds * 1000

        health = rate("GET /health")
        group = "3 HTTP"
        self.add(group, "GET /health (framework floor)", health, "requests/s")
        self.add(group, "GET /health p99", pct("GET /health", "p99"), "ms")
        targets = {
            "GET /members/{id}/balance": (0.7, 20.0),
            "POST /service-logs": (0.15, 100.0),
        }
        for name, (ratio, limit) in targets.items():
            missing = "not available (404/405 from the server)" if name not in results else ""
            self.add(
                group,
                name,
                rate(name),
                "requests/s",
                baseline=health,
                baseline_name="GET /health",
                min_ratio=ratio,
                note=missing,
            )
            self.add(group, f"{name} p50", pct(name, "p50"), "ms")
            self.add(group, f"{name} p99", pct(name, "p99"), "ms", limit=limit)
        for name in ("GET /health", *targets):
            runs = results.get(name, [])
            bad = sum(r.non_2xx + r.errors for r in runs)
            total = sum(r.requests for r in runs)
            self.add(
                group,
                f"{name} non-2xx or failed",
                bad if runs else None,
                "responses",
                limit=0,
                note=f"of {total:,}",
            )


def run(sizes: Sizes, loader: str, command: str, configured: str | None) -> RunReport:
    """Measure every group on one fresh store."""
    started = time.perf_counter()
    with fresh_store(configured) as store:
        bench = Bench(store, sizes, loader, command)
        _say(f"{sizes.mode} run on {store.label}")
        app = TimeBank.from_url(store.url)
        try:
            with bench.group("setup"):
                community = build_community(app, sizes.volunteers)
            with bench.group("library floor and ledger commands"):
                bench.commands(community)
            with bench.group("growing the ledger"):
                bench.grow(community)
            views = ViewStore.open(app, pool_size=4)
            views.prepare()
            runner = ProjectionRunner(app, views)
            runner.claim()
            try:
                with bench.group("projections"):
                    bench.projections(community, runner)
                with bench.group("freshness"):
                    bench.freshness(community, runner)
            finally:
                views.close()
            events = head(app)
        finally:
            app.close()
        with bench.group("auditor"):
            bench.auditor(events)
        with bench.group("HTTP"):
            bench.http()
        report = bench.report
        report.seconds = time.perf_counter() - started
        report.facts["Time per group"] = ", ".join(
            f"{name} {seconds:.0f} s" for name, seconds in bench.timings.items()
        )
    _order(report)
    return report


def _order(report: RunReport) -> None:
    """Figures in the issue's order: groups 1 to 6, ledger generation last."""

    def rank(figure: Figure) -> str:
        return figure.group if figure.group[0].isdigit() else "9"

    report.figures.sort(key=rank)


def _shown_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark the ledger against its floors."
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="a million-event ledger (long)")
    size.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    parser.add_argument(
        "--out",
        type=Path,
        help="the Markdown report to update (default: BENCHMARKS.md; none for --smoke)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--loader",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="HTTP load generator (auto: wrk when on PATH, else the Python one)",
    )
    args = parser.parse_args(argv)
    sizes = FULL if args.full else SMOKE if args.smoke else QUICK
    out: Path | None = args.out or (None if args.smoke else Path("BENCHMARKS.md"))
    # The store named in the settings (checked as every entry point checks it), if any:
    # without one, a fresh SQLite file rather than the default ledger in the working dir.
    settings = Settings()
    configured = settings.database_url if "database_url" in settings.model_fields_set else None
    shown = " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])])
    if configured and urlsplit(configured).scheme.startswith("postgres"):
        shown = f"TIMEBANK_DATABASE_URL={_shown_url(configured)} {shown}"
    report = run(sizes, choose_loader(args.loader), shown, configured)
    if out is not None:
        write_markdown(out, report)
        _say(f"wrote {out}")
    if args.json is not None:
        args.json.write_text(report.to_json(), encoding="utf-8")
    print(report.markdown())
    return 1 if report.problems else 0
