"""Personal data at rest: with an encryption key, no name or note is stored in the clear."""

from __future__ import annotations

from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.api.conftest import ADMIN_TOKEN, bearer, make_settings
from tests.support import fixed_clock

NAME = "王秀英"
ASCII_NAME = "Wang Xiuying"
NOTE = "高血压复诊陪同 blood pressure check"


def fill(settings: Settings) -> None:
    """Register a member, log and approve her service over HTTP; verify the ledger."""
    admin = bearer(ADMIN_TOKEN)
    with TestClient(create_app(settings, clock=fixed_clock)) as client:
        member = client.post("/members", json={"name": NAME}, headers=admin).json()
        other = client.post("/members", json={"name": ASCII_NAME}, headers=admin).json()
        team = client.post(
            "/teams",
            json={"name": "日间照料", "community": "东城", "founded_on": "2026-01-01"},
            headers=admin,
        ).json()
        for who in (member, other):
            joined = client.post(
                f"/teams/{team['id']}/members",
                json={"member_id": who["id"], "role": "volunteer", "effective_date": "2026-01-01"},
                headers=admin,
            )
            assert joined.status_code == 201, joined.text
        log = client.post(
            "/service-logs",
            json={
                "team_id": team["id"],
                "service_date": "2026-11-19",
                "minutes": 90,
                "activity": "陪同就医",
                "note": NOTE,
            },
            headers=bearer(member["token"]),
        )
        assert log.status_code == 201, log.text
        approved = client.post(f"/service-logs/{log.json()['id']}/approve", json={}, headers=admin)
        assert approved.status_code == 200
        shown = client.get(f"/service-logs/{log.json()['id']}", headers=admin).json()
        assert shown["note"] == NOTE  # read back in the clear through the API
        assert client.get(f"/members/{member['id']}", headers=admin).json()["name"] == NAME
        verified = client.get("/audit/verify", headers=admin).json()
        assert verified["ok"], verified


def stored_bytes(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(directory.glob("timebank.db*")))


@pytest.mark.parametrize("text", [NAME, ASCII_NAME, NOTE])
def test_with_a_key_no_name_or_note_is_stored_in_the_clear(tmp_path: Path, text: str) -> None:
    settings = make_settings(tmp_path, encryption_key=AESCipher.create_key(32))
    fill(settings)
    assert text.encode("utf-8") not in stored_bytes(tmp_path)


def test_without_a_key_they_are_stored_in_the_clear(tmp_path: Path) -> None:
    fill(make_settings(tmp_path))
    stored = stored_bytes(tmp_path)
    assert NAME.encode("utf-8") in stored
    assert NOTE.encode("utf-8") in stored


def test_a_key_must_be_a_real_aes_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="16, 24 or 32 bytes"):
        make_settings(tmp_path, encryption_key="c2hvcnQ=")
    with pytest.raises(ValueError, match="base64"):
        make_settings(tmp_path, encryption_key="not base64!")
