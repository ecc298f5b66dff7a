"""How big each run is: smoke (seconds, for the test suite), 40k (minutes), 1m and 5m."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    name: str  # as given to --size, and in the section's key in BENCHMARKS.md
    repeats: int  # repeats of the cheap measurements (commands, HTTP)
    heavy_repeats: int  # repeats of the passes over the whole log (rebuild, replay, verify)
    volunteers: int
    commands: int  # commands of each type per repeat
    ledger_events: int  # the ledger is grown to at least this many events
    import_rows: int  # rows per import batch while growing the ledger
    catch_up_rows: int  # rows written before each timed catch-up (three events a row)
    freshness_seconds: float
    freshness_max_rate: float  # log+approve pairs per second at most
    balance_reads: int
    http_repeats: int
    http_seconds: float  # per endpoint and repeat
    mixed_seconds: float  # mixed load before the API process's memory is read (issue: 60)
    pending_logs: int  # logs left pending in the community, for the coordinator's list
    workers_seconds: float  # balance reads per process count (PostgreSQL only)
    workers: tuple[int, ...] = (1, 2, 4)  # `timebank serve --workers N` compared on PostgreSQL
    http_connections: int = 16


SMOKE = Sizes(
    name="smoke",
    repeats=2,
    heavy_repeats=2,
    volunteers=8,
    commands=10,
    ledger_events=1_500,
    import_rows=200,
    catch_up_rows=100,
    freshness_seconds=1.0,
    freshness_max_rate=20.0,
    balance_reads=2_000,
    http_repeats=1,
    http_seconds=1.0,
    mixed_seconds=2.0,
    pending_logs=20,
    workers_seconds=1.0,
    workers=(1, 2),
)
QUICK = Sizes(
    name="40k",
    repeats=5,
    heavy_repeats=3,
    volunteers=50,
    commands=150,
    ledger_events=40_000,
    import_rows=1_000,
    catch_up_rows=1_000,
    freshness_seconds=8.0,
    freshness_max_rate=50.0,
    balance_reads=100_000,
    http_repeats=3,
    http_seconds=3.0,
    mixed_seconds=15.0,
    pending_logs=200,
    workers_seconds=5.0,
)
# At a million events and more the passes over the whole log run once: each takes minutes on
# a shared two-core machine, and a run has to end within the morning.
MILLION = Sizes(
    name="1m",
    repeats=5,
    heavy_repeats=1,
    volunteers=1_000,
    commands=300,
    ledger_events=1_000_000,
    import_rows=2_000,
    catch_up_rows=5_000,
    freshness_seconds=20.0,
    freshness_max_rate=50.0,
    balance_reads=20_000,
    http_repeats=3,
    http_seconds=10.0,
    mixed_seconds=60.0,
    pending_logs=500,
    workers_seconds=10.0,
)
FIVE_MILLION = Sizes(
    name="5m",
    repeats=5,
    heavy_repeats=1,
    volunteers=1_000,
    commands=300,
    ledger_events=5_000_000,
    import_rows=2_000,
    catch_up_rows=5_000,
    freshness_seconds=20.0,
    freshness_max_rate=50.0,
    balance_reads=20_000,
    http_repeats=3,
    http_seconds=10.0,
    mixed_seconds=60.0,
    pending_logs=500,
    workers_seconds=10.0,
)
SIZES = {s.name: s for s in (SMOKE, QUICK, MILLION, FIVE_MILLION)}
