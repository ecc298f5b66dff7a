"""The audit chain's link is one canonical text, however it is computed."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from eventsourcing.persistence import Notification
from hypothesis import given
from hypothesis import strategies as st

from projections.audit import GENESIS_HASH, chain, chain_of

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@given(
    data=st.dictionaries(st.text(), json_values, max_size=5),
    position=st.integers(min_value=1, max_value=10**12),
    version=st.integers(min_value=1, max_value=10**6),
    topic=st.text(min_size=1),
)
def test_the_runner_link_and_the_export_link_agree(
    data: dict[str, Any], position: int, version: int, topic: str
) -> None:
    """The runner hashes from a stored notification, verify-export from an exported line:
    text with quotes, backslashes or Chinese must give the same link either way."""
    aggregate_id = uuid4()
    notification = Notification(
        id=position,
        originator_id=aggregate_id,
        originator_version=version,
        topic=topic,
        state=b"",
    )
    assert chain(GENESIS_HASH, notification, data) == chain_of(
        GENESIS_HASH,
        position=position,
        topic=topic,
        aggregate_id=str(aggregate_id),
        aggregate_version=version,
        data=data,
    )
