"""`timebank import-service` with the files people have: Excel's CSV on a Chinese Windows
(GB18030), UTF-8 with a byte-order mark, Excel's Unicode text, Chinese headers, and the
attendance sheet (签到表) of one activity."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from projections.log import read_events
from tests.support import SINCE, Community, build_community, event_count, open_ledger, views_of
from timebank import ServiceLog, TeamRole
from timebank.activities import Activity
from timebank.members import member_code


@pytest.fixture
def community(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Community]:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    app = open_ledger(url)
    built = build_community(app)
    xiuying = app.register_member(actor_id=built.admin, name="李秀英").id
    app.add_team_member(
        actor_id=built.admin,
        team_id=built.care_team,
        member_id=xiuying,
        role=TeamRole.VOLUNTEER,
        effective_date=SINCE,
    )
    app.close()
    monkeypatch.setenv("TIMEBANK_DATABASE_URL", url)
    monkeypatch.setenv("TIMEBANK_TIMEZONE", "Asia/Shanghai")
    return url, built


def xiuying(url: str) -> UUID:
    app = open_ledger(url)
    try:
        with views_of(app) as views:
            [found] = [m.id for m in views.reader.member_names() if m.name == "李秀英"]
            return found
    finally:
        app.close()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def imported(url: str) -> list[ServiceLog.Logged]:
    app = open_ledger(url)
    try:
        return [e for e in read_events(app) if isinstance(e, ServiceLog.Logged)]
    finally:
        app.close()


CHINESE_RECORDS = (
    "序号,姓名,日期,分钟,活动,服务对象,备注\r\n"
    "1,李秀英,2026-06-01,120,上门探访,刘奶奶,\r\n"
    "2,Wang,2026-06-02,45,理发,,冬季\r\n"
)


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("gb18030", ","), ("gbk", ","), ("utf-8-sig", ","), ("utf-8", ","), ("utf-16", "\t")],
)
def test_chinese_headers_in_the_encodings_excel_saves(
    community: tuple[str, Community], tmp_path: Path, encoding: str, delimiter: str
) -> None:
    url, c = community
    path = tmp_path / "纸质记录.csv"
    path.write_bytes(CHINESE_RECORDS.replace(",", delimiter).encode(encoding))

    code, output = run("import-service", str(path), "--team", "Day care", "--coordinator", "Chen")

    assert code == 0, output
    assert "imported 2 records, 165 minutes" in output
    logs = {e.volunteer_id: e for e in imported(url) if e.source}
    assert (logs[xiuying(url)].activity, logs[xiuying(url)].beneficiary) == ("上门探访", "刘奶奶")
    assert logs[c.wang].note == "冬季"


def test_problems_are_named_by_the_files_own_columns(
    community: tuple[str, Community], tmp_path: Path
) -> None:
    url, _ = community
    path = tmp_path / "bad.csv"
    path.write_bytes(
        "姓名,日期,时长（分钟）,服务内容\n李秀英,2026-6-1,两小时,探访\n张三,2026-06-01,60,探访\n".encode(
            "gb18030"
        )
    )
    before = event_count(open_ledger(url))

    code, output = run("import-service", str(path), "--team", "Day care", "--coordinator", "Chen")

    assert code == 1
    assert "line 2: 日期: '2026-6-1': must be a date written YYYY-MM-DD" in output
    assert "line 2: 时长（分钟）: '两小时'" in output
    assert "line 3: 姓名: no member '张三' in this team" in output
    assert event_count(open_ledger(url)) == before


def test_a_volunteer_may_be_named_by_the_code_on_their_card(
    community: tuple[str, Community], tmp_path: Path
) -> None:
    url, c = community
    path = tmp_path / "codes.csv"
    code_typed = member_code(c.wang).lower().replace("-", "")
    path.write_text(f"volunteer,date,minutes,activity\n{code_typed},2026-06-01,30,haircut\n")

    code, output = run("import-service", str(path), "--team", "Day care", "--coordinator", "Chen")

    assert code == 0, output
    assert [e.volunteer_id for e in imported(url) if e.source] == [c.wang]


# Attendance sheets --------------------------------------------------------------------------


def test_an_attendance_sheet_is_one_activity_certified_by_the_coordinator(
    community: tuple[str, Community], tmp_path: Path
) -> None:
    url, c = community
    sheet = tmp_path / "签到表.csv"
    sheet.write_bytes("序号,姓名,联系电话\n1,李秀英,139\n2,Wang,138\n3,Chen,137\n".encode("gbk"))
    args = ("import-service", str(sheet), "--team", "Day care", "--coordinator", "Chen")
    clinic = ("--activity", "健康义诊", "--date", "2026-11-07", "--minutes", "120")

    code, output = run(*args, *clinic, "--place", "社区卫生服务站")
    again = run(*args, *clinic, "--place", "社区卫生服务站")

    assert code == 0, output
    assert "3 attendees, 360 minutes" in output
    assert again == (0, output)  # the same sheet is the same activity
    app = open_ledger(url)
    try:
        [recorded] = [e for e in read_events(app) if isinstance(e, Activity.Recorded)]
        assert recorded.place == "社区卫生服务站"
        assert app.get_account(xiuying(url)).balance_minutes == 120
        assert app.get_account(c.care_coordinator).balance_minutes == 0  # his own: pending
    finally:
        app.close()


def test_an_attendance_sheet_with_minutes_per_person_and_its_problems(
    community: tuple[str, Community], tmp_path: Path
) -> None:
    url, _ = community
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("姓名,分钟\n李秀英,90\nWang,\nWang,60\nZhao,60\n", encoding="utf-8-sig")
    args = ("import-service", str(sheet), "--team", "Day care", "--coordinator", "Chen")
    before = event_count(open_ledger(url))

    code, output = run(*args, "--activity", "包饺子", "--date", "2026-11-07")

    assert code == 1
    assert "line 3: 分钟: '': must be a whole number" in output
    assert "line 4: 姓名: signed in twice (line 3)" not in output  # line 3 was refused
    assert "line 5: 姓名: no member 'Zhao' in this team" in output
    assert event_count(open_ledger(url)) == before

    code, output = run(*args, "--activity", "包饺子", "--date", "2026-11-07", "--minutes", "30")
    assert code == 1
    assert "line 4: 姓名: signed in twice (line 3)" in output


def test_an_attendance_sheet_needs_its_day(
    community: tuple[str, Community], tmp_path: Path
) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("姓名\nWang\n", encoding="utf-8")
    args = ("import-service", str(sheet), "--team", "Day care", "--coordinator", "Chen")

    code, output = run(*args, "--activity", "包饺子", "--minutes", "60")
    assert code == 2
    assert "--date" in output
    code, output = run(*args, "--activity", "包饺子", "--date", "2026-13-01", "--minutes", "60")
    assert code == 2
    assert "is not a day of the calendar" in output


def test_a_file_in_no_known_encoding_is_refused_in_one_line(
    community: tuple[str, Community], tmp_path: Path
) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\x81\x30\xff\xfe\x00" * 10)

    code, output = run("import-service", str(path), "--team", "Day care", "--coordinator", "Chen")

    assert code == 1
    assert "file: file: neither UTF-8 nor GB18030 text" in output
