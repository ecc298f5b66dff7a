"""Export and verify-export, paper-record imports, rankings and balances at the terminal."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from projections.audit import GENESIS_HASH, chain_of
from projections.log import read_events
from tests.projections.test_runner import busy_community
from tests.support import Community, event_count, open_ledger
from timebank import ServiceLog


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Community]:
    """A busy community in a SQLite file that the commands are pointed at."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    app = open_ledger(url)
    community = busy_community(app)
    app.close()
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    monkeypatch.setenv("TIMEBANK_TIMEZONE", "Asia/Shanghai")
    return url, community


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


# Export ----------------------------------------------------------------------------------


def test_an_export_verifies_from_the_file_alone(
    ledger: tuple[str, Community], tmp_path: Path
) -> None:
    url, _ = ledger
    out = tmp_path / "ledger.jsonl"
    code, output = run("export", str(out))
    assert code == 0, output
    lines = out.read_text(encoding="utf-8").splitlines()
    app = open_ledger(url)
    stored = event_count(app)
    app.close()
    assert len(lines) == stored + 1
    checkpoint = json.loads(lines[-1])["checkpoint"]
    assert checkpoint["count"] == stored
    assert checkpoint["totals"]["sum"] == 0
    first = json.loads(lines[0])
    assert set(first) >= {
        "position",
        "type",
        "aggregate_id",
        "actor_id",
        "recorded_at",
        "data",
        "hash",
    }

    Path(url.removeprefix("sqlite:///")).unlink()  # no database: the file is all there is
    code, output = run("verify-export", str(out))
    assert code == 0, output
    assert f"{stored} events verified" in output


