"""Upcasters mark the events they change, so the audit trail can hash them as stored.

The audit chain is taken over an event's data as it was stored. An event read at the
version it was stored at already holds exactly that data, so the runner hashes it without
reading the stored state twice; only an event an upcaster changed must be decoded again.
Every upcaster calls `upcast_from` to say so.
"""

from __future__ import annotations

from typing import Any

STORED_CLASS_VERSION = "_stored_class_version"
"""The attribute an upcast event carries: the class version it was stored at."""


def upcast_from(state: dict[str, Any], version: int) -> None:
    """Note on an event's state that it was stored at `version` (the first upcaster wins)."""
    state.setdefault(STORED_CLASS_VERSION, version)
