"""Fixtures: the three stores every application test runs on, and a small community."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from uuid import uuid4

import psycopg
import pytest
from hypothesis import settings
from psycopg import sql

from tests.support import Community, build_community, open_ledger, postgres_test_url
from timebank import TimeBank

# Property tests check what the code does, never how fast: on a busy two-core machine the
# first example of a test can take half a second while modules warm up.
settings.register_profile("timebank", deadline=None)
settings.load_profile("timebank")

# The library ends a PostgreSQL transaction left idle for 5 s. The test process on a busy
# two-core machine can pause that long between two statements of one transaction (CI once
# lost a test's table setup so, "terminating connection due to idle-in-transaction
# timeout"), which says nothing about the code under test: tests allow a minute.
os.environ.setdefault("POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "60")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL naming a fresh schema of its own on the test server, dropped afterwards."""
    base = postgres_test_url()
    if base is None:
        pytest.skip("set TIMEBANK_TEST_POSTGRES_URL to run the PostgreSQL tests")
    schema = f"timebank_test_{uuid4().hex[:16]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}schema={schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The store of an application test: in-memory, a real SQLite file, real PostgreSQL."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store') / 'timebank.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def app(store_url: str) -> Iterator[TimeBank]:
    ledger = open_ledger(store_url)
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
def community(app: TimeBank) -> Community:
    return build_community(app)


@pytest.fixture(params=[True, False], ids=["collector-on", "collector-off"])
def collector_enabled(request: pytest.FixtureRequest) -> Iterator[bool]:
    """The cyclic garbage collector switched on or off for the test, as it was after."""
    was = gc.isenabled()
    enabled: bool = request.param
    (gc.enable if enabled else gc.disable)()
    try:
        yield enabled
    finally:
        (gc.enable if was else gc.disable)()
