"""The real API server in a child process, set up over HTTP the way a client would."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx

from api.settings import Settings
from bench.load import Call


@dataclass(frozen=True)
class Server:
    base_url: str
    admin_token: str
    command: str
    pid: int  # the process started: the API process itself, or uvicorn's supervisor
    ready_seconds: float  # from the start of the process to the first 200 of the ready probe


@dataclass(frozen=True)
class Secrets:
    """The bootstrap admin token and the token secret: the same for every server of a run,
    so that a token issued by one server signs in on the next."""

    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    token_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve_command() -> list[str]:
    """`timebank serve` through the installed console script, or the same entry point."""
    script = Path(sys.executable).parent / "timebank"
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-c", "from cli.main import main; main()", "serve"]


@contextmanager
def running_server(
    database_url: str,
    workdir: Path,
    *,
    keys: Secrets | None = None,
    workers: int = 1,
    ready_member: str | None = None,
    startup: float = 600,
) -> Iterator[Server]:
    """`timebank serve` on a free loopback port, stopped (Ctrl-C) on the way out.

    It is ready at the first 200 of `GET /members/{ready_member}/balance` read with the
    admin token (a cold start as a client sees it), or of `GET /health` without a member."""
    keys = keys or Secrets()
    port = _free_port()
    env = {
        **os.environ,
        "TIMEBANK_DATABASE_URL": database_url,
        "TIMEBANK_ADMIN_TOKEN": keys.admin_token,
        "TIMEBANK_TOKEN_SECRET": keys.token_secret,
    }
    command = [*_serve_command(), "--host", "127.0.0.1", "--port", str(port)]
    if workers != 1:
        command += ["--workers", str(workers)]
    base_url = f"http://127.0.0.1:{port}"
    probe = f"/members/{ready_member}/balance" if ready_member else "/health"
    log_path = workdir / f"server-{port}.log"
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            _wait_ready(process, base_url + probe, keys.admin_token, startup, log_path)
            ready = time.perf_counter() - started
            shown = " ".join(["timebank", *command[command.index("serve") :]])
            yield Server(base_url, keys.admin_token, shown, process.pid, ready)
        except Exception as error:
            # The scratch directory goes with the run: keep what the server said with the error.
            error.add_note(f"the server's last log lines:\n{_tail(log_path)}")
            raise
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_ready(
    process: subprocess.Popen[bytes], url: str, admin_token: str, limit: float, log: Path
) -> None:
    deadline = time.monotonic() + limit
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(headers=headers, timeout=5.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                msg = f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}"
                raise RuntimeError(msg)
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.01)
    msg = f"the server did not answer {url} within {limit:.0f} s"
    raise TimeoutError(msg)


def rss_mib(pid: int) -> float:
    """Resident memory of one process (VmRSS), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    if match is None:
        raise LookupError(f"no VmRSS for process {pid}")
    return int(match.group(1)) / 1024


def api_processes(pid: int) -> list[int]:
    """The processes that answer requests: the one started, or its live worker children
    when uvicorn supervises workers (`--workers N`). A worker that exited and was not yet
    reaped (no VmRSS) is left out."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        match = re.search(r"^PPid:\s+(\d+)$", status, re.MULTILINE)
        if (
            match
            and int(match.group(1)) == pid
            and "VmRSS:" in status
            and b"spawn_main" in _cmdline(entry)
        ):
            children.append(int(entry.name))
    return children or [pid]


def _cmdline(entry: Path) -> bytes:
    try:
        return (entry / "cmdline").read_bytes()
    except OSError:
        return b""


@dataclass(frozen=True)
class HttpCommunity:
    """The benchmark's community as clients see it: ids, and a token each."""

    team_id: str
    coordinator: tuple[str, str]  # (member id, token)
    members: list[tuple[str, str]]  # volunteers: (member id, token)
    service_date: str  # yesterday where the server decides "today"
    year: str  # the last whole year, and a whole month, as ranking periods
    month: str


def sign_in_over_http(
    server: Server, team_id: UUID, coordinator: UUID, volunteers: list[UUID]
) -> HttpCommunity:
    """Tokens for the coordinator and the volunteers, issued by the admin token."""
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    with httpx.Client(base_url=server.base_url, headers=admin, timeout=30.0) as client:

        def token(member: UUID) -> tuple[str, str]:
            issued = client.post(f"/members/{member}/tokens")
            issued.raise_for_status()
            return str(member), str(issued.json()["token"])

        people = [token(v) for v in volunteers]
        lead = token(coordinator)
    return _community(str(team_id), lead, people)


def register_over_http(server: Server, members: int) -> HttpCommunity:
    """A new team with a coordinator and volunteers, registered by the admin token (for a
    server on an empty store, as the soak starts)."""
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    with httpx.Client(base_url=server.base_url, headers=admin, timeout=30.0) as client:
        team = client.post(
            "/teams",
            json={"name": "HTTP care", "community": "Bench street", "founded_on": "2020-01-01"},
        )
        team.raise_for_status()
        team_id = team.json()["id"]

        def join(name: str, role: str) -> tuple[str, str]:
            member = client.post("/members", json={"name": name})
            member.raise_for_status()
            body = member.json()
            joined = client.post(
                f"/teams/{team_id}/members",
                json={"member_id": body["id"], "role": role, "effective_date": "2020-01-01"},
            )
            joined.raise_for_status()
            return str(body["id"]), str(body["token"])

        lead = join("HTTP coordinator", "coordinator")
        people = [join(f"HTTP volunteer {i:02d}", "volunteer") for i in range(members)]
    return _community(team_id, lead, people)


def _community(
    team_id: str, coordinator: tuple[str, str], members: list[tuple[str, str]]
) -> HttpCommunity:
    zone = ZoneInfo(Settings().timezone)  # the served process's "today", as it reads it
    yesterday = (datetime.now(zone) - timedelta(days=1)).date()
    month = yesterday.replace(day=1) - timedelta(days=1)
    return HttpCommunity(
        team_id=team_id,
        coordinator=coordinator,
        members=members,
        service_date=yesterday.isoformat(),
        year=str(yesterday.year - 1),
        month=f"{month.year}-{month.month:02d}",
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def health_calls() -> list[Call]:
    return [Call("GET", "/health", {})]


def balance_calls(c: HttpCommunity) -> list[Call]:
    """Each member reads their own balance, in turn."""
    return [Call("GET", f"/members/{m}/balance", _bearer(token)) for m, token in c.members]


def statement_calls(c: HttpCommunity) -> list[Call]:
    """Each member reads the first page of their own statement, in turn."""
    return [Call("GET", f"/members/{m}/statement", _bearer(token)) for m, token in c.members]


def ranking_calls(c: HttpCommunity, of: str, period: str) -> list[Call]:
    """Members read the rankings of teams or volunteers for a period, in turn."""
    return [Call("GET", f"/rankings/{of}?period={period}", _bearer(t)) for _, t in c.members]


def pending_calls(c: HttpCommunity) -> list[Call]:
    """The coordinator reads the first page of their teams' pending logs."""
    return [Call("GET", "/service-logs?status=pending", _bearer(c.coordinator[1]))]


def service_log_calls(c: HttpCommunity) -> list[Call]:
    """Each member logs an hour of their own service, in turn (it stays pending)."""
    return [
        Call(
            "POST",
            "/service-logs",
            {**_bearer(token), "Content-Type": "application/json"},
            (
                f'{{"team_id":"{c.team_id}","service_date":"{c.service_date}",'
                '"minutes":60,"activity":"care"}'
            ),
        )
        for _, token in c.members
    ]
