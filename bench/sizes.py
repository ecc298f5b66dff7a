"""How big each mode is: smoke (seconds, for the test suite), quick (minutes), full."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    mode: str
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
    http_connections: int = 16


SMOKE = Sizes(
    mode="smoke",
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
    http_repeats=2,
    http_seconds=1.0,
)
QUICK = Sizes(
    mode="quick",
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
)
FULL = Sizes(
    mode="full",
    repeats=5,
    heavy_repeats=3,
    volunteers=1_000,
    commands=300,
    ledger_events=1_000_000,
    import_rows=2_000,
    catch_up_rows=5_000,
    freshness_seconds=20.0,
    freshness_max_rate=50.0,
    balance_reads=1_000_000,
    http_repeats=5,
    http_seconds=10.0,
)
