"""verify-export covers every field of every line, and what the events mean; malformed input
of any size is a finding with its line number, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from projections.audit import GENESIS_HASH, chain_of
from projections.checkpoints import new_key_pair
from projections.export import Books, verify_export
from tests.insider import cut_tail
from tests.projections.test_runner import busy_community
from tests.support import Community, open_ledger

PRIVATE, PUBLIC = new_key_pair()


@pytest.fixture
def export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, Community]:
    """A busy community with one approval of 600 minutes, exported."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    app = open_ledger(url)
    community = busy_community(app)
    community.earn(community.wang, 600)
    app.close()
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    monkeypatch.setenv("TIMEBANK_TIMEZONE", "Asia/Shanghai")
    monkeypatch.setenv("TIMEBANK_CHECKPOINT_KEY", PRIVATE)
    out = tmp_path / "ledger.jsonl"
    code, output = run("export", str(out))
    assert code == 0, output
    return out, url, community


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is never an answer
    return result.exit_code, result.output


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def line_of(rows: list[dict[str, Any]], topic: str, *, last: bool = False) -> int:
    numbers = [n for n, r in enumerate(rows, start=1) if r.get("topic") == topic]
    return numbers[-1] if last else numbers[0]


def rechained(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every hash recomputed and the closing checkpoint made to agree, as a forger would."""
    head, books, count = GENESIS_HASH, Books(), 0
    for row in rows[:-1]:
        head = row["hash"] = chain_of(
            head,
            position=row["position"],
            topic=row["topic"],
            aggregate_id=row["aggregate_id"],
            aggregate_version=row["aggregate_version"],
            data=row["data"],
        )
        books.apply(row["topic"], row["aggregate_id"], row["data"])
        count += 1
    rows[-1]["checkpoint"].update(count=count, head_hash=head, totals=books.totals())
    return rows


# Case 5: every field of a line ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("actor_id", "00000000-0000-0000-0000-000000000000", "actor_id"),
        ("recorded_at", "2020-01-01T00:00:00+00:00", "recorded_at"),
        ("type", "Account.Earned", "type 'Account.Earned' is not the topic"),
        ("extra", "anything", "unknown fields: extra"),
        ("position", "34", "position must be a whole number"),
        ("position", True, "position must be a whole number"),
        ("aggregate_version", 1.5, "aggregate_version must be a whole number"),
        ("aggregate_id", 7, "aggregate_id must be text"),
        ("aggregate_id", "not-an-id", "aggregate_id must be an id"),
        ("topic", None, "topic must be text"),
        ("data", [], "data must be an object"),
        ("hash", "ABC", "hash must be 64 lowercase hexadecimal digits"),
        ("actor_id", 12, "actor_id must be text or null"),
    ],
)
def test_an_edited_field_that_the_hash_does_not_cover_fails_at_its_line(
    export: tuple[Path, str, Community], field: str, value: object, why: str
) -> None:
    out, _, _ = export
    rows = records(out)
    number = line_of(rows, "timebank:ServiceLog.Approved")
    rows[number - 1][field] = value
    write(out, rows)
    code, output = run("verify-export", str(out))
    assert code == 1
    assert f"line {number}: " in output
    assert why in output


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda c: c.update(note="mine"), "unknown fields in the checkpoint: note"),
        (lambda c: c.pop("exported_at"), "missing fields in the checkpoint: exported_at"),
        (lambda c: c.update(last_position=1), "the checkpoint's last position 1"),
        (lambda c: c.update(count="82"), "the checkpoint's count must be a whole number"),
        (lambda c: c.update(exported_at="soon"), "exported_at must be an ISO 8601 instant"),
        (lambda c: c["totals"].update(bonus=1), "totals must be whole numbers"),
    ],
)
def test_the_checkpoint_line_is_covered_too(
    export: tuple[Path, str, Community], change: Callable[[dict[str, Any]], object], why: str
) -> None:
    out, _, _ = export
    rows = records(out)
    change(rows[-1]["checkpoint"])
    write(out, rows)
    code, output = run("verify-export", str(out))
    assert code == 1
    assert f"line {len(rows)}: " in output
    assert why in output


def test_a_checkpoint_line_with_keys_beside_the_checkpoint_fails(
    export: tuple[Path, str, Community],
) -> None:
    out, _, _ = export
    rows = records(out)
    rows[-1]["signed"] = True
    write(out, rows)
    code, output = run("verify-export", str(out))
    assert (code, f"line {len(rows)}: unknown fields beside the checkpoint: signed") == (
        1,
        output.strip().splitlines()[-1],
    )


# Case 2: a credit raised and chained again -----------------------------------------------


def test_a_raised_credit_chained_again_is_caught_by_its_meaning(
    export: tuple[Path, str, Community],
) -> None:
    out, _, _ = export
    rows = records(out)
    number = line_of(rows, "timebank:Account.Earned", last=True)
    assert rows[number - 1]["data"]["minutes"] == 600
    rows[number - 1]["data"]["minutes"] = 6000
    write(out, rechained(rows))
    code, output = run("verify-export", str(out))
    assert code == 1
    position = rows[number - 1]["position"]
    assert f"{position}\tmismatch\t" in output
    assert "6000 minutes where 600 were approved" in output


# Case 7: malformed input of any size -----------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (b"[" * 100_000, "not JSON: nested too deeply"),
        (b'{"position": "' + b"x" * (50 * 1024 * 1024) + b'"}', "bytes long, over the limit"),
        (b'{"position": "\xff\xfe"}', "not UTF-8"),
        (b'{"position": 1}\x00', "NUL"),
        (b'{"position": "\x00"}', "NUL"),
        (b'{"position": 1, "position": 2}', "the key 'position' is given twice"),
        (b'{"position": NaN}', "NaN is not a JSON number"),
        (b"9" * 10_000, "not JSON"),
        (b"", "not JSON"),
    ],
    ids=["deep", "50MB", "utf8", "nul", "nul-in-text", "twice", "nan", "huge-int", "empty"],
)
def test_malformed_input_of_any_size_is_a_finding_with_its_line_number(
    export: tuple[Path, str, Community], bad: bytes, why: str
) -> None:
    out, _, _ = export
    lines = out.read_bytes().splitlines(keepends=True)
    lines[4] = bad + b"\n"
    out.write_bytes(b"".join(lines))
    code, output = run("verify-export", str(out))
    assert code == 1
    assert "line 5: " in output
    assert why in output


def test_a_malformed_earlier_export_is_a_usage_error_not_a_traceback(
    export: tuple[Path, str, Community], tmp_path: Path
) -> None:
    out, _, _ = export
    earlier = tmp_path / "earlier.jsonl"
    earlier.write_bytes(b"[" * 100_000)
    code, output = run("verify-export", str(out), "--earlier", str(earlier))
    assert code == 2
    assert "nested too deeply" in output


def test_the_check_reads_lines_given_as_text_too() -> None:
    check = verify_export(['{"position": 1}', "[" * 100_000])
    assert check.problem == (
        1,
        "missing fields: type, topic, aggregate_id, aggregate_version, "
        "actor_id, recorded_at, data, hash",
    )


# Case 3 in an export: signed checkpoints kept elsewhere --------------------------------


def test_an_export_of_a_cut_ledger_fails_against_a_checkpoint_signed_before(
    export: tuple[Path, str, Community], tmp_path: Path
) -> None:
    out, url, _ = export
    kept = tmp_path / "kept.jsonl"
    code, output = run("checkpoint", "--out", str(kept))
    assert code == 0, output
    code, output = run("verify-export", str(out), "--checkpoint", str(kept), "--public-key", PUBLIC)
    assert code == 0, output
    cut_tail(url, 6)  # the last two commands: a gift and an approval
    code, output = run("rebuild")
    assert code == 0, output
    later = tmp_path / "later.jsonl"
    code, output = run("export", str(later))
    assert code == 0, output
    assert run("verify-export", str(later))[0] == 0  # consistent with itself ...
    code, output = run(
        "verify-export", str(later), "--checkpoint", str(kept), "--public-key", PUBLIC
    )
    assert code == 1  # ... but it does not extend what was signed
    assert "checkpoint_not_extended" in output
    other = new_key_pair()[1]
    code, output = run("verify-export", str(out), "--checkpoint", str(kept), "--public-key", other)
    assert code == 1
    assert "bad_signature" in output
