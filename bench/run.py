"""One benchmark run: every group on one fresh store, written to BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from api.settings import Settings
from bench import floor as floor_bench
from bench.freshness import balance_reads, projection_lag
from bench.ledger import Community, build_community, command_round, import_rows
from bench.load import LoadResult, choose_loader, loader_version
from bench.logscan import head, scan_and_decode
from bench.report import Figure, RunReport, machine, median_rate, percentile, write_markdown
from bench.server import (
    HttpCommunity,
    Secrets,
    Server,
    api_processes,
    balance_calls,
    rss_mib,
    running_server,
    sign_in_over_http,
)
from bench.serving import (
    LAG_PROBE_RATE,
    READ_TARGETS,
    endpoint_calls,
    loader_for,
    median_of,
    mixed_calls,
    probe_lag,
)
from bench.sizes import MILLION, SIZES, SMOKE, Sizes
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
            size=sizes.name,
            command=command,
            machine=machine(),
        )
        self.timings: dict[str, float] = {}
        self.command_rates: dict[str, float] = {}
        self.keys = Secrets()  # every server of the run: tokens issued by one sign in on the next
        self.rss_at_start = 0.0
        self.http_community: HttpCommunity | None = None

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
            "" if events >= 1_000_000 else "; the targets are for a million and more (--size 1m)"
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

    # Pending logs, so that a coordinator's list has a page to show ----------------------

    def leave_pending(self, c: Community, runner: ProjectionRunner) -> None:
        for i in range(self.sizes.pending_logs):
            c.app.log_service(
                actor_id=c.volunteer(i),
                team_id=c.team,
                service_date=c.service_date(),
                minutes=30,
                activity="care",
            )
        runner.catch_up()  # the views are current when the server starts, as after a restart

    # 3: HTTP, on `timebank serve` in its own process -----------------------------------

    def http(self, c: Community) -> None:
        sizes, store = self.sizes, self.store
        readers = c.volunteers[: sizes.http_connections]
        with running_server(
            store.url, store.workdir, keys=self.keys, ready_member=str(readers[0])
        ) as server:
            self.cold_start(server)
            community = sign_in_over_http(server, c.team, c.coordinator, readers)
            self.http_community = community
            load = loader_for(self.loader, server, sizes.http_connections, store.workdir)
            mixed = load(mixed_calls(community), sizes.mixed_seconds)  # warms every endpoint
            self.memory(server, mixed)
            calls = endpoint_calls(community)
            results: dict[str, list[LoadResult]] = {name: [] for name in calls}
            for _ in range(sizes.http_repeats):
                for name, endpoint in calls.items():
                    results[name].append(load(endpoint, sizes.http_seconds))
        self.report.facts["Server"] = (
            f"`{server.command}` (uvicorn, one process, its default access log to a file); "
            f"read as {len(readers)} of the community's volunteers, each with a token the "
            "admin token issued, and its coordinator"
        )
        self.report.facts["Load generator"] = (
            f"{loader_version(self.loader)} in its own process, {sizes.http_connections} "
            f"connections, {sizes.http_seconds:g} s per endpoint and repeat after "
            f"{sizes.mixed_seconds:g} s of mixed load; rates are medians of the "
            f"{sizes.http_repeats} repeats, p50/p99 the medians of each repeat's percentiles"
        )
        self.report.facts["Periods"] = (
            f"YYYY is {community.year}, YYYY-MM is {community.month} (by service date); "
            "statements and lists are their first page (50 items)"
        )
        self._http_figures(results)

    def cold_start(self, server: Server) -> None:
        self.add(
            "3 HTTP",
            "cold start: `timebank serve` to the first 200 of a balance read",
            server.ready_seconds,
            "s",
            limit=3,
            note="views current; the store's files in the page cache; target at 5M events",
        )
        self.rss_at_start = rss_mib(server.pid)

    def memory(self, server: Server, mixed: LoadResult) -> None:
        sizes = self.sizes
        self.add("3 HTTP", "API process RSS once serving", self.rss_at_start, "MiB")
        self.add(
            "3 HTTP",
            f"API process RSS after {sizes.mixed_seconds:g} s of mixed load",
            rss_mib(server.pid),
            "MiB",
            limit=250,
            note=(
                f"VmRSS; {mixed.requests:,} requests ({mixed.rate:,.0f}/s, "
                f"{mixed.non_2xx + mixed.errors} non-2xx or failed): balances, statements, "
                "rankings, the pending list and service logged; target at 5M events"
                + ("" if sizes.mixed_seconds >= 60 else ", after 60 s of load")
            ),
        )

    def _http_figures(self, results: dict[str, list[LoadResult]]) -> None:
        def rate(name: str) -> float:
            return statistics.median(r.rate for r in results[name])

        group = "3 HTTP"
        health = rate("GET /health")
        self.add(group, "GET /health (framework floor)", health, "requests/s")
        self.add(group, "GET /health p99", median_of(results["GET /health"], "p99") * 1000, "ms")
        for name, (ratio, limit) in READ_TARGETS.items():
            if name == "GET /health":
                continue
            runs = results[name]
            self.add(
                group,
                name,
                rate(name),
                "requests/s",
                baseline=health if ratio is not None else None,
                baseline_name="GET /health" if ratio is not None else "",
                min_ratio=ratio,
            )
            self.add(group, f"{name} p50", median_of(runs, "p50") * 1000, "ms")
            self.add(group, f"{name} p99", median_of(runs, "p99") * 1000, "ms", limit=limit)
        for name, runs in results.items():
            bad = sum(r.non_2xx + r.errors for r in runs)
            total = sum(r.requests for r in runs)
            self.add(
                group, f"{name} non-2xx or failed", bad, "responses", limit=0, note=f"of {total:,}"
            )

    # 7: several API processes on one PostgreSQL store ----------------------------------

    def workers(self, c: Community) -> None:
        """The last group: if it breaks, the report keeps every figure measured before."""
        try:
            self._workers(c)
        except (
            httpx.HTTPError,
            LookupError,
            OSError,
            RuntimeError,
            subprocess.SubprocessError,
        ) as error:
            notes = "".join(
                "\n\n" + textwrap.indent(note, "      ") for note in getattr(error, "__notes__", ())
            )
            self.report.problems.append(f"API processes: the group stopped: {error!r}{notes}")

    def _workers(self, c: Community) -> None:
        sizes, store = self.sizes, self.store
        community = self.http_community
        if community is None:
            raise RuntimeError("the HTTP group signs the community in first")
        rates: dict[int, float] = {}
        for count in sizes.workers:
            with running_server(
                store.url,
                store.workdir,
                keys=self.keys,
                workers=count,
                ready_member=str(c.volunteers[0]),
            ) as server:
                load = loader_for(self.loader, server, sizes.http_connections, store.workdir)
                load(balance_calls(community), 1.0)  # warm-up, untimed: every process serves
                stop = threading.Event()
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-lag") as pool:
                    probe = pool.submit(probe_lag, server, community, LAG_PROBE_RATE, stop)
                    try:
                        result = load(balance_calls(community), sizes.workers_seconds)
                    finally:
                        stop.set()
                    lags = probe.result()  # re-raises whatever stopped the probe
                serving = api_processes(server.pid) if count > 1 else [server.pid]
                largest = max(rss_mib(pid) for pid in serving)
            rates[count] = result.rate
            shown = f"{count} API process" + ("es" if count > 1 else "")
            one = rates[sizes.workers[0]]
            self.add(
                "7 API processes",
                f"balance reads with {shown}",
                result.rate,
                "requests/s",
                baseline=one if count > 1 else None,
                baseline_name=f"{sizes.workers[0]} API process" if count > 1 else "",
                min_ratio=1.0 if count > 1 else None,
                note=(
                    f"`timebank serve --workers {count}`; p99 {result.p99 * 1000:.1f} ms, "
                    f"{result.non_2xx + result.errors} non-2xx or failed; "
                    f"largest process {largest:.0f} MiB RSS; {len(serving)} serving at the end"
                ),
            )
            lag_ms = [s * 1000 for s in lags.seconds]
            self.add(
                "7 API processes",
                f"projection lag p99 with {shown}",
                percentile(lag_ms, 99) if lag_ms else None,
                "ms",
                limit=250,
                note=(
                    f"{lags.pairs} log+approve pairs over HTTP at {lags.rate:.1f}/s during the "
                    f"reads, p50 {percentile(lag_ms, 50):.0f} ms; {lags.failures} failed"
                ),
            )
            if lags.failures:
                errors = f" ({', '.join(sorted(set(lags.errors)))})" if lags.errors else ""
                self.report.problems.append(
                    f"lag probe with {shown}: {lags.failures} pairs refused, never visible or "
                    f"cut off{errors}"
                )
        self.report.facts["API processes"] = (
            f"PostgreSQL only: `timebank serve --workers N` for N in {list(sizes.workers)}, "
            f"{sizes.workers_seconds:g} s of balance reads each ({sizes.http_connections} "
            f"connections) while a probe logs and approves {LAG_PROBE_RATE:g} services a "
            "second over HTTP and reads the credit as another caller until it shows"
        )


def run(
    sizes: Sizes, loader: str, command: str, configured: str | None, *, log_passes: bool = True
) -> RunReport:
    """Measure every group on one fresh store (without the timed passes over the whole
    log when `log_passes` is false: the views are then built once, untimed)."""
    started = time.perf_counter()
    loaded = os.getloadavg()[0]
    with fresh_store(configured) as store:
        bench = Bench(store, sizes, loader, command)
        _say(f"{sizes.name} run on {store.label}")
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
                if log_passes:
                    with bench.group("projections"):
                        bench.projections(community, runner)
                else:
                    with bench.group("building the views"):
                        runner.catch_up()
                with bench.group("freshness"):
                    bench.freshness(community, runner)
                bench.leave_pending(community, runner)
            finally:
                views.close()
            events = head(app)
        finally:
            app.close()
        if log_passes:
            with bench.group("auditor"):
                bench.auditor(events)
        else:
            bench.report.facts["Skipped"] = (
                "the timed passes over the whole log (projections: rebuild, catch-up; "
                "auditor: replay, verify), with --no-log-passes"
            )
        with bench.group("HTTP"):
            bench.http(community)
        if store.kind == "postgresql":
            with bench.group("API processes"):
                bench.workers(community)
        report = bench.report
        report.seconds = time.perf_counter() - started
        report.facts["Machine load"] = (
            f"load average {loaded:.1f} at the start and {os.getloadavg()[0]:.1f} at the end "
            "(one minute; other work shares the machine)"
        )
        report.facts["Time per group"] = ", ".join(
            f"{name} {seconds:.0f} s" for name, seconds in bench.timings.items()
        )
    _order(report)
    return report


def _order(report: RunReport) -> None:
    """Figures in the issue's order: groups 1 to 7, ledger generation last."""

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
    size.add_argument(
        "--size",
        choices=[name for name in SIZES if name != SMOKE.name],
        default=None,
        help="the ledger's size in events: 40k (default, minutes), 1m or 5m (long)",
    )
    size.add_argument("--full", action="store_true", help="the same as --size 1m")
    size.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    parser.add_argument(
        "--out",
        type=Path,
        help="the Markdown report to update (default: BENCHMARKS.md; none for --smoke)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--no-log-passes",
        action="store_true",
        help="skip the timed passes over the whole log (rebuild, replay, verify): at 5m they "
        "take most of a run; the views are built once, untimed",
    )
    parser.add_argument(
        "--loader",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="HTTP load generator (auto: wrk when on PATH, else the Python one)",
    )
    args = parser.parse_args(argv)
    sizes = MILLION if args.full else SMOKE if args.smoke else SIZES[args.size or "40k"]
    out: Path | None = args.out or (None if args.smoke else Path("BENCHMARKS.md"))
    # The store named in the settings (checked as every entry point checks it), if any:
    # without one, a fresh SQLite file rather than the default ledger in the working dir.
    settings = Settings()
    configured = settings.database_url if "database_url" in settings.model_fields_set else None
    shown = " ".join(["python -m bench", *_measuring(argv if argv is not None else sys.argv[1:])])
    if configured and urlsplit(configured).scheme.startswith("postgres"):
        shown = f"TIMEBANK_DATABASE_URL={_shown_url(configured)} {shown}"
    report = run(
        sizes, choose_loader(args.loader), shown, configured, log_passes=not args.no_log_passes
    )
    if out is not None:
        write_markdown(out, report)
        _say(f"wrote {out}")
    if args.json is not None:
        args.json.write_text(report.to_json(), encoding="utf-8")
    print(report.markdown())
    return 1 if report.problems else 0


def _measuring(argv: list[str]) -> list[str]:
    """The arguments that decide what is measured: not where the figures are written."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--out", "--json"):
            skip = True
        elif not arg.startswith(("--out=", "--json=")):
            kept.append(arg)
    return kept
