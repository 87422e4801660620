"""The fast suite: the use cases on in-memory fakes, no aiogram, no database."""

from __future__ import annotations

import pytest

from tests.workflows.world import World


@pytest.fixture
def world() -> World:
    return World()
