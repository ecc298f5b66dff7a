"""Settings of a Timebank process, read from `TIMEBANK_` environment variables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from projections.stars import parse_ladder
from timebank.application import TimeBank
from timebank.policy import Policy
from timebank.storage import (
    DEFAULT_DATABASE_URL,
    check_encryption_key,
    check_secret,
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
    max_body_bytes: int = Field(
        64 * 1024, ge=1024, le=16 * 1024 * 1024, description="Largest request body (else 413)."
    )
    timezone: str = Field("Asia/Shanghai", description="Where 'today' is decided.")
    balance_cap_minutes: int | None = Field(
        None, ge=1, description="The most minutes a member may hold; unset for no cap."
    )
    redemption_min_age: int | None = Field(
        None, ge=0, le=150, description="The youngest age that may redeem; unset for any age."
    )
    postgres_pool_size: int = Field(
        20, ge=1, le=500, description="PostgreSQL connections per process (and as many extra)."
    )
    projection_interval: float = Field(
        0.05,
        gt=0,
        le=60,
        description="Seconds the projection runner waits between polls of the log when idle.",
    )
    star_ladder: str = Field(
        "100,300,600,1000,1500",
        description="Lifetime approved hours for one to five stars, comma separated.",
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
        return Policy(
            timezone=ZoneInfo(self.timezone),
            balance_cap_minutes=self.balance_cap_minutes,
            redemption_min_age=self.redemption_min_age,
        )

    def open_ledger(self, *, clock: Callable[[], datetime] | None = None) -> TimeBank:
        """The ledger application on the configured store: its library env is built from
        these settings alone (`TimeBank.from_url`), whatever else the environment holds."""
        return TimeBank.from_url(
            self.database_url,
            pool_size=self.postgres_pool_size,
            token_secret=_revealed(self.token_secret),
            encryption_key=_revealed(self.encryption_key),
            policy=self.policy(),
            clock=clock,
        )


def _revealed(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()