def edit_line(path: Path, number: int, change: dict[str, object], *, rechain: bool) -> None:
    """Change one event's data; with `rechain`, forge every hash after it too."""
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    records[number - 1]["data"].update(change)
    if rechain:
        head = GENESIS_HASH
        for record in records[:-1]:
            head = record["hash"] = chain_of(
                head,
                position=record["position"],
                topic=record["topic"],
                aggregate_id=record["aggregate_id"],
                aggregate_version=record["aggregate_version"],
                data=record["data"],
            )
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def line_of(path: Path, topic: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if json.loads(line).get("topic") == topic:
            return number
    raise AssertionError(f"no {topic} in the export")


def test_an_edited_line_fails_at_that_line(ledger: tuple[str, Community], tmp_path: Path) -> None:
    out = tmp_path / "ledger.jsonl"
    assert run("export", str(out))[0] == 0
    number = line_of(out, "timebank:Account.Earned")
    edit_line(out, number, {"minutes": 600}, rechain=False)
    code, output = run("verify-export", str(out))
    assert code == 1
    assert f"line {number}: the hash does not match the chain" in output


def test_a_rewritten_chain_is_caught_by_the_checkpoint(
    ledger: tuple[str, Community], tmp_path: Path
) -> None:
    out = tmp_path / "ledger.jsonl"
    assert run("export", str(out))[0] == 0
    total = len(out.read_text(encoding="utf-8").splitlines())
    edit_line(out, line_of(out, "timebank:Transfer.Made"), {"note": "forged"}, rechain=True)
    code, output = run("verify-export", str(out))
    assert code == 1
    assert f"line {total}: the checkpoint's head hash is not the chain's" in output


def test_an_overdraft_in_the_file_is_caught_even_when_rechained(
    ledger: tuple[str, Community], tmp_path: Path
) -> None:
    out = tmp_path / "ledger.jsonl"
    assert run("export", str(out))[0] == 0
    number = line_of(out, "timebank:Account.Gave")
    edit_line(out, number, {"minutes": 100_000}, rechain=True)
    code, output = run("verify-export", str(out))
    assert code == 1
    assert f"line {number}: the books break" in output
    assert "below zero" in output


def test_a_truncated_export_fails(ledger: tuple[str, Community], tmp_path: Path) -> None:
    out = tmp_path / "ledger.jsonl"
    assert run("export", str(out))[0] == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    out.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    code, output = run("verify-export", str(out))
    assert code == 1
    assert "without a checkpoint" in output


def test_a_tampered_store_is_not_exported(ledger: tuple[str, Community], tmp_path: Path) -> None:
    url, _ = ledger
    assert run("verify")[0] == 0  # the audit trail has seen every event
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        db.execute("DELETE FROM stored_events WHERE rowid = 9")
    out = tmp_path / "ledger.jsonl"
    code, output = run("export", str(out))
    assert code == 1
    assert "event 9 was audited but is no longer stored" in output
    assert not out.exists()
    assert not out.with_name("ledger.jsonl.partial").exists()


# Import ----------------------------------------------------------------------------------


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(
        "volunteer,date,minutes,activity,beneficiary\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    return path


def test_paper_records_are_entered_approved_and_named(
    ledger: tuple[str, Community], tmp_path: Path
) -> None:
    url, c = ledger
    records = write_csv(
        tmp_path / "2026-paper.csv",
        [
            "Li,2026-06-01,120,home care,Grandma Liu",
            f"{c.wang},2026-06-02,45,haircut,",
        ],
    )
    code, output = run(
        "import-service", str(records), "--team", "Day care", "--coordinator", "Chen"
    )
    assert code == 0, output
    assert "imported 2 records, 165 minutes" in output
    app = open_ledger(url)
    try:
        assert app.get_account(c.li).earned_minutes == 180 + 120
        imported = [e for e in read_events(app) if isinstance(e, ServiceLog.Logged) and e.source]
        assert len(imported) == 2
        assert all("2026-paper.csv" in (e.source or "") for e in imported)
        assert {e.actor_id for e in imported} == {c.care_coordinator}
    finally:
        app.close()
    again = run("import-service", str(records), "--team", "Day care", "--coordinator", "Chen")
    assert again[0] == 1
    assert "already imported" in again[1]


def test_one_bad_row_writes_nothing_and_every_bad_row_is_named(
    ledger: tuple[str, Community], tmp_path: Path
) -> None:
    url, _ = ledger
    app = open_ledger(url)
    before = event_count(app)
    app.close()
    records = write_csv(
        tmp_path / "bad.csv",
        [
            "Li,2026-06-01,120,home care,",  # line 2: fine
            "Li,2026-13-01,60,home care,",  # line 3: no such date
            "Nobody,2026-06-01,60,home care,",  # line 4: not in the team
            "Wang,2026-06-01,0,home care,",  # line 5: no minutes
            "Zhao,2026-06-01,60,home care,",  # line 6: in another team
            "Wang,2099-01-01,60,home care,",  # line 7: in the future
            "Wang,2026-06-01,sixty,home care,",  # line 8: not a number
        ],
    )
    code, output = run(
        "import-service", str(records), "--team", "Day care", "--coordinator", "Chen"
    )
    assert code == 1
    for line, field in ((3, "date"), (4, "volunteer"), (6, "volunteer"), (8, "minutes")):
        assert f"line {line}: {field}:" in output
    assert "line 2:" not in output
    assert "nothing imported" in output
    app = open_ledger(url)
    try:
        assert event_count(app) == before
    finally:
        app.close()

    fixed = write_csv(
        tmp_path / "fixed.csv",
        ["Wang,2026-06-01,0,home care,", "Wang,2099-01-01,60,home care,"],
    )
    code, output = run("import-service", str(fixed), "--team", "Day care", "--coordinator", "Chen")
    assert code == 1
    assert "line 2: minutes:" in output
    assert "line 3: service_date:" in output


def test_an_import_names_every_row_with_hidden_controls_or_odd_numbers_and_dates(
    ledger: tuple[str, Community], tmp_path: Path
) -> None:
    """Cells as they come from spreadsheets and other systems: each bad row is named by
    its line, nothing is written, and no cell makes the command crash."""
    url, _ = ledger
    app = open_ledger(url)
    before = event_count(app)
    app.close()
    path = tmp_path / "odd.csv"
    rows = [
        "volunteer,date,minutes,activity,beneficiary,note",
        'Li,2026-06-01,60,"care\x01\x1b[31m",,',  # line 2: terminal escape
        'Li,2026-06-01,60,home care,,"bathed\x00and\x07fed"',  # line 3: NUL and BEL
        "Li,2025-W02-3,60,home care,,",  # line 4: an ISO week date
        "Li,2026-06-01,\u0661\u0662\u0660,home care,,",  # line 5: Arabic-Indic 120
        "Li,2026-06-01,\u00b2,home care,,",  # line 6: superscript two
        "Li,0001-01-01,60,home care,,",  # line 7: before 1900
        "Li,2026-06-01,60,\u200b\u200b,,",  # line 8: zero-width spaces only
        'Li,2026-06-01,60,"home\x1ccare",,',  # line 9: a separator str.splitlines breaks at
        "Li,2026-06-01,60,home care,Grandma \u202eLiu,",  # line 10: right-to-left override
        "Li,2026-06-01,60,home care,,",  # line 11: fine
        "Li,2026-06-01,60,home care,,,surplus",  # line 12: a cell too many
    ]
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("utf-8"))

    result = CliRunner().invoke(
        cli, ["import-service", str(path), "--team", "Day care", "--coordinator", "Chen"]
    )

    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert result.exit_code == 1
    output = result.output
    for line, field in (
        (2, "activity"),
        (3, "note"),
        (4, "date"),
        (5, "minutes"),
        (6, "minutes"),
        (7, "date"),
        (8, "activity"),
        (9, "activity"),
        (10, "beneficiary"),
        (12, "row"),
    ):
        assert f"line {line}: {field}:" in output, (line, field, output)
    assert "line 11:" not in output
    assert "line 4: date: '2025-W02-3': must be a date written YYYY-MM-DD" in output
    assert "line 7: date: '0001-01-01': must not be before 1900-01-01" in output
    assert "must be a whole number written with the digits 0-9" in output
    assert not any(c in output for c in "\x00\x01\x07\x1b\x1c\u202e")  # shown escaped
    assert "nothing imported: 10 problems" in output
    app = open_ledger(url)
    try:
        assert event_count(app) == before
    finally:
        app.close()


def test_imported_texts_are_kept_in_nfc_and_trimmed(
    ledger: tuple[str, Community], tmp_path: Path
) -> None:
    url, _ = ledger
    records = write_csv(tmp_path / "nfc.csv", ["Li,2026-06-01,60,\u200bcafe\u0301 visit ,"])

    code, output = run(
        "import-service", str(records), "--team", "Day care", "--coordinator", "Chen"
    )

    assert code == 0, output
    app = open_ledger(url)
    try:
        [logged] = [e for e in read_events(app) if isinstance(e, ServiceLog.Logged) and e.source]
        assert logged.activity == "caf\u00e9 visit"
    finally:
        app.close()


def test_only_a_coordinator_of_the_team_imports(
    ledger: tuple[str, Community], tmp_path: Path
) -> None:
    records = write_csv(tmp_path / "r.csv", ["Li,2026-06-01,60,home care,"])
    code, output = run("import-service", str(records), "--team", "Day care", "--coordinator", "Sun")
    assert code == 1
    assert "not a coordinator" in output
    code, output = run(
        "import-service", str(records), "--team", "Day care", "--coordinator", "Chen"
    )
    assert code == 0, output


def test_a_file_without_the_required_columns_is_refused(
    ledger: tuple[str, Community], tmp_path: Path
) -> None:
    path = tmp_path / "r.csv"
    path.write_text("who,when,minutes\nLi,2026-06-01,60\n", encoding="utf-8")
    code, output = run("import-service", str(path), "--team", "Day care", "--coordinator", "Chen")
    assert code == 1
    assert (
        "line 1: header: missing columns volunteer (姓名), date (日期), activity (活动); "
        "unknown columns 'who', 'when'"
    ) in output


# Reports ---------------------------------------------------------------------------------


def test_rankings_and_balances_print_readable_tables(ledger: tuple[str, Community]) -> None:
    code, output = run("rankings", "--period", "all")
    assert code == 0, output
    # Day care: Li's 180 minutes (Wang's 45 were reversed); the patrol: Zhao's 180. A tie,
    # listed by name.
    assert output.index("Day care") < output.index("Night patrol")
    # Not a terminal: a plain table, a header line and then one line per team.
    assert [line.split()[0] for line in output.splitlines()[2:4]] == ["1", "1"]
    code, output = run("rankings", "--volunteers", "--team", "Day care")
    assert code == 0, output
    assert "Li" in output
    assert "3:00" in output  # Li's 180 minutes
    code, output = run("balance", "Li")
    assert code == 0, output
    assert "available" in output
    assert "110" in output
    code, output = run("rankings", "--period", "2026-13")
    assert code == 2
    code, output = run("rankings", "--period", "\u0662\u0660\u0662\u0666")  # Arabic-Indic
    assert code == 2
    code, output = run("balance", "Nobody")
    assert code == 2
    assert "no member 'Nobody'" in output


def test_a_later_export_is_held_against_an_earlier_checkpoint(
    ledger: tuple[str, Community], tmp_path: Path
) -> None:
    url, c = ledger
    earlier = tmp_path / "march.jsonl"
    assert run("export", str(earlier))[0] == 0
    app = open_ledger(url)
    app.transfer(actor_id=c.li, to_member_id=c.grandma, minutes=10)
    app.close()
    later = tmp_path / "april.jsonl"
    assert run("export", str(later))[0] == 0
    code, output = run("verify-export", str(later), "--earlier", str(earlier))
    assert code == 0, output

    # Someone rewrites history before the earlier checkpoint, chain and all.
    number = line_of(later, "timebank:Transfer.Made")
    edit_line(later, number, {"note": "rewritten"}, rechain=True)
    lines = later.read_text(encoding="utf-8").splitlines()
    records = [json.loads(x) for x in lines[:-1]]
    checkpoint = json.loads(lines[-1])
    checkpoint["checkpoint"]["head_hash"] = records[-1]["hash"]
    later.write_text("\n".join([*lines[:-1], json.dumps(checkpoint)]) + "\n", encoding="utf-8")
    assert run("verify-export", str(later))[0] == 0  # consistent with itself ...
    code, output = run("verify-export", str(later), "--earlier", str(earlier))
    assert code == 1  # ... but not with what the earlier export certified
    assert "history differs from the earlier export's checkpoint" in output
