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
from tests.support import postgres_test_url

ROOT = Path(__file__).resolve().parents[2]

FIGURES = [
    "library floor: get, one event, save",
    "command: log service",
    "command: approve",
    "command: redeem",
    "command: fulfil",
    "command: transfer",
    "GET /health (framework floor)",
    "GET /health p99",
    "GET /members/{id}/balance",
    "GET /members/{id}/balance p50",
    "GET /members/{id}/balance p99",
    "POST /service-logs",
    "POST /service-logs p50",
    "POST /service-logs p99",
    "GET /health non-2xx or failed",
    "GET /members/{id}/balance non-2xx or failed",
    "POST /service-logs non-2xx or failed",
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
    assert sorted(figures) == sorted(FIGURES)
    assert report["problems"] == []
    assert all(f["value"] is not None for f in figures.values()), "a figure is missing"
    for name, figure in figures.items():
        if name.endswith("non-2xx or failed"):
            assert figure["value"] == 0, f"{name}: {figure}"
        if figure["min_ratio"] is not None:
            assert figure["ratio"] is not None
            assert figure["met"] in (True, False)
    assert report["store"] == store
    assert f"<!-- bench:{store} -->" in markdown
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
