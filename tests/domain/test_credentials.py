"""Credentials: tokens issued and revoked, kept as digests; given events -> command -> events."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import get_topic, resolve_topic
from hypothesis import given
from hypothesis import strategies as st

from timebank.credentials import (
    Credential,
    CredentialKind,
    CredentialStatus,
    derive_token,
    digest_of,
)
from timebank.errors import InvalidStateError

ADMIN_ID = uuid4()
MEMBER_ID = uuid4()
SECRET = b"a server secret of at least thirty-two bytes"


def issued() -> tuple[Credential, str]:
    """Given: a token issued to a member, its issue already recorded."""
    credential, token = Credential.issue(actor_id=ADMIN_ID, member_id=MEMBER_ID, secret=SECRET)
    credential.collect_events()
    return credential, token


def revoked() -> Credential:
    credential, _ = issued()
    credential.revoke(actor_id=MEMBER_ID, reason="Lost phone")
    credential.collect_events()
    return credential


def test_issuing_records_the_digest_and_nonce_but_never_the_token() -> None:
    credential, token = Credential.issue(actor_id=ADMIN_ID, member_id=MEMBER_ID, secret=SECRET)

    [e] = credential.collect_events()
    assert isinstance(e, Credential.Issued)
    assert e.actor_id == ADMIN_ID
    assert e.member_id == MEMBER_ID
    assert e.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(e.__dict__)
    assert credential.status is CredentialStatus.ACTIVE
    assert credential.issued_by == ADMIN_ID


def test_a_token_carries_256_bits_in_url_safe_characters() -> None:
    _, token = issued()

    assert len(token) == 43  # 32 bytes, base64url without padding
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_each_issue_draws_a_new_token() -> None:
    tokens = {issued()[1] for _ in range(20)}

    assert len(tokens) == 20


def test_the_credential_is_found_again_by_hashing_its_token() -> None:
    credential, token = issued()

    assert credential.id == Credential.create_id(digest_of(token))
    assert credential.id.version == 5


def test_only_its_own_token_matches_a_credential() -> None:
    credential, token = issued()
    _, other = issued()

    assert credential.matches(token)
    assert not credential.matches(other)
    assert not credential.matches(token[:-1])
    assert not credential.matches("")


def test_the_token_is_recomputed_from_the_nonce_with_the_same_secret_only() -> None:
    credential, token = issued()

    assert credential.recover_token(SECRET) == token
    assert credential.recover_token(b"another secret, after a rotation") is None
    assert derive_token(SECRET, credential.nonce) == token


def test_revoking_records_who_revoked_it_and_why() -> None:
    credential, _ = issued()

    credential.revoke(actor_id=MEMBER_ID, reason="  Lost phone ")

    [e] = credential.collect_events()
    assert isinstance(e, Credential.Revoked)
    assert e.actor_id == MEMBER_ID
    assert e.reason == "Lost phone"
    assert credential.status is CredentialStatus.REVOKED
    assert not credential.is_active


def test_revoking_without_a_reason_keeps_none() -> None:
    credential, _ = issued()

    credential.revoke(actor_id=ADMIN_ID)

    [e] = credential.collect_events()
    assert isinstance(e, Credential.Revoked)
    assert e.reason is None


def test_a_revoked_token_cannot_be_revoked_again() -> None:
    credential = revoked()

    with pytest.raises(InvalidStateError) as refused:
        credential.revoke(actor_id=ADMIN_ID, reason="again")

    assert refused.value.state == "revoked"
    assert credential.collect_events() == []
    assert credential.reason == "Lost phone"


def test_replaying_the_events_reproduces_the_credential() -> None:
    credential, token = Credential.issue(actor_id=ADMIN_ID, member_id=MEMBER_ID, secret=SECRET)
    credential.revoke(actor_id=ADMIN_ID, reason="Left the community")

    copy = replay(credential.collect_events())

    assert copy.id == credential.id
    assert copy.member_id == MEMBER_ID
    assert copy.status is CredentialStatus.REVOKED
    assert copy.reason == "Left the community"
    assert copy.matches(token)


def test_events_are_stored_under_stable_topics_that_survive_renames() -> None:
    credential, _ = Credential.issue(actor_id=ADMIN_ID, member_id=MEMBER_ID, secret=SECRET)
    credential.revoke(actor_id=ADMIN_ID)

    topics = [get_topic(type(e)) for e in credential.collect_events()]

    assert topics == ["timebank:Credential.Issued", "timebank:Credential.Revoked"]
    assert get_topic(Credential) == "timebank:Credential"
    assert resolve_topic("timebank:Credential.Revoked") is Credential.Revoked


@given(st.text(), st.text())
def test_different_tokens_name_different_credentials(one: str, other: str) -> None:
    same_id = Credential.create_id(digest_of(one)) == Credential.create_id(digest_of(other))
    assert same_id == (one == other)


def replay(events: Sequence[CanMutateAggregate[UUID]]) -> Credential:
    """Rebuild a credential from its recorded events alone, as a repository would."""
    copy: Credential | None = None
    for e in events:
        copy = e.mutate(copy)
    assert copy is not None
    return copy


def test_a_token_someone_else_issued_is_marked_as_such() -> None:
    by_admin, _ = issued()
    by_member, _ = Credential.issue(actor_id=MEMBER_ID, member_id=MEMBER_ID, secret=SECRET)

    assert by_admin.issued_by_other
    assert not by_member.issued_by_other
    assert by_admin.kind == "token"


def test_a_cards_sign_in_link_is_a_credential_of_its_own_kind() -> None:
    card, _ = Credential.issue(
        actor_id=ADMIN_ID, member_id=MEMBER_ID, secret=SECRET, kind=CredentialKind.CARD
    )

    [e] = card.collect_events()
    assert isinstance(e, Credential.Issued)
    assert e.kind == "card"
