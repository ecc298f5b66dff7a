"""The audit chain's link is the canonical JSON of the whole object, as ledgers stored
before the link was written out by hand were hashed."""

from __future__ import annotations

import hashlib
import json
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
def test_the_link_hashes_the_canonical_json_of_the_whole_object(
    data: dict[str, Any], position: int, version: int, topic: str
) -> None:
    """From a stored notification (the runner, verify) or an exported line (verify-export),
    text with quotes, backslashes or Chinese gives the link of the definition."""
    aggregate_id = uuid4()
    notification = Notification(
        id=position,
        originator_id=aggregate_id,
        originator_version=version,
        topic=topic,
        state=b"",
    )
    whole = {
        "position": position,
        "topic": topic,
        "aggregate_id": str(aggregate_id),
        "aggregate_version": version,
        "data": data,
    }
    canonical = json.dumps(whole, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    defined = hashlib.sha256(f"{GENESIS_HASH}\n{canonical}".encode()).hexdigest()
    assert chain(GENESIS_HASH, notification, data) == defined
    assert (
        chain_of(
            GENESIS_HASH,
            position=position,
            topic=topic,
            aggregate_id=str(aggregate_id),
            aggregate_version=version,
            data=data,
        )
        == defined
    )
