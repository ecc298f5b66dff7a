"""Folds of literal events leave no scratch store behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.projections.folding import closing_folds


@pytest.fixture(autouse=True)
def _scratch_stores_closed() -> Iterator[None]:
    with closing_folds():
        yield
