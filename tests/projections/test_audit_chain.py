"""The audit chain's link is the canonical JSON of the whole object, as ledgers stored
before the link was written out by hand were hashed; the runner's way of writing an event's
data gives the same text as decoding what was stored."""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

from eventsourcing.domain import AggregateEvent
from eventsourcing.persistence import JSONTranscoder, Mapper, Notification
from hypothesis import given
from hypothesis import strategies as st

from projections.audit import (
    GENESIS_HASH,
    _jsonable,
    canonical_json,
    chain,
    chain_of,
    decode_data,
    entry,
    entry_of_event,
    event_json,
)
from projections.log import notifications
from tests.projections.test_runner import busy_community
from timebank import TimeBank
from timebank.demo import build_demo
from timebank.upcasting import STORED_CLASS_VERSION

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


def test_an_entry_made_from_the_decoded_event_is_the_entry_of_the_stored_data(
    app: TimeBank,
) -> None:
    """The runner and verify write each event's data straight from the decoded event; it
    must be exactly the canonical form of the data as stored, for every kind of event."""
    build_demo(app, volunteers=8, months=2)
    busy_community(app)
    topics = set()
    previous = GENESIS_HASH
    for notification in notifications(app):
        event = app.mapper.to_domain_event(notification)
        assert isinstance(event, AggregateEvent)
        stored = decode_data(app.mapper, notification)
        assert event_json(app.mapper, notification, event) == canonical_json(stored)
        made = entry_of_event(previous, app.mapper, notification, event)
        assert made == entry(previous, notification, stored)
        assert made.data == stored
        previous = made.hash
        topics.add(notification.topic)
    assert len(topics) >= 15


event_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too: orjson refuses those, and the slow path writes them
    | st.text()
    | st.uuids()
    | st.dates()
    | st.datetimes(timezones=st.none() | st.timezones())
    | st.decimals(allow_nan=False),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(), inner, max_size=3)
    ),
    max_leaves=8,
)


field_names = st.text().filter(
    lambda name: name not in ("originator_id", "originator_version", STORED_CLASS_VERSION)
)


@given(
    fields=st.dictionaries(field_names, event_values, max_size=6),
    columns=st.fixed_dictionaries(
        {}, optional={"actor_id": event_values, "timestamp": event_values}
    ),
)
def test_the_fast_way_of_writing_an_event_is_the_canonical_json_of_its_data(
    fields: dict[str, Any], columns: dict[str, Any]
) -> None:
    """Text of every kind (quotes, control characters, Chinese), ids, instants in any time
    zone, days, and integers of any size give exactly `canonical_json` of `_jsonable`, and
    the entry's columns (actor, instant) are the data's own, present or not."""
    fields |= columns
    event: Any = SimpleNamespace(originator_id=uuid4(), originator_version=1, **fields)
    notification = Notification(
        id=1, originator_id=event.originator_id, originator_version=1, topic="t", state=b""
    )
    mapper: Mapper[Any] = Mapper(transcoder=JSONTranscoder())
    assert event_json(mapper, notification, event) == canonical_json(_jsonable(fields))
    made = entry_of_event(GENESIS_HASH, mapper, notification, event)
    assert made == entry(GENESIS_HASH, notification, _jsonable(fields))
