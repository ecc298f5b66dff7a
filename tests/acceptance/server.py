"""A real `timebank serve` process for checks run from outside, over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

ADMIN_TOKEN = "acceptance-admin-token-0123456789abcdef0123"
TOKEN_SECRET = "acceptance-token-secret-0123456789abcdef0123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(database_url: str, **settings: str) -> Iterator[str]:
    """`timebank serve` on the store, answering `/health`; its base URL. Stopped after."""
    port = free_port()
    env = {
        **os.environ,
        "TIMEBANK_DATABASE_URL": database_url,
        "TIMEBANK_ADMIN_TOKEN": ADMIN_TOKEN,
        "TIMEBANK_TOKEN_SECRET": TOKEN_SECRET,
        **settings,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if process.poll() is not None:
                raise AssertionError("the server exited before it answered")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the server did not answer /health within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
