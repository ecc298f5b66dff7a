"""Reading the sheets people actually have: CSV saved by Excel on a Chinese Windows
(GB18030/GBK), UTF-8 with or without a byte-order mark, Excel's "Unicode text" (UTF-16,
tab-separated), with headers in Chinese or English."""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

# Each column the import knows, under the names people give it (compared after NFKC,
# which turns full-width brackets into ASCII ones, without spaces, case-folded).
COLUMN_NAMES: Mapping[str, tuple[str, ...]] = {
    "volunteer": (
        "volunteer",
        "name",
        "member",
        "姓名",
        "志愿者",
        "志愿者姓名",
        "会员",
        "会员码",
        "会员编号",
    ),
    "date": ("date", "servicedate", "日期", "服务日期", "活动日期"),
    "minutes": (
        "minutes",
        "分钟",
        "分钟数",
        "时长",
        "时长(分钟)",
        "服务时长",
        "服务时长(分钟)",
        "服务分钟",
    ),
    "activity": ("activity", "活动", "活动名称", "服务内容", "服务项目"),
    "beneficiary": ("beneficiary", "服务对象", "受益人", "受助人"),
    "note": ("note", "notes", "备注", "说明"),
}
# Columns a sign-in sheet or a register often has that the ledger does not keep.
IGNORED_NAMES = frozenset(
    ("no", "no.", "#", "序号", "编号", "phone", "电话", "联系电话", "手机", "签名", "signature")
)


def _shown(column: str) -> str:
    """A column by its English and its first Chinese name: `date (日期)`."""
    chinese = next(name for name in COLUMN_NAMES[column] if not name.isascii())
    return f"{column} ({chinese})"


def _key(header: str) -> str:
    return "".join(unicodedata.normalize("NFKC", header).split()).casefold()


_COLUMN_OF = {_key(name): column for column, names in COLUMN_NAMES.items() for name in names}


class SheetError(ValueError):
    """The file cannot be read as a sheet: (line, field, message), line 0 for the file."""

    def __init__(self, line: int, field: str, message: str) -> None:
        super().__init__(message)
        self.line, self.field, self.message = line, field, message


def decoded(raw: bytes) -> tuple[str, str]:
    """The text of a file and the encoding it was read in: UTF-16 by its byte-order mark,
    else UTF-8 (a mark or not), else GB18030 (which GBK and GB2312 files are)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as error:
            raise SheetError(0, "file", f"not UTF-16 text ({error.reason})") from None
    try:
        return raw.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "GB18030"
    except UnicodeDecodeError as error:
        raise SheetError(
            0, "file", f"neither UTF-8 nor GB18030 text ({error.reason} at byte {error.start})"
        ) from None


@dataclass(frozen=True)
class Row:
    """One row's cells by the import's column names, and where it stands in the file."""

    line: int
    cells: dict[str, str]
    surplus: bool  # more cells than the header has columns


@dataclass(frozen=True)
class Sheet:
    """A sheet's header mapped onto the import's columns, and its rows to read."""

    columns: dict[str, str]  # the import's column -> the header as the file writes it
    rows: Iterator[Row]

    def named(self, column: str) -> str:
        """The column as the file names it (for messages the reader recognises)."""
        return self.columns.get(column, column)


def read_sheet(text: str, *, required: Sequence[str], allowed: Sequence[str]) -> Sheet:
    """The header checked (every required column, nothing unknown, each column once) and
    the rows; a header names columns in Chinese or English, in any case and width."""
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    # The csv module finds the rows itself: str.splitlines() would also break a row at
    # the separators and controls (\x1c, \x85, U+2028...) a cell may hold.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, [])
    except csv.Error as error:
        raise SheetError(1, "file", f"not readable as CSV: {error}") from None
    columns: dict[str, str] = {}
    positions: dict[int, str] = {}
    unknown: list[str] = []
    twice: list[str] = []
    for index, name in enumerate(header):
        key = _key(name)
        column = _COLUMN_OF.get(key)
        if column is None or column not in allowed:
            if key and key not in IGNORED_NAMES:
                unknown.append(repr(name.strip()))
            continue
        if column in columns:
            twice.append(repr(name.strip()))
            continue
        columns[column] = name.strip()
        positions[index] = column
    missing = [_shown(c) for c in required if c not in columns]
    problems = [
        f"missing columns {', '.join(missing)}" if missing else "",
        f"unknown columns {', '.join(unknown)}" if unknown else "",
        f"columns named twice {', '.join(twice)}" if twice else "",
    ]
    if any(problems):
        raise SheetError(1, "header", "; ".join(p for p in problems if p))

    def rows() -> Iterator[Row]:
        try:
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue  # a blank line, or a row of empty cells below the table
                yield Row(
                    line=reader.line_num,
                    cells={positions[i]: cell for i, cell in enumerate(cells) if i in positions},
                    surplus=len(cells) > len(header),
                )
        except csv.Error as error:  # a cell over the csv module's size limit, say
            raise SheetError(reader.line_num, "file", f"not readable as CSV: {error}") from None

    return Sheet(columns, rows())
