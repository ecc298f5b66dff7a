"""Documents are rendered from the read side, which is the same on every store: one will do."""

from __future__ import annotations

import pytest


@pytest.fixture
def store_url() -> str:
    return "memory://"
