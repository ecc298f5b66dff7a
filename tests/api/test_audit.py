"""The auditors' endpoints: every event with its chained hash, replays and verification."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import World

GENESIS = "0" * 64


def get(world: World, path: str, role: str = "auditor") -> dict[str, Any]:
    response = world.call(role, "GET", path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def every_event(world: World, limit: int = 500) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = get(world, f"/audit/events?after={after}&limit={limit}")
        events.extend(page["items"])
        after = page["next_after"]
    return events


def link(previous: str, event: dict[str, Any]) -> str:
    """The chain as the hash's description states it, recomputed from the answer alone."""
    canonical = json.dumps(
        {k: event[k] for k in ("position", "topic", "aggregate_id", "aggregate_version", "data")},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{previous}\n{canonical}".encode()).hexdigest()


def test_an_approval_over_http_is_the_latest_event_in_the_trail(world: World) -> None:
    world.call("coordinator", "POST", f"/service-logs/{world.pending_log}/approve")

    events = every_event(world)

    approval = next(e for e in reversed(events) if e["type"] == "ServiceLog.Approved")
    assert approval["aggregate_id"] == str(world.pending_log)
    assert approval["actor_id"] == str(world.coordinator)
    assert approval["data"]["minutes"] == 45
    # The approval and the credit it gives are saved together: the last two events.
    assert {e["type"] for e in events[-2:]} == {"ServiceLog.Approved", "Account.Earned"}


def test_every_hash_links_to_the_one_before(world: World) -> None:
    events = every_event(world, limit=7)

    previous = GENESIS
    for event in events:
        assert event["hash"] == link(previous, event)
        previous = event["hash"]
    assert [e["position"] for e in events] == sorted({e["position"] for e in events})
    # A new ledger's first command stores the community's rules, then the first member.
    assert [e["type"] for e in events[:2]] == ["Policies.Started", "Policies.Adopted"]
    assert events[2]["type"] == "Member.Registered"


def test_events_come_a_page_at_a_time(world: World) -> None:
    whole = get(world, "/audit/events?limit=500")["items"]

    first = get(world, "/audit/events?limit=10")
    second = get(world, f"/audit/events?limit=10&after={first['next_after']}")

    assert first["items"] == whole[:10]
    assert second["items"] == whole[10:20]
    assert get(world, f"/audit/events?after={whole[-1]['position']}") == {
        "items": [],
        "next_after": None,
    }


def test_verify_finds_nothing_wrong_in_an_honest_ledger(world: World) -> None:
    world.call("coordinator", "POST", f"/redemptions/{world.redemption}/fulfil")

    report = get(world, "/audit/verify")

    assert report == {"ok": True, "events_checked": len(every_event(world)), "problems": []}


def test_verify_reports_an_edited_event(world: World, tmp_path: Path) -> None:
    earned = next(e for e in every_event(world) if e["type"] == "Account.Earned")
    with sqlite3.connect(tmp_path / "timebank.db") as db:
        (state,) = db.execute(
            "SELECT state FROM stored_events WHERE rowid = ?", (earned["position"],)
        ).fetchone()
        forged = bytes(state).replace(b'"minutes":120', b'"minutes":1200')
        assert forged != bytes(state)
        db.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?", (forged, earned["position"])
        )

    report = get(world, "/audit/verify", role="admin")

    assert report["ok"] is False
    assert {"position": earned["position"], "kind": "altered"} in [
        {k: p[k] for k in ("position", "kind")} for p in report["problems"]
    ]


def test_a_replay_shows_every_balance_and_the_books_sum_to_zero(world: World) -> None:
    replay = get(world, "/audit/replay")

    balances = {b["member_id"]: b for b in replay["balances"]}
    assert balances[str(world.volunteer)] == {
        "member_id": str(world.volunteer),
        "balance_minutes": 170,
        "held_minutes": 30,
        "available_minutes": 140,
    }
    assert replay["system_accounts"] == {"issuance": -180, "redeemed": 0, "expired": 0}
    assert replay["total_minutes"] == 0
    assert replay["events_replayed"] == len(every_event(world))


def test_a_replay_as_of_a_moment_before_the_ledger_began_is_empty(world: World) -> None:
    replay = get(world, "/audit/replay?as_of=2020-01-01T08:00:00%2B08:00")

    assert replay == {
        "as_of": "2020-01-01T00:00:00Z",
        "events_replayed": 0,
        "balances": [],
        "system_accounts": {"issuance": 0, "redeemed": 0, "expired": 0},
        "total_minutes": 0,
    }


@pytest.mark.parametrize(
    "as_of",
    ["2026-11-20T10:00:00", "2026-11-20", "1700000000", "yesterday", "0001-01-01T00:00%2B01:00"],
)
def test_an_instant_without_its_utc_offset_or_out_of_range_is_invalid(
    world: World, as_of: str
) -> None:
    response = world.call("auditor", "GET", f"/audit/replay?as_of={as_of}")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [(d["field"], d["location"]) for d in error["details"]] == [("as_of", "query")]


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "after=-1"])
def test_an_events_page_out_of_bounds_is_invalid(world: World, query: str) -> None:
    response = world.call("auditor", "GET", f"/audit/events?{query}")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_auditors_see_who_issued_and_revoked_a_credential_but_never_its_secrets(
    world: World,
) -> None:
    """A token's digest and nonce, a card's code digest and salt: none in the trail, a
    hash of them in their place; who issued and revoked what, and when, all there."""
    assert world.call("volunteer", "DELETE", f"/tokens/{world.spare_credential}").status_code == 200
    events = every_event(world)
    secret_names = {"digest", "nonce", "code_digest", "code_salt"}

    issued = [e for e in events if e["type"] in ("Credential.Issued", "Member.CardIssued")]
    revoked = [e for e in events if e["type"] == "Credential.Revoked"]

    assert issued
    assert revoked
    for event in issued:
        assert not secret_names & set(event["data"])
        assert len(event["data"]["secrets_sha256"]) == 64
        assert event["actor_id"] is not None
        assert event["recorded_at"] is not None
    spare = [e for e in issued if e["aggregate_id"] == str(world.spare_credential)]
    assert spare[0]["data"]["member_id"] == str(world.volunteer)
    assert revoked[-1]["aggregate_id"] == str(world.spare_credential)
    assert revoked[-1]["actor_id"] == str(world.volunteer)
    assert get(world, "/audit/verify")["ok"]
