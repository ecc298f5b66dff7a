"""Reading JSON Lines from files nobody vouches for: bounded lines, strict JSON, no tracebacks.

An export or a kept checkpoint may have been damaged or crafted: a line of a hundred
thousand `[`, a line of gigabytes, bytes that are not UTF-8, NUL bytes, a key given twice.
Every such line becomes a `LineError` saying what is wrong with it; memory stays bounded
by `MAX_LINE_BYTES` whatever the file holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

MAX_LINE_BYTES = 4 * 1024 * 1024
"""Far above any line the ledger writes (an event's texts are a few kilobytes at most)."""

_CHUNK = 64 * 1024


class LineError(ValueError):
    """A line that is not what a reader of the ledger's files accepts; says why."""


class Oversized:
    """Stands for a line longer than the limit, which was skipped without being kept."""

    def __init__(self, size: int) -> None:
        self.size = size


def bounded_lines(
    stream: BinaryIO, *, max_bytes: int = MAX_LINE_BYTES
) -> Iterator[bytes | Oversized]:
    """The lines of a binary stream without their line ends; a line longer than
    `max_bytes` comes as `Oversized`, read through in chunks and never held whole."""
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if len(line) <= max_bytes or line.endswith(b"\n"):
            yield line.rstrip(b"\r\n") if line.endswith(b"\n") else line
            continue
        size = len(line)
        while not line.endswith(b"\n"):
            line = stream.readline(_CHUNK)
            if not line:
                break
            size += len(line)
        yield Oversized(size)


def parse_line(line: bytes | str | Oversized, *, max_bytes: int = MAX_LINE_BYTES) -> Any:
    """One line's JSON value, or a `LineError`: not UTF-8, not JSON, nested too deep, a key
    given twice, NaN or infinity, or longer than the limit."""
    if isinstance(line, Oversized):
        raise LineError(f"the line is {line.size:,} bytes long, over the limit of {max_bytes:,}")
    if isinstance(line, bytes):
        if len(line) > max_bytes:
            raise LineError(
                f"the line is {len(line):,} bytes long, over the limit of {max_bytes:,}"
            )
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise LineError(f"not UTF-8 (byte {error.start + 1} of the line)") from None
    else:
        text = line
    if "\x00" in text:
        raise LineError("the line holds a NUL character")
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except RecursionError:
        raise LineError("not JSON: nested too deeply") from None
    except LineError:
        raise
    except ValueError as error:  # JSONDecodeError, and an integer too long to read
        message = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        raise LineError(f"not JSON: {message}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            raise LineError(f"the key {key!r} is given twice")
        value[key] = item
    return value


def _no_constant(name: str) -> Any:
    raise LineError(f"{name} is not a JSON number")
