"""Page fixtures: the API's fresh server and small community, and a browser-like client
signed in as one of its members."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.api.conftest import World, client, world, world_ledger

__all__ = ["World", "client", "csrf_of", "sign_in", "world", "world_ledger"]


def csrf_of(html: str) -> str:
    """The form token a page carries, as a browser would send it back."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "the page has no form token"
    return found.group(1)


def sign_in(client: TestClient, token: str) -> str:
    """Signs the client in with a card link; the HTML of the page it lands on."""
    response = client.get(f"/card/{token}")
    assert response.status_code == 200, response.text
    html: str = response.text
    return html
