"""Credentials: the bearer tokens members sign in with, kept only as SHA-256 digests.

How a token is made, stored and found again:

- Issuing draws a random nonce (`secrets.token_urlsafe(32)`, 256 bits) and derives the
  token from it with HMAC-SHA256 under the server's token secret
  (`TIMEBANK_TOKEN_SECRET`). The token itself is never stored: the `Issued` event keeps
  its SHA-256 digest, the nonce and the member's id.
- The credential's id is `uuid5` of the digest, so a presented token is found by hashing
  it (`repository.get(Credential.create_id(digest_of(token)))`); the stored digest is then
  compared in constant time (`hmac.compare_digest`).
- Why a derived token rather than a purely random one: a retried request (same
  Idempotency-Key) must answer with the original body, token included, and the ledger
  must not keep the token to do so. With the nonce in the event and the secret outside
  the ledger, the token can be recomputed for the repeat and for nobody else: reading
  every event (as auditors do) gives digests and nonces, neither of which opens anything
  without the secret. The secret is therefore as sensitive as the tokens; without it,
  no token can be recovered, and issued tokens keep working because only their digests
  are checked. If the secret changes, a repeat can no longer recompute its token and
  answers `None` for it (see `recover_token`): the caller issues a new one instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from timebank.errors import InvalidStateError
from timebank.rules import MAX_TEXT_LENGTH, optional_text
from timebank.upcasting import upcast_from
from timebank.views import MemberView

_CREDENTIAL_NAMESPACE = uuid5(NAMESPACE_URL, "timebank:credential")
_DERIVATION_LABEL = b"timebank:token:v1:"


def new_nonce() -> str:
    """256 random bits: all the unpredictability a token has comes from here."""
    return secrets.token_urlsafe(32)


def derive_token(secret: bytes, nonce: str) -> str:
    """The bearer token for a nonce: HMAC-SHA256 under the server secret, URL-safe."""
    mac = hmac.new(secret, _DERIVATION_LABEL + nonce.encode("ascii"), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")


def digest_of(token: str) -> str:
    """What the ledger keeps of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class CredentialKind(StrEnum):
    TOKEN = "token"  # noqa: S105 (a kind of credential, not one) a bearer token for an app
    CARD = "card"  # the sign-in link printed on a member card (爱心服务卡)


class CredentialStatus(StrEnum):
    ACTIVE = "active"  # the token signs its member in
    REVOKED = "revoked"  # the token is refused from now on


class Credential(Aggregate):
    """One bearer token of one member: issued once, revoked at most once."""

    TOPIC = "timebank:Credential"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Credential.Event"
        actor_id: UUID

    class Issued(Event, Aggregate.Created):
        """A token was issued to a member; only its digest and nonce are kept. The acting
        member is who issued it: the member themself, or (an admin, a coordinator printing
        a card) someone else, who has seen it. Version 2 says what kind of credential it
        is; version 1 ones were all tokens."""

        TOPIC = "timebank:Credential.Issued"
        class_version = 2
        member_id: UUID
        digest: str
        nonce: str
        kind: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_from(state, 1)
            state["kind"] = CredentialKind.TOKEN.value

    class Revoked(Event):
        """The token stopped signing its member in; the record of it stays."""

        TOPIC = "timebank:Credential.Revoked"
        reason: str | None

    @staticmethod
    def create_id(digest: str) -> UUID:
        return uuid5(_CREDENTIAL_NAMESPACE, digest)

    @classmethod
    def issue(
        cls,
        *,
        actor_id: UUID,
        member_id: UUID,
        secret: bytes,
        nonce: str | None = None,
        kind: CredentialKind = CredentialKind.TOKEN,
    ) -> tuple[Credential, str]:
        """A new credential and its token; the token is returned, never kept."""
        nonce = nonce or new_nonce()
        token = derive_token(secret, nonce)
        credential = cls(
            actor_id=actor_id,
            member_id=member_id,
            digest=digest_of(token),
            nonce=nonce,
            kind=CredentialKind(kind).value,
        )
        return credential, token

    @event(Issued)
    def __init__(
        self, *, actor_id: UUID, member_id: UUID, digest: str, nonce: str, kind: str
    ) -> None:
        self.member_id = member_id
        self.digest = digest
        self.nonce = nonce
        self.kind = CredentialKind(kind)
        self.issued_by = actor_id
        self.status = CredentialStatus.ACTIVE
        self.reason: str | None = None

    @property
    def is_active(self) -> bool:
        return self.status is CredentialStatus.ACTIVE

    @property
    def issued_by_other(self) -> bool:
        """Someone other than the member issued it, and has seen it: what is done with it
        is listed for auditors (`projections.trust`)."""
        return self.issued_by != self.member_id

    def matches(self, token: str) -> bool:
        """The token is this credential's, compared in constant time."""
        return hmac.compare_digest(digest_of(token), self.digest)

    def recover_token(self, secret: bytes) -> str | None:
        """The token again, for the repeat of the request that issued it; None when the
        secret is no longer the one it was derived with."""
        token = derive_token(secret, self.nonce)
        return token if self.matches(token) else None

    def revoke(self, *, actor_id: UUID, reason: str | None = None) -> None:
        """A token is revoked once; signing in with it fails from then on."""
        if self.status is CredentialStatus.REVOKED:
            raise InvalidStateError("credential", self.id, CredentialStatus.REVOKED, "revoke")
        reason = optional_text("reason", reason, max_length=MAX_TEXT_LENGTH)
        self._revoked(actor_id=actor_id, reason=reason)

    @event(Revoked)
    def _revoked(self, *, actor_id: UUID, reason: str | None) -> None:
        self.status = CredentialStatus.REVOKED
        self.reason = reason


@dataclass(frozen=True)
class IssuedToken:
    """A token as shown to its holder, once: the only time the plaintext leaves the ledger.

    `token` is None only on the repeat of a request whose token can no longer be
    recomputed (the server's token secret changed since).
    """

    token: str | None
    credential_id: UUID
    member_id: UUID


@dataclass(frozen=True)
class IssuedCard:
    """A member card as printed, once: its number, its confirmation code and the token
    of its sign-in link (either None only on the repeat of a request whose secret has
    changed since)."""

    member_id: UUID
    card_number: int
    code: str | None
    token: IssuedToken


@dataclass(frozen=True)
class RegisteredMember:
    """A member registered together with their first token, in one transaction."""

    member: MemberView
    token: IssuedToken


@dataclass(frozen=True)
class CredentialView:
    id: UUID
    member_id: UUID
    kind: str
    status: str
    reason: str | None
    issued_by: UUID
    issued_by_other: bool
    issued_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, credential: Credential) -> CredentialView:
        return cls(
            id=credential.id,
            member_id=credential.member_id,
            kind=credential.kind.value,
            status=credential.status.value,
            reason=credential.reason,
            issued_by=credential.issued_by,
            issued_by_other=credential.issued_by_other,
            issued_at=credential.created_on,
            updated_at=credential.modified_on,
        )
