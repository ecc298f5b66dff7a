"""A mapping that moves what it holds to a temporary database: what goes in comes out."""

from __future__ import annotations

from projections.spill import Spill


def test_entries_moved_to_the_database_read_as_they_were_written() -> None:
    spill = Spill(limit=3)
    for i in range(10):
        spill[f"log {i}"] = (i, 30 * i)
    spill[b"\x00\x01"] = 7
    spill[42] = "text"
    assert [tuple(spill.get(f"log {i}")) for i in range(10)] == [(i, 30 * i) for i in range(10)]
    assert (spill.get(b"\x00\x01"), spill.get(42), spill.get("never", 0)) == (7, "text", 0)
    spill.close()


def test_the_latest_value_wins_and_a_popped_entry_is_gone_everywhere() -> None:
    spill = Spill(limit=2)
    spill["a"], spill["b"] = 1, 2  # moved to the database
    spill["a"] = 10  # newer, in memory
    assert spill.get("a") == 10
    assert spill.pop("a") == 10
    assert spill.get("a") is None
    assert spill.pop("a", "gone") == "gone"
    assert (spill.pop("b"), spill.get("b", 0)) == (2, 0)
    spill.close()
