"""Ordering on fakes: an in-memory event store, a manual clock, the fake providers."""

from __future__ import annotations

import pytest

from tests.domain.ordering.support import World


@pytest.fixture
def world() -> World:
    return World()
