"""Load from another process: wrk when it is installed, else an async Python client."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.report import percentile


@dataclass(frozen=True)
class Call:
    """One request a load run sends (a run sends its calls in turn, round and round)."""

    method: str
    path: str
    headers: dict[str, str]
    body: str | None = None


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50: float  # seconds
    p99: float
    non_2xx: int
    errors: int  # connection errors and timeouts

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def choose_loader(preference: str) -> str:
    """`wrk` when asked for or found on PATH (with `auto`), else `python`."""
    if preference == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if preference == "wrk" and not shutil.which("wrk"):
        msg = "wrk is not on PATH (apt-get install wrk), or use --loader python"
        raise FileNotFoundError(msg)
    return preference


def loader_version(loader: str) -> str:
    if loader == "wrk":
        shown = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
        first = (shown.stdout or shown.stderr).splitlines()
        return first[0].split(" [")[0] if first else "wrk"
    return f"bench.pyload (httpx.AsyncClient, Python {sys.version.split()[0]})"


def run_load(
    loader: str,
    base_url: str,
    calls: list[Call],
    *,
    connections: int,
    seconds: float,
    workdir: Path,
) -> LoadResult:
    if loader == "wrk":
        return _wrk(base_url, calls, connections=connections, seconds=seconds, workdir=workdir)
    spec = workdir / "calls.json"
    spec.write_text(json.dumps([c.__dict__ for c in calls]), encoding="utf-8")
    done = subprocess.run(  # noqa: S603  (our own interpreter and module)
        [
            sys.executable,
            "-m",
            "bench.pyload",
            base_url,
            str(spec),
            str(connections),
            str(seconds),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 120,
    )
    data = json.loads(done.stdout)
    return LoadResult(**data)


def _lua_string(text: str) -> str:
    if "]==]" in text:
        raise ValueError("cannot quote this text for Lua")
    return f"[==[{text}]==]"


def _wrk_script(calls: list[Call]) -> str:
    # Requests are formatted in init(): at load time wrk has not set the Host header yet.
    lines = ["local calls = {}", "init = function(args)", "  calls = {"]
    for call in calls:
        headers = ", ".join(
            f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in sorted(call.headers.items())
        )
        body = "nil" if call.body is None else _lua_string(call.body)
        lines.append(
            f"    wrk.format({_lua_string(call.method)}, {_lua_string(call.path)}, "
            f"{{{headers}}}, {body}),"
        )
    lines += [
        "  }",
        "end",
        "local i = 0",
        "request = function()",
        "  i = i % #calls + 1",
        "  return calls[i]",
        "end",
    ]
    return "\n".join(lines) + "\n"


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _duration(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _wrk(
    base_url: str, calls: list[Call], *, connections: int, seconds: float, workdir: Path
) -> LoadResult:
    script = workdir / "calls.lua"
    script.write_text(_wrk_script(calls), encoding="utf-8")
    # One wrk thread is plenty for 16 connections and leaves the other core to the server.
    done = subprocess.run(  # noqa: S603
        [  # noqa: S607  (wrk from PATH, as installed by the system's packages)
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            base_url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 120,
    )
    if done.stderr.strip():  # a Lua error in the script: wrk goes on, sending nothing useful
        raise RuntimeError(f"wrk: {done.stderr.strip()}")
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> LoadResult:
    """The figures of `wrk --latency` output."""
    total = re.search(r"(\d+) requests in ([\d.]+\w+),", output)
    if total is None:
        raise ValueError(f"unexpected wrk output:\n{output}")
    latencies = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+\w+)\s*$", output, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return LoadResult(
        requests=int(total.group(1)),
        seconds=_duration(total.group(2)),
        p50=_duration(latencies["50"]) if "50" in latencies else float("nan"),
        p99=_duration(latencies["99"]) if "99" in latencies else float("nan"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def summarise(
    latencies: list[float], requests: int, seconds: float, non_2xx: int, errors: int
) -> LoadResult:
    return LoadResult(
        requests=requests,
        seconds=seconds,
        p50=percentile(latencies, 50),
        p99=percentile(latencies, 99),
        non_2xx=non_2xx,
        errors=errors,
    )
