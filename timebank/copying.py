"""How a cached aggregate is copied for a command.

Commands change a copy of the cached aggregate, so that a refused or unsaved change leaves
the cache alone (the repository deep-copies what it hands out). An aggregate whose
attributes are immutable values (ids, numbers, text, days, enums) shares them with its copy;
only the list of pending events is the copy's own. That is a shallow copy, not the generic
deep walk, which was a tenth of an approval's time.
"""

from __future__ import annotations

from typing import Any, Self


class ValueAttributes:
    """A mixin for an aggregate whose own attributes are all immutable values. A subclass
    with a mutable attribute copies it in its own `__deepcopy__`, after this one's."""

    _pending_events: list[Any]

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        # What `copy.copy` does for such an object, without its generic protocol walk.
        copied = object.__new__(type(self))
        copied.__dict__.update(self.__dict__)
        copied._pending_events = list(self._pending_events)
        return copied
