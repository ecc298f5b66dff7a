"""The views' writer after PostgreSQL was out of reach: its advisory locks went with its
session, so it asks again rather than go on writing beside a second writer."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from projections.locks import PostgresLocks
from tests.proxy import Proxy, proxied

pytestmark = pytest.mark.postgres


def engine_for(url: str) -> Engine:
    parsed = make_url(url.partition("?")[0]).set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 2})


def eventually(attempt: Callable[[], bool], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if attempt():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def through_a_proxy(postgres_url: str) -> Iterator[tuple[Proxy, Engine, Engine, str]]:
    """A proxy, an engine through it, an engine straight to the server, the schema."""
    with proxied(postgres_url) as (proxy, through):
        near, direct = engine_for(through), engine_for(postgres_url)
        try:
            yield proxy, near, direct, postgres_url.rpartition("schema=")[2]
        finally:
            near.dispose()
            direct.dispose()


def test_a_writer_whose_session_was_lost_finds_out_and_takes_the_place_back_if_free(
    through_a_proxy: tuple[Proxy, Engine, Engine, str],
) -> None:
    proxy, near, direct, schema = through_a_proxy
    writer, other = PostgresLocks(near, schema), PostgresLocks(direct, schema)
    assert writer.try_writer()
    assert not other.try_writer()

    proxy.cut()
    proxy.mend()

    # The server let go of the lost session's locks: another process becomes the writer,
    # and the first one, asked, knows it no longer is.
    assert eventually(other.try_writer)
    assert not writer.reassert_writer()
    other.release_writer()
    assert writer.reassert_writer()
    assert writer.reassert_writer()  # asked again on a live session: still the writer
    writer.release()
