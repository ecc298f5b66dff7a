"""What the audit trail, the audit API and exports show of credential secrets: not them.

A token's digest and nonce, and a member card's code digest and salt, would help anyone
who reads the trail (an auditor, a stolen export) towards a member's token or card code.
The audit trail's form of such an event leaves them out and keeps in their place one
SHA-256 over them (`secrets_sha256`): who issued what to whom and when stays, the hash
chain still covers the secrets (a changed nonce changes the commitment and so the chain),
and the secrets themselves are nowhere but in the event store and in encrypted exports.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "timebank:Credential.Issued": ("digest", "nonce"),
    "timebank:Member.CardIssued": ("code_digest", "code_salt"),
}
"""The fields of each kind of event that are secrets, by the event's stored topic."""

COMMITMENT = "secrets_sha256"


def commitment(secrets: dict[str, Any]) -> str:
    """SHA-256 of the secrets as sorted JSON: each is 128 bits of randomness or more (or
    derived from such), so the hash tells nothing of them."""
    text = json.dumps(secrets, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def redacted(topic: str, data: dict[str, Any]) -> dict[str, Any]:
    """The event's data as the audit trail keeps it: its secrets replaced by their hash.
    Any other event's data is returned as it is (the same object)."""
    fields = SECRET_FIELDS.get(topic)
    if fields is None:
        return data
    secrets = {name: data[name] for name in fields if name in data}
    if not secrets:
        return data
    kept = {name: value for name, value in data.items() if name not in secrets}
    kept[COMMITMENT] = commitment(secrets)
    return kept
