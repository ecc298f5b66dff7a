"""A fresh store for one run: a SQLite file in a temporary directory, or a new schema."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import uuid4

import psycopg
from psycopg import sql

from timebank.storage import persistence_env


@dataclass(frozen=True)
class BenchStore:
    """Where this run keeps the ledger, and where the library floor keeps its aggregates."""

    kind: str  # "sqlite" or "postgresql"
    url: str  # the ledger's TIMEBANK_DATABASE_URL
    label: str  # for the report, without a password
    workdir: Path  # scratch files: the SQLite files, server log, load scripts
    floor_env: dict[str, str]  # the library floor's persistence settings


@contextmanager
def fresh_store(configured: str | None) -> Iterator[BenchStore]:
    """A store nobody else uses, removed afterwards.

    Without a URL, or with a SQLite one, a new file in a temporary directory: the user's
    own ledger file is never touched. With a PostgreSQL URL, a new `bench_<random>`
    schema on that server, dropped at the end.
    """
    workdir = Path(tempfile.mkdtemp(prefix="timebank-bench-"))
    try:
        scheme = urlsplit(configured or "sqlite:").scheme.lower()
        if scheme in ("postgresql", "postgres"):
            with _postgres_schema(configured or "", workdir) as store:
                yield store
        elif scheme == "sqlite":
            yield BenchStore(
                kind="sqlite",
                url=f"sqlite:///{workdir / 'timebank.db'}",
                label="SQLite: a fresh file in a temporary directory, removed afterwards",
                workdir=workdir,
                # Two applications on one SQLite file would share one events table.
                floor_env=persistence_env(f"sqlite:///{workdir / 'floor.db'}"),
            )
        else:
            msg = f"benchmarks run on sqlite:// or postgresql:// stores, not {configured!r}"
            raise ValueError(msg)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _postgres_schema(configured: str, workdir: Path) -> Iterator[BenchStore]:
    parts = urlsplit(configured)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"]
    server = urlunsplit(parts._replace(query=urlencode(query)))
    schema = f"bench_{uuid4().hex[:12]}"
    # The floor gets a schema of its own: with POSTGRES_ENABLE_DB_FUNCTIONS, applications
    # in one schema share one insert function (es_insert_events_uuid), which writes into
    # the table of whichever application created it last.
    floor_schema = f"{schema}_floor"
    with psycopg.connect(server, autocommit=True) as conn:
        for name in (schema, floor_schema):
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        row = conn.execute("SHOW server_version").fetchone()

    def at(name: str) -> str:
        return urlunsplit(parts._replace(query=urlencode([*query, ("schema", name)])))

    host = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}{parts.path}"
    try:
        yield BenchStore(
            kind="postgresql",
            url=at(schema),
            label=f"PostgreSQL {row[0] if row else '?'} at {host}, schema {schema} "
            f"(and {floor_schema} for the library floor; created and dropped by the run)",
            workdir=workdir,
            floor_env=persistence_env(at(floor_schema)),
        )
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            for name in (schema, floor_schema):
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
