"""Where the ledger's events live: checked settings turned into the library's env."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, InternalError, ProgrammingError
from eventsourcing.utils import Environment, retry

from timebank.sealing import (
    EVENT_KEY,
    PREVIOUS_EVENT_KEYS,
    check_event_key,
    check_previous_event_keys,
)

DEFAULT_DATABASE_URL = "sqlite:///timebank.db"
MIN_SECRET_LENGTH = 32

T = TypeVar("T", bound=Callable[..., Any])


def retried_at_startup(create: T) -> T:
    """Several processes starting together on an empty database race to create its tables
    and functions (PostgreSQL: "tuple concurrently updated", "already exists", duplicate
    keys in its catalogue): the losers wait a moment and try again."""
    wrapped: T = retry(
        (IntegrityError, InternalError, ProgrammingError), max_attempts=10, wait=0.05
    )(create)
    return wrapped


class SettingError(ValueError):
    """A setting the ledger is opened with is unusable; says which and why."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting
        self.message = message


def check_secret(value: str) -> str:
    """A token secret or admin token is long enough not to be guessed."""
    if len(value) < MIN_SECRET_LENGTH:
        msg = f"must be at least {MIN_SECRET_LENGTH} characters (secrets.token_urlsafe(32))"
        raise ValueError(msg)
    return value


def check_encryption_key(value: str) -> str:
    """An AES key is base64 of 16, 24 or 32 bytes."""
    try:
        key = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("must be base64 (AESCipher.create_key(32))") from None
    if len(key) not in (16, 24, 32):
        raise ValueError(f"must decode to 16, 24 or 32 bytes, not {len(key)}")
    return value


def encryption_env(key: str) -> dict[str, str]:
    """The library's settings for AES-GCM encryption of stored event payloads.

    Only the payload is encrypted: aggregate ids, versions and topics stay readable, so
    the store can still be ordered and checked. `key` is base64 of 16, 24 or 32 bytes.
    """
    return {"CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher", "CIPHER_KEY": key}


class StorageURLError(ValueError):
    """The database URL names no store the ledger knows how to use."""


DEFAULT_CONNECT_TIMEOUT = 5
"""Seconds a request waits for a PostgreSQL connection before it is answered 503."""


def persistence_env(
    url: str, *, pool_size: int = 20, connect_timeout: int = DEFAULT_CONNECT_TIMEOUT
) -> dict[str, str]:
    """The eventsourcing settings for a database URL.

    - `sqlite:///timebank.db` (relative) or `sqlite:////var/lib/timebank.db` (absolute):
      an embedded SQLite file, switched to WAL by the library;
    - `postgresql://user:password@host:port/db?schema=name`: PostgreSQL through the
      library's postgres module, in the given schema (default `public`);
    - `memory://`: the library's in-memory store, for tests and trying things out.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if scheme == "sqlite":
        if parts.netloc:
            msg = f"a SQLite URL has no host: use sqlite:///path/to/file.db, not {url!r}"
            raise StorageURLError(msg)
        path = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
        if not path:
            msg = f"a SQLite URL needs a file path, as in sqlite:///timebank.db: {url!r}"
            raise StorageURLError(msg)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    if scheme in ("postgresql", "postgres"):
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            msg = f"a PostgreSQL URL names its database, as in postgresql://host/db: {url!r}"
            raise StorageURLError(msg)
        query = parse_qs(parts.query)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            # The library's recorder, but a large write (an import) skips the pipeline,
            # which hangs on one (see timebank.postgres).
            "APPLICATION_RECORDER_TOPIC": "timebank.postgres:LedgerRecorder",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": str(pool_size),
            # Wait for the table lock a while, then fail and let the command retry.
            "POSTGRES_LOCK_TIMEOUT": "5",
            # While the server cannot be reached, a request waits this long for a
            # connection and fails (503), rather than as long as the library's 30 s; each
            # pooled connection is checked before use, so the ones an outage broke are
            # replaced, not handed to the next requests after it.
            "POSTGRES_CONNECT_TIMEOUT": str(connect_timeout),
            "POSTGRES_PRE_PING": "y",
            # Not POSTGRES_ENABLE_DB_FUNCTIONS: in 9.5.6 its insert function does not take
            # the table lock that keeps commits in log order, so a reader tailing the log
            # could step over an event committed after a later one.
        }
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"][0]
        return env
    msg = (
        f"unsupported database URL {url!r}: use sqlite:///FILE, "
        "postgresql://USER:PASSWORD@HOST:PORT/DB or memory://"
    )
    raise StorageURLError(msg)


def ledger_env(
    database_url: str,
    *,
    pool_size: int = 20,
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
    token_secret: str | None = None,
    encryption_key: str | None = None,
    event_key: str | None = None,
    previous_event_keys: str | None = None,
) -> dict[str, str]:
    """The whole library env of a ledger, from checked settings: the one way it is built.

    An empty secret or key counts as unset, as it does in the process settings. The event
    keys are not the library's own settings: `TimeBank.construct_mapper` reads them (see
    `timebank.sealing`)."""
    if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
        raise SettingError("postgres_pool_size", "must be a whole number of at least 1")
    if (
        isinstance(connect_timeout, bool)
        or not isinstance(connect_timeout, int)
        or connect_timeout < 1
    ):
        raise SettingError("connect_timeout", "must be a whole number of seconds, at least 1")
    try:
        env = persistence_env(database_url, pool_size=pool_size, connect_timeout=connect_timeout)
    except StorageURLError as error:
        raise SettingError("database_url", str(error)) from None
    for setting, value, check in (
        ("token_secret", token_secret, check_secret),
        ("encryption_key", encryption_key, check_encryption_key),
        ("event_key", event_key, check_event_key),
        ("previous_event_keys", previous_event_keys, check_previous_event_keys),
    ):
        if value:
            try:
                check(value)
            except ValueError as error:
                raise SettingError(setting, str(error)) from None
    if token_secret:
        env["TOKEN_SECRET"] = token_secret
    if encryption_key:
        env.update(encryption_env(encryption_key))
    if previous_event_keys and not event_key:
        raise SettingError(
            "previous_event_keys", "seals are checked with previous keys only beside an event key"
        )
    if event_key:
        env[EVENT_KEY] = event_key
    if previous_event_keys:
        env[PREVIOUS_EVENT_KEYS] = previous_event_keys
    return env


def explicit_env(application: type[Application[Any]], env: Mapping[str, str] | None) -> Environment:
    """An application's library env from its class defaults and `env` alone.

    The library's own `construct_env` merges in os.environ, and looks every key up first
    with the application's name as a prefix: a stray TIMEBANK_PERSISTENCE_MODULE in a
    shell would beat the store the settings chose, and send writes to memory."""
    merged = dict(application.env)
    if application.is_snapshotting_enabled or application.snapshotting_intervals:
        merged["IS_SNAPSHOTTING_ENABLED"] = "y"
    merged.update(env or {})
    return Environment(application.name, merged)


def bound_connecting(recorder: Any, seconds: str | None) -> None:
    """libpq's own connect timeout on a PostgreSQL recorder's connections: the library
    bounds the wait for a pooled connection, not one connection attempt, and a server that
    swallows packets would otherwise hold each attempt for minutes."""
    pool = getattr(getattr(recorder, "datastore", None), "pool", None)
    kwargs = getattr(pool, "kwargs", None)
    if seconds and isinstance(kwargs, dict):
        kwargs["connect_timeout"] = int(seconds)
