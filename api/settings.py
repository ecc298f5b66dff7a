"""Settings of a Timebank process, read from `TIMEBANK_` environment variables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.signins import SignInGuard
from projections.checkpoints import IntervalSigner, check_checkpoint_key, load_private_key
from projections.expiry import ExpirySweeper
from projections.runner import ProjectionRunner
from timebank.application import TimeBank
from timebank.policies import Rules
from timebank.policy import Policy
from timebank.sealing import check_event_key, check_previous_event_keys, check_store_keys
from timebank.stars import parse_ladder
from timebank.storage import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DATABASE_URL,
    check_encryption_key,
    check_secret,
    ledger_env,
    persistence_env,
)


class Settings(BaseSettings):
    """Every setting has a working default: a SQLite file in the working directory."""

    model_config = SettingsConfigDict(env_prefix="TIMEBANK_", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="sqlite:///FILE (default), postgresql://USER:PASSWORD@HOST:PORT/DB, memory://",
    )
    host: str = Field("127.0.0.1", description="Address the API server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the API server listens on.")
    public_url: str = Field(
        "http://127.0.0.1:8000",
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="Where the public reaches this server: the address a certificate's QR "
        "code and verification link name (`https://timebank.example.org`).",
    )
    admin_token: SecretStr | None = Field(
        None,
        description="A bootstrap token that acts as an admin (keep it secret; 32+ characters).",
    )
    token_secret: SecretStr | None = Field(
        None,
        description=(
            "The key members' tokens are derived with (32+ characters, keep it secret): "
            "lets a retried POST /members return its token after a restart and on other "
            "processes. Unset: a random key per process."
        ),
    )
    encryption_key: SecretStr | None = Field(
        None,
        description=(
            "Base64 of a 16, 24 or 32 byte key: event payloads and views are encrypted at "
            "rest with AES-GCM. Unset: stored in the clear."
        ),
    )
    event_key: SecretStr | None = Field(
        None,
        description=(
            "Base64 of a 32 byte key: every stored event is sealed with an HMAC under it, so "
            "that nobody without it forges, edits, copies or moves an event unnoticed. Keep "
            "it out of the database's reach. Unset: events are not sealed."
        ),
    )
    previous_event_keys: SecretStr | None = Field(
        None,
        description=(
            "Event keys used before the current one, separated by commas: seals made with "
            "them are still accepted when events are read (key rotation)."
        ),
    )
    checkpoint_key: SecretStr | None = Field(
        None,
        description=(
            "An Ed25519 private key (base64 of its 32 bytes, or PEM) the ledger signs "
            "checkpoints with: on demand (timebank checkpoint) and, in the process that "
            "writes the views, every checkpoint_interval seconds. Unset: none are signed."
        ),
    )
    expiry_interval: int = Field(
        3600,
        ge=0,
        le=24 * 3600,
        description=(
            "Seconds between the sweeps that expire minutes due (in the process that "
            "writes the views; a command on an account expires what is due there anyway)."
        ),
    )
    checkpoint_interval: int = Field(
        3600,
        ge=0,
        le=7 * 24 * 3600,
        description=(
            "Seconds between the checkpoints a server or projector signs when the ledger "
            "moved (with checkpoint_key); 0: only on demand."
        ),
    )
    max_body_bytes: int = Field(
        64 * 1024, ge=1024, le=16 * 1024 * 1024, description="Largest request body (else 413)."
    )
    timezone: str = Field("Asia/Shanghai", description="Where 'today' is decided.")
    balance_cap_minutes: int | None = Field(
        None,
        ge=1,
        description=(
            "Seeds the first rules of a new ledger: the most minutes a member may hold "
            "(unset: no cap). Later rules are adopted in the ledger (timebank policy)."
        ),
    )
    redemption_min_age: int | None = Field(
        None,
        ge=0,
        le=150,
        description="Seeds the first rules of a new ledger: the youngest age that may redeem.",
    )
    postgres_pool_size: int = Field(
        5,
        ge=1,
        le=500,
        description=(
            "PostgreSQL connections each process keeps for commands and as many for reads, "
            "each pool allowed as many again at a peak: a process opens at most four times "
            "this and four more (the views' writer), which every process serving a store "
            "must fit into the server's max_connections together."
        ),
    )
    token_lifetime: int | None = Field(
        None,
        ge=60,
        description=(
            "Seconds a member's token signs in after it was issued (7776000: 90 days); "
            "after that it is refused with 401 token_expired. Members rotate theirs before "
            "(POST /tokens/rotate). Unset: tokens live until revoked. Printed cards' links "
            "live until a new card replaces them."
        ),
    )
    sign_in_failure_limit: int = Field(
        20,
        ge=0,
        le=100_000,
        description=(
            "Refused tokens from one client address within sign_in_failure_window seconds "
            "before further refusals are answered 429 too_many_attempts (0: no limit). A "
            "valid token is never refused for it."
        ),
    )
    sign_in_failure_window: int = Field(
        60, ge=1, le=24 * 3600, description="Seconds over which refused sign-ins are counted."
    )
    connect_timeout: int = Field(
        DEFAULT_CONNECT_TIMEOUT,
        ge=1,
        le=300,
        description=(
            "Seconds a request waits for a PostgreSQL connection while the server cannot "
            "be reached, before it is answered 503 unavailable."
        ),
    )
    projection_interval: float = Field(
        0.05,
        gt=0,
        le=60,
        description="Seconds the projection runner waits between polls of the log when idle.",
    )
    star_ladder: str = Field(
        "100,300,600,1000,1500",
        description=(
            "Seeds the first rules of a new ledger: lifetime approved hours for one to "
            "five stars, comma separated."
        ),
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"unknown time zone {value!r}"
            raise ValueError(msg) from None
        return value

    @field_validator("admin_token", "token_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # set but empty counts as unset
        check_secret(value.get_secret_value())  # raises a ValueError naming what is wrong
        return value

    @field_validator("encryption_key")
    @classmethod
    def _aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        check_encryption_key(value.get_secret_value())
        return value

    @field_validator("event_key")
    @classmethod
    def _event_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        check_event_key(value.get_secret_value())
        return value

    @field_validator("previous_event_keys")
    @classmethod
    def _previous_event_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        check_previous_event_keys(value.get_secret_value())
        return value

    @field_validator("checkpoint_key")
    @classmethod
    def _checkpoint_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        check_checkpoint_key(value.get_secret_value())
        return value

    def sign_in_guard(self) -> SignInGuard:
        """The limits on refused sign-ins, and the tokens' lifetime (see api.signins)."""
        lifetime = None if self.token_lifetime is None else timedelta(seconds=self.token_lifetime)
        return SignInGuard(
            limit=self.sign_in_failure_limit, window=self.sign_in_failure_window, lifetime=lifetime
        )

    def expiry_sweeper(self, runner: ProjectionRunner) -> ExpirySweeper:
        """Started: expires minutes due every `expiry_interval` seconds while this process
        writes the views."""
        sweeper = ExpirySweeper(runner, self.expiry_interval)
        sweeper.start()
        return sweeper

    def checkpoint_signer(self, runner: ProjectionRunner) -> IntervalSigner:
        """Started: signs a checkpoint every `checkpoint_interval` seconds while this
        process writes the views and the ledger moves (idle without a checkpoint key)."""
        signer = IntervalSigner(runner, self.checkpoint_signing_key(), self.checkpoint_interval)
        signer.start()
        return signer

    def checkpoint_signing_key(self) -> Ed25519PrivateKey | None:
        """The key checkpoints are signed with, when one is set."""
        text = _revealed(self.checkpoint_key)
        return None if text is None else load_private_key(text)

    @model_validator(mode="after")
    def _previous_keys_beside_a_key(self) -> Settings:
        if self.previous_event_keys is not None and self.event_key is None:
            msg = (
                "TIMEBANK_PREVIOUS_EVENT_KEYS is set without TIMEBANK_EVENT_KEY: previous keys "
                "are accepted only beside the key new events are sealed with"
            )
            raise ValueError(msg)
        return self

    @field_validator("star_ladder")
    @classmethod
    def _rising_ladder(cls, value: str) -> str:
        parse_ladder(value)  # raises a ValueError naming what is wrong
        return value

    def ladder(self) -> tuple[int, ...]:
        return parse_ladder(self.star_ladder)

    @field_validator("database_url")
    @classmethod
    def _usable_database_url(cls, value: str) -> str:
        persistence_env(value)  # raises a ValueError naming what is wrong
        return value

    def policy(self) -> Policy:
        """The process's calendar, and the rules a new ledger's first command stores as
        its first version (an existing ledger's rules are its own: see timebank.policies)."""
        return Policy(
            timezone=ZoneInfo(self.timezone),
            seed=Rules(
                balance_cap_minutes=self.balance_cap_minutes,
                redemption_min_age=self.redemption_min_age,
                star_ladder_hours=self.ladder(),
            ),
        )

    def open_ledger(self, *, clock: Callable[[], datetime] | None = None) -> TimeBank:
        """The ledger application on the configured store: its library env is built from
        these settings alone (`timebank.storage.ledger_env`), whatever else the environment
        holds. A store whose events these keys cannot read is refused at once, saying which
        key to set (`timebank.sealing.StoreKeyError`), rather than at some later read."""
        env = ledger_env(
            self.database_url,
            pool_size=self.postgres_pool_size,
            connect_timeout=self.connect_timeout,
            token_secret=_revealed(self.token_secret),
            encryption_key=_revealed(self.encryption_key),
            event_key=_revealed(self.event_key),
            previous_event_keys=_revealed(self.previous_event_keys),
        )
        ledger = TimeBank(env, policy=self.policy(), clock=clock)
        try:
            check_store_keys(ledger)
        except BaseException:
            ledger.close()
            raise
        return ledger


def _revealed(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()
