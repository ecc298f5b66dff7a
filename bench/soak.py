"""A soak: minutes of mixed load on the real server, watching its memory and its errors.

`python -m bench.soak [--minutes M]` starts `timebank serve` on a fresh store (or the one
TIMEBANK_DATABASE_URL names), loads it from another process with 16 connections (three
balance reads to each service-log write), in slices, and samples the server's resident
memory after each slice. It writes a "Soak" section into BENCHMARKS.md. Not run in CI.

With `--mix reads` the load is balance reads only, so the ledger does not grow: its
memory shows whether serving itself holds on to anything. The mixed soak's memory grows
with the service logs it writes, which the in-memory views keep.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.load import Call, LoadResult, choose_loader, loader_version, run_load
from bench.report import HEADER, machine
from bench.server import (
    balance_calls,
    register_over_http,
    rss_mib,
    running_server,
    service_log_calls,
)

SLICE_SECONDS = 15.0
CONNECTIONS = 16
_SECTION = re.compile(r"<!-- bench:(?P<key>[\w-]+) -->\n.*?<!-- /bench:(?P=key) -->\n", re.S)


@dataclass(frozen=True)
class Slice:
    result: LoadResult
    rss_mib: float


MIXES = {
    "mixed": "three balance reads to each service-log write",
    "reads": "balance reads only",
}


def soak(minutes: float, out: Path, loader_preference: str = "auto", mix: str = "mixed") -> str:
    loader = choose_loader(loader_preference)
    with tempfile.TemporaryDirectory(prefix="timebank-soak-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'timebank.db'}"
        with running_server(url, workdir) as server:
            community = register_over_http(server, members=16)
            reads, writes = balance_calls(community), service_log_calls(community)
            calls: list[Call] = []
            for index, write in enumerate(writes):
                calls.extend(reads[index : index + 1] * 3)
                if mix == "mixed":
                    calls.append(write)
            started = rss_mib(server.pid)
            slices: list[Slice] = []
            for _ in range(max(1, round(minutes * 60 / SLICE_SECONDS))):
                result = run_load(
                    loader,
                    server.base_url,
                    calls,
                    connections=CONNECTIONS,
                    seconds=SLICE_SECONDS,
                    workdir=workdir,
                )
                slices.append(Slice(result, rss_mib(server.pid)))
    section = _markdown(minutes, loader, started, slices, mix)
    _write(out, section, "soak" if mix == "mixed" else f"soak-{mix}")
    return section


def _markdown(minutes: float, loader: str, started: float, slices: list[Slice], mix: str) -> str:
    requests = sum(s.result.requests for s in slices)
    failed = sum(s.result.non_2xx + s.result.errors for s in slices)
    warm = slices[0].rss_mib
    last = slices[-1].rss_mib
    facts = machine()
    rows = "\n".join(
        f"| {n} | {s.result.rate:,.0f} | {s.result.p99 * 1000:,.0f} | "
        f"{s.result.non_2xx + s.result.errors} | {s.rss_mib:,.1f} |"
        for n, s in enumerate(slices, start=1)
    )
    writes = f"about {requests // 4:,} service logs written; " if mix == "mixed" else ""
    return (
        f"## Soak (SQLite, {minutes:g} minutes, {MIXES[mix]})\n\n"
        f"- Command: `python -m bench.soak --minutes {minutes:g} --mix {mix}`\n"
        f"- Run at {datetime.now(UTC).isoformat(timespec='seconds')}; "
        f"machine: {facts.get('CPU', '?')}, {facts.get('cores', '?')} cores\n"
        f"- Load: {loader_version(loader)}, {CONNECTIONS} connections, {MIXES[mix]}, "
        f"{len(slices)} slices of {SLICE_SECONDS:g} s\n"
        f"- Requests: {requests:,} ({writes}non-2xx or failed: {failed:,})\n"
        f"- Server memory (RSS): {started:,.1f} MiB at start, {warm:,.1f} MiB after the "
        f"first slice, {last:,.1f} MiB at the end "
        f"({last - warm:+,.1f} MiB over the run after warm-up)\n\n"
        "| slice | requests/s | p99 ms | non-2xx or failed | server RSS MiB |\n"
        "|---|---|---|---|---|\n"
        f"{rows}\n"
    )


def _write(path: Path, markdown: str, key: str) -> None:
    """Replace the soak's section of BENCHMARKS.md (or add it), keeping the others."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    section = f"<!-- bench:{key} -->\n{markdown}<!-- /bench:{key} -->\n"
    kept = [m.group(0) for m in _SECTION.finditer(text) if m.group("key") != key]
    head = text.split("<!-- bench:", 1)[0].rstrip("\n") + "\n"
    path.write_text(head + "".join(f"\n{s}" for s in [*kept, section]), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=3.0, help="how long (default 3)")
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--mix", choices=tuple(MIXES), default="mixed", help=" or ".join(MIXES))
    args = parser.parse_args()
    print(soak(args.minutes, args.out, args.loader, args.mix))


if __name__ == "__main__":
    main()
