"""The real API server in a child process, set up over HTTP the way a client would."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from api.settings import Settings
from bench.load import Call


@dataclass(frozen=True)
class Server:
    base_url: str
    admin_token: str
    command: str


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
def running_server(database_url: str, workdir: Path, *, startup: float = 300) -> Iterator[Server]:
    """`timebank serve` on a free loopback port, stopped (Ctrl-C) on the way out."""
    port = _free_port()
    admin_token = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "TIMEBANK_DATABASE_URL": database_url,
        "TIMEBANK_ADMIN_TOKEN": admin_token,
        "TIMEBANK_TOKEN_SECRET": secrets.token_urlsafe(32),
    }
    command = [*_serve_command(), "--host", "127.0.0.1", "--port", str(port)]
    base_url = f"http://127.0.0.1:{port}"
    with (workdir / "server.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            _wait_healthy(process, base_url, startup, workdir / "server.log")
            shown = " ".join(["timebank", *command[command.index("serve") :]])
            yield Server(base_url, admin_token, shown)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(process: subprocess.Popen[bytes], base_url: str, limit: float, log: Path) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            raise RuntimeError(msg)
        try:
            if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    msg = f"the server did not answer /health within {limit:.0f} s"
    raise TimeoutError(msg)


@dataclass(frozen=True)
class HttpCommunity:
    team_id: str
    members: list[tuple[str, str]]  # (member id, token)
    balance_available: bool
    service_date: str


def setup_over_http(server: Server, members: int) -> HttpCommunity:
    """A team and its volunteers, registered by the admin token, each with a token."""
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    with httpx.Client(base_url=server.base_url, headers=admin, timeout=30.0) as client:
        team = client.post(
            "/teams",
            json={"name": "HTTP care", "community": "Bench street", "founded_on": "2020-01-01"},
        )
        team.raise_for_status()
        team_id = team.json()["id"]
        people: list[tuple[str, str]] = []
        for i in range(members):
            member = client.post("/members", json={"name": f"HTTP volunteer {i:02d}"})
            member.raise_for_status()
            body = member.json()
            joined = client.post(
                f"/teams/{team_id}/members",
                json={"member_id": body["id"], "role": "volunteer", "effective_date": "2020-01-01"},
            )
            joined.raise_for_status()
            people.append((body["id"], body["token"]))
        probe = client.get(
            f"/members/{people[0][0]}/balance",
            headers={"Authorization": f"Bearer {people[0][1]}"},
        )
        if probe.status_code not in (404, 405):
            probe.raise_for_status()
            for key in ("member_id", "balance_minutes", "available_minutes"):
                if key not in probe.json():
                    msg = f"GET /members/{{id}}/balance answered without {key!r}"
                    raise ValueError(msg)
    zone = ZoneInfo(Settings().timezone)  # the served process's "today", as it reads it
    yesterday = (datetime.now(zone) - timedelta(days=1)).date().isoformat()
    return HttpCommunity(team_id, people, probe.status_code not in (404, 405), yesterday)


def health_calls() -> list[Call]:
    return [Call("GET", "/health", {})]


def balance_calls(c: HttpCommunity) -> list[Call]:
    """Each member reads their own balance, in turn."""
    return [
        Call("GET", f"/members/{member}/balance", {"Authorization": f"Bearer {token}"})
        for member, token in c.members
    ]


def service_log_calls(c: HttpCommunity) -> list[Call]:
    """Each member logs an hour of their own service, in turn."""
    return [
        Call(
            "POST",
            "/service-logs",
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            (
                f'{{"team_id":"{c.team_id}","service_date":"{c.service_date}",'
                '"minutes":60,"activity":"care"}'
            ),
        )
        for _, token in c.members
    ]
