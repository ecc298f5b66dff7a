"""The insider cases, replayed from outside: a real server, the `timebank` commands as an
operator and an auditor run them, and the database edited as an insider with write access
(but not the keys) would. Each case must end in a finding, never in "verified".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from projections.checkpoints import new_key_pair
from tests.acceptance.server import ADMIN_TOKEN, TOKEN_SECRET, serving
from tests.acceptance.test_trust_from_outside import ok, set_the_scene
from tests.cli.test_insider_commands import forged_earning
from tests.insider import cut_tail
from timebank import TimeBank
from timebank.sealing import new_event_key
from timebank.storage import ledger_env

pytestmark = pytest.mark.slow  # a real server and a dozen command processes

PRIVATE, PUBLIC = new_key_pair()


def timebank(env: dict[str, str], *args: str) -> tuple[int, str]:
    """One `timebank` command in a process of its own; a traceback is never an answer."""
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    return done.returncode, output


def replay_the_insider(url: str, tmp_path: Path) -> None:
    keys = {"TIMEBANK_EVENT_KEY": new_event_key(), "TIMEBANK_CHECKPOINT_KEY": PRIVATE}
    env = {
        **os.environ,
        "TIMEBANK_DATABASE_URL": url,
        "TIMEBANK_ADMIN_TOKEN": ADMIN_TOKEN,
        "TIMEBANK_TOKEN_SECRET": TOKEN_SECRET,
        **keys,
    }
    kept = tmp_path / "kept.jsonl"
    with serving(url, **keys) as base, httpx.Client(base_url=base, timeout=30) as client:
        scene = set_the_scene(client)
        auditor = scene.by("auditor")
        assert ok(auditor.get("/audit/verify"), 200)["ok"] is True

        # 6. Maintenance cannot corrupt a live ledger: a rebuild is refused while it serves.
        code, output = timebank(env, "rebuild")
        assert code != 0
        assert "a server or projector is serving this store" in output
        assert ok(auditor.get("/audit/verify"), 200)["ok"] is True

        # An auditor keeps a checkpoint the ledger signed (elsewhere: a file here).
        code, output = timebank(env, "checkpoint", "--out", str(kept))
        assert code == 0, output

        # 1. Rows appended by someone with the database but not the event key.
        insider = TimeBank(ledger_env(url))
        try:
            forged_earning(insider, UUID(scene.id("v3")))
        finally:
            insider.close()
        code, output = timebank(env, "verify")
        assert code == 1
        assert "\tunsealed\t" in output
        report = ok(auditor.get("/audit/verify"), 200)
        assert report["ok"] is False
        assert "unsealed" in {p["kind"] for p in report["problems"]}

    # 5 and 7. An export's lines: a field outside the chain edited, a malformed line.
    export = tmp_path / "ledger.jsonl"
    code, output = timebank(env, "export", str(export))
    lines = export.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[1])
    first["recorded_at"] = "2020-01-01T00:00:00+00:00"
    edited = tmp_path / "edited.jsonl"
    edited.write_text("\n".join([lines[0], json.dumps(first), *lines[2:]]) + "\n")
    code, output = timebank(env, "verify-export", str(edited))
    assert code == 1
    assert "line 2" in output
    nested = tmp_path / "nested.jsonl"
    nested.write_text("\n".join([*lines[:3], "[" * 100_000, *lines[3:]]) + "\n")
    code, output = timebank(env, "verify-export", str(nested))
    assert code == 1
    assert "line 4" in output

    # 3. The tail cut, trail and all, below the kept checkpoint.
    cut_tail(url, 7)
    code, output = timebank(env, "verify", "--checkpoint", str(kept), "--public-key", PUBLIC)
    assert code == 1
    assert "\tcheckpoint_not_extended\t" in output


def test_the_insider_cases_from_outside_on_sqlite(tmp_path: Path) -> None:
    replay_the_insider(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path)


@pytest.mark.postgres
def test_the_insider_cases_from_outside_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    replay_the_insider(postgres_url, tmp_path)
