"""Signed checkpoints: signing where the ledger stands, and holding a history against them."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from projections import audit
from projections.auditor import replay
from projections.checkpoints import (
    Checkpoint,
    CheckpointError,
    CheckpointFormatError,
    Watch,
    check_checkpoint_key,
    checkpoint_table,
    load_private_key,
    load_public_key,
    new_key_pair,
    public_key_text,
    read_checkpoints,
    sign_checkpoint,
    totals_of,
)
from projections.queries import audit_entries
from tests.insider import run
from tests.projections.test_runner import busy_community
from tests.support import event_count, open_ledger, views_of
from timebank import TimeBank

PRIVATE, PUBLIC = new_key_pair()
KEY = load_private_key(PRIVATE)


def test_a_checkpoint_signs_where_the_ledger_stands(app: TimeBank) -> None:
    busy_community(app)
    with views_of(app) as views:
        signed = sign_checkpoint(app, views.store, KEY)
        trail = audit_entries(views.store, after=0, limit=100_000)
    assert (signed.position, signed.count) == (trail[-1].position, event_count(app))
    assert signed.head_hash == trail[-1].hash
    books = replay(app)
    members = sum(b.balance_minutes for b in books.balances)
    held = sum(b.held_minutes for b in books.balances)
    assert signed.totals == totals_of(
        members, held, books.system["issuance"], books.system["redeemed"], books.system["expired"]
    )
    assert signed.totals["sum"] == 0
    assert signed.public_key == PUBLIC
    assert signed.signature_ok()
    assert checkpoint_table(app).latest() == signed


def test_the_next_checkpoint_carries_the_last_one_forward(app: TimeBank) -> None:
    c = busy_community(app)
    with views_of(app) as views:
        first = sign_checkpoint(app, views.store, KEY)
        app.transfer(actor_id=c.li, to_member_id=c.grandma, minutes=10)
        c.earn(c.wang, 30)
        views.runner.catch_up()
        second = sign_checkpoint(app, views.store, KEY)
        # A key that never signed here reads the whole trail, and must agree.
        other = load_private_key(new_key_pair()[0])
        fresh = sign_checkpoint(app, views.store, other)
    assert second.position > first.position
    assert (second.count, second.head_hash, second.totals) == (
        fresh.count,
        fresh.head_hash,
        fresh.totals,
    )
    assert checkpoint_table(app).latest(PUBLIC) == second


def test_no_checkpoint_is_signed_over_a_trail_that_left_the_last_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    app = open_ledger(url)
    try:
        c = busy_community(app)
        with views_of(app) as views:
            first = sign_checkpoint(app, views.store, KEY)
            run(url, "UPDATE {trail} SET hash = ? WHERE position = ?", ("0" * 64, first.position))
            app.transfer(actor_id=c.li, to_member_id=c.grandma, minutes=10)
            views.runner.catch_up()
            with pytest.raises(CheckpointError, match="no longer extends"):
                sign_checkpoint(app, views.store, KEY)
    finally:
        app.close()


def test_rows_written_into_the_table_by_hand_are_passed_over(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    app = open_ledger(url)
    try:
        busy_community(app)
        with views_of(app) as views:
            signed = sign_checkpoint(app, views.store, KEY)
        forged = replace(signed, position=signed.position + 100, count=signed.count + 100)
        run(
            url,
            "INSERT INTO timebank_checkpoints VALUES (?, ?, ?)",
            (forged.position, forged.signed_at, forged.line()),
        )
        run(
            url,
            "INSERT INTO timebank_checkpoints VALUES (?, ?, ?)",
            (signed.position + 200, signed.signed_at, "not json"),
        )
        assert checkpoint_table(app).latest() == signed
    finally:
        app.close()


# Holding a history against kept checkpoints ------------------------------------------------


def signed(position: int, count: int, head: str, totals: dict[str, int]) -> Checkpoint:
    unsigned = Checkpoint(position, count, head, totals, "2026-11-20T02:00:00+00:00", PUBLIC)
    signature = KEY.sign(unsigned.signed_bytes())
    return replace(unsigned, signature=base64.b64encode(signature).decode())


ZERO = totals_of(0, 0, 0, 0, 0)
HEADS = {position: f"{position:064x}" for position in range(1, 10)}


def watched(checkpoints: list[Checkpoint], positions: list[int], **kwargs: object) -> Watch:
    watch = Watch(checkpoints, **kwargs)  # type: ignore[arg-type]
    for position in positions:
        watch.event(position, HEADS[position], lambda: ZERO)
    watch.finish()
    return watch


def test_a_history_that_extends_its_checkpoints_has_no_findings() -> None:
    kept = [signed(3, 3, HEADS[3], ZERO), signed(5, 4, HEADS[5], ZERO)]
    watch = watched(kept, [1, 2, 3, 5, 6])
    assert watch.findings == []
    assert watch.extended == kept


@pytest.mark.parametrize(
    ("kept", "positions", "why"),
    [
        (signed(3, 3, HEADS[3], ZERO), [1, 2], "the history ends at position 2 with 2 events"),
        (signed(3, 3, HEADS[3], ZERO), [1, 2, 4], "no event is stored at its position 3"),
        (signed(3, 3, HEADS[2], ZERO), [1, 2, 3], "the chain's hash at its position differs"),
        (signed(3, 4, HEADS[3], ZERO), [1, 2, 3], "3 events up to its position"),
        (signed(3, 3, HEADS[3], totals_of(1, 0, -1, 0, 0)), [1, 2, 3], "the totals there are"),
    ],
)
def test_a_history_that_does_not_extend_a_checkpoint_is_a_finding(
    kept: Checkpoint, positions: list[int], why: str
) -> None:
    [(position, kind, detail)] = watched([kept], positions).findings
    assert (position, kind) == (3, "checkpoint_not_extended")
    assert why in detail


def test_a_checkpoint_whose_signature_fails_or_whose_key_is_not_trusted_is_a_finding() -> None:
    good = signed(2, 2, HEADS[2], ZERO)
    tampered = replace(good, count=1)
    assert watched([tampered], [1]).findings[0][1] == "bad_signature"
    other_private, _ = new_key_pair()
    trusted = [load_private_key(other_private).public_key()]
    [(_, kind, detail)] = watched([good], [1, 2], trusted=trusted).findings
    assert kind == "bad_signature"
    assert "not a trusted key" in detail
    assert watched([good], [1, 2], trusted=[KEY.public_key()]).findings == []


def test_a_checkpoint_of_the_empty_ledger_holds_with_any_history() -> None:
    assert watched([signed(0, 0, audit.GENESIS_HASH, ZERO)], [1, 2]).findings == []


# Reading them ----------------------------------------------------------------------------


def test_kept_checkpoints_are_read_strictly_and_every_bad_line_named(tmp_path: Path) -> None:
    good = signed(2, 2, HEADS[2], ZERO)
    extra = {**good.as_json(), "note": "mine"}
    path = tmp_path / "kept.jsonl"
    path.write_text(
        good.line() + "\n" + json.dumps(extra) + "\n" + "[" * 100_000 + "\n" + '{"position": 1}\n',
        encoding="utf-8",
    )
    kept, problems = read_checkpoints(path)
    assert kept == [good]
    assert [(kind, detail.split(": ", 1)[0]) for _, kind, detail in problems] == [
        ("bad_checkpoint", f"{path} line 3"),
        ("bad_checkpoint", f"{path} line 4"),
        ("bad_checkpoint", f"{path} line 5"),
    ]
    assert "unknown fields: note" in problems[0][2]
    assert "nested too deeply" in problems[1][2]
    _, missing = read_checkpoints(tmp_path / "nowhere.jsonl")
    assert missing[0][1] == "bad_checkpoint"


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("position", -1, "position must be a whole number"),
        ("count", True, "count must be a whole number"),
        ("head_hash", "ABC", "head_hash must be 64"),
        ("totals", {"members": 0}, "totals must be whole numbers"),
        ("signed_at", "yesterday", "signed_at must be an ISO 8601 instant"),
        ("signature", 7, "signature must be text"),
    ],
)
def test_a_checkpoint_of_the_wrong_form_says_what_is_wrong(
    field: str, value: object, why: str
) -> None:
    with pytest.raises(CheckpointFormatError, match=why):
        Checkpoint.of({**signed(2, 2, HEADS[2], ZERO).as_json(), field: value})


def test_keys_are_read_as_base64_or_pem() -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    text = public_key_text(private.public_key())
    assert public_key_text(load_private_key(pem).public_key()) == text
    assert public_key_text(load_public_key(public_pem)) == text
    assert public_key_text(load_public_key(text)) == text
    for bad in ("", "not base64!", "c2hvcnQ=", "-----BEGIN PRIVATE KEY-----\nxx\n"):
        with pytest.raises(CheckpointFormatError):
            load_private_key(bad)
        with pytest.raises(ValueError, match="keygen-checkpoint"):
            check_checkpoint_key(bad)
