"""A tiny run of the benchmark, so that it cannot rot: every figure, no errors, never speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bench.load import Call, parse_wrk, run_load
from bench.report import Figure, RunReport, write_markdown
from tests.support import postgres_test_url

ROOT = Path(__file__).resolve().parents[2]
PERIODS = ("all", "YYYY", "YYYY-MM")

ENDPOINTS = [
    "GET /members/{id}/balance",
    "GET /members/{id}/statement",
    *(f"GET /rankings/{of}?period={p}" for of in ("teams", "volunteers") for p in PERIODS),
    "GET /service-logs?status=pending",
    "POST /service-logs",
]
FIGURES = [
    "library floor: get, one event, save",
    "command: log service",
    "command: approve",
    "command: redeem",
    "command: fulfil",
    "command: transfer",
    "cold start: `timebank serve` to the first 200 of a balance read",
    "API process RSS once serving",
    "API process RSS after 2 s of mixed load",
    "GET /health (framework floor)",
    "GET /health p99",
    *(f"{name}{suffix}" for name in ENDPOINTS for suffix in ("", " p50", " p99")),
    *(f"{name} non-2xx or failed" for name in ["GET /health", *ENDPOINTS]),
    "scan-and-decode, whole log",
    "projections: rebuild",
    "projections: chain the audit trail again",
    "scan-and-decode, last events",
    "projections: catch-up",
    "auditor: replay",
    "auditor: replay peak memory",
    "auditor: verify",
    "auditor: verify peak memory",
    "projection lag p50",
    "projection lag p99",
    "balance read p50",
    "balance read p99",
    "generation through imports",
]
# On PostgreSQL, several `timebank serve --workers N` (the smoke size compares 1 and 2).
WORKER_FIGURES = [
    "balance reads with 1 API process",
    "projection lag p99 with 1 API process",
    "balance reads with 2 API processes",
    "projection lag p99 with 2 API processes",
]


def smoke(tmp_path: Path, database_url: str | None) -> tuple[dict[str, Any], str]:
    """Run `python -m bench --smoke` as a user would; return its JSON and Markdown."""
    env = {k: v for k, v in os.environ.items() if k != "TIMEBANK_DATABASE_URL"}
    if database_url is not None:
        env["TIMEBANK_DATABASE_URL"] = database_url
    out, data = tmp_path / "BENCHMARKS.md", tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out), "--json", str(data)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(data.read_text(encoding="utf-8")), out.read_text(encoding="utf-8")


def check(report: dict[str, Any], markdown: str, store: str) -> None:
    figures = {f["name"]: f for f in report["figures"]}
    expected = FIGURES + (WORKER_FIGURES if store == "postgresql" else [])
    assert sorted(figures) == sorted(expected)
    assert report["problems"] == []
    assert all(f["value"] is not None for f in figures.values()), "a figure is missing"
    for name, figure in figures.items():
        if name.endswith("non-2xx or failed"):
            assert figure["value"] == 0, f"{name}: {figure}"
        if figure["min_ratio"] is not None:
            assert figure["ratio"] is not None
            assert figure["met"] in (True, False)
    assert report["store"] == store
    assert f"<!-- bench:{store}-smoke -->" in markdown
    assert "| figure | value | baseline | ratio | target | met? |" in markdown
    assert "python -m bench --smoke" in markdown


@pytest.mark.slow  # every benchmark group, a real server included
def test_smoke_run_on_sqlite_reports_every_figure(tmp_path: Path) -> None:
    report, markdown = smoke(tmp_path, None)
    check(report, markdown, "sqlite")


@pytest.mark.slow
@pytest.mark.postgres
def test_smoke_run_on_postgres_reports_every_figure(tmp_path: Path) -> None:
    url = postgres_test_url()
    if url is None:
        pytest.skip("set TIMEBANK_TEST_POSTGRES_URL to run the PostgreSQL tests")
    report, markdown = smoke(tmp_path, url)
    check(report, markdown, "postgresql")
    assert "schema bench_" in report["store_label"]


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        status = 200 if self.path == "/ok" else 404
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def little_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_python_load_generator_counts_what_is_not_2xx(little_server: str, tmp_path: Path) -> None:
    calls = [Call("GET", "/ok", {}), Call("GET", "/missing", {})]
    result = run_load("python", little_server, calls, connections=2, seconds=0.5, workdir=tmp_path)
    assert result.requests > 0
    assert 0 < result.non_2xx < result.requests
    assert result.errors == 0
    assert result.p50 <= result.p99


WRK_OUTPUT = """\
Running 4s test @ http://127.0.0.1:8765
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.48ms   12.50ms 110.08ms   95.10%
    Req/Sec     1.14k   295.76     1.61k    70.00%
  Latency Distribution
     50%  812.00us
     75%   15.32ms
     90%   19.68ms
     99%    1.20s
  2272 requests in 4.00s, 310.62KB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:   568.00
Transfer/sec:    155.14KB
"""


def test_wrk_output_is_read_with_its_units() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert result.requests == 2272
    assert result.rate == pytest.approx(568.0)
    assert result.p50 == pytest.approx(0.000812)
    assert result.p99 == pytest.approx(1.2)
    assert (result.non_2xx, result.errors) == (7, 3)


def _report(size: str, value: float) -> RunReport:
    report = RunReport(store="sqlite", store_label="a file", size=size, command="c", machine={})
    report.add(Figure("3 HTTP", "GET /health (framework floor)", value, "requests/s"))
    return report


def test_each_store_and_size_keeps_its_own_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(
        "# Benchmarks\n\n<!-- bench:sqlite-full -->\n## SQLite (full mode)\n"
        "<!-- /bench:sqlite-full -->\n\n<!-- bench:soak -->\n## Soak\n<!-- /bench:soak -->\n",
        encoding="utf-8",
    )
    write_markdown(out, _report("40k", 1111))
    write_markdown(out, _report("1m", 2222))
    write_markdown(out, _report("40k", 3333))
    text = out.read_text(encoding="utf-8")
    assert "3,333 requests/s" in text
    assert "1,111" not in text  # the 40k section replaced by the later 40k run
    assert "2,222 requests/s" in text  # the 1m section kept
    assert "full mode" not in text  # the section a --full run wrote is the 1m one now
    assert text.index("bench:sqlite-40k") < text.index("bench:sqlite-1m") < text.index("## Soak")
