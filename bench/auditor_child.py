"""Run replay or verify beside scan-and-decode in a fresh process; report its peak memory."""

# `python -m bench.auditor_child replay|verify URL REPEATS` prints one JSON object. A fresh
# interpreter, so that its peak resident set is the auditor's own, not the benchmark's.

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from bench.logscan import scan_and_decode
from projections.auditor import replay, verify
from projections.store import ViewStore
from timebank import TimeBank


def _peak_mib() -> float:
    """This process's peak resident set. On Linux, VmHWM: ru_maxrss would also count the
    parent's peak, which the kernel carries across fork and exec."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str]) -> int:
    work, url, repeats = argv[0], argv[1], int(argv[2])
    app = TimeBank.from_url(url)
    store = ViewStore.open(app, pool_size=2)
    store.prepare()
    before = _peak_mib()
    scans: list[tuple[int, float]] = []
    runs: list[tuple[int, float]] = []
    problems: list[str] = []
    for _ in range(repeats):
        scans.append(scan_and_decode(app))
        start = time.perf_counter()
        if work == "replay":
            result = replay(app)
            runs.append((result.events_replayed, time.perf_counter() - start))
            if result.total != 0:
                problems.append(f"replay: accounts sum to {result.total}, not zero")
        else:
            report = verify(app, store)
            runs.append((report.events_checked, time.perf_counter() - start))
            problems += [f"verify: {p.kind} at {p.position}: {p.detail}" for p in report.problems]
    print(
        json.dumps(
            {
                "scans": scans,
                "runs": runs,
                "peak_mib": _peak_mib(),
                "before_mib": before,
                "problems": sorted(set(problems))[:20],
            }
        )
    )
    store.close()
    app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
