"""The Python load generator (when wrk is not installed): httpx.AsyncClient, N workers."""

# `python -m bench.pyload BASE_URL CALLS.json CONNECTIONS SECONDS` prints one JSON object.

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict
from typing import Any

import httpx

from bench.load import summarise


async def _load(
    base_url: str, calls: list[dict[str, Any]], connections: int, seconds: float
) -> str:
    latencies: list[float] = []
    counts = {"requests": 0, "non_2xx": 0, "errors": 0}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=10.0) as client:
        start = time.perf_counter()
        deadline = start + seconds

        async def worker(offset: int) -> None:
            """Every connection makes at least one request, however late it starts (on a
            starved machine a short run could otherwise measure nothing)."""
            i = offset
            first = True
            while first or time.perf_counter() < deadline:
                first = False
                call = calls[i % len(calls)]
                i += connections
                sent = time.perf_counter()
                try:
                    response = await client.request(
                        call["method"], call["path"], headers=call["headers"], content=call["body"]
                    )
                except httpx.TransportError:
                    counts["errors"] += 1
                    continue
                latencies.append(time.perf_counter() - sent)
                counts["requests"] += 1
                if not 200 <= response.status_code < 300:
                    counts["non_2xx"] += 1

        await asyncio.gather(*(worker(n) for n in range(connections)))
        taken = time.perf_counter() - start
    result = summarise(latencies, counts["requests"], taken, counts["non_2xx"], counts["errors"])
    return json.dumps(asdict(result))


def main(argv: list[str]) -> int:
    base_url, spec, connections, seconds = argv[0], argv[1], int(argv[2]), float(argv[3])
    with open(spec, encoding="utf-8") as file:
        calls = json.load(file)
    print(asyncio.run(_load(base_url, calls, connections, seconds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
