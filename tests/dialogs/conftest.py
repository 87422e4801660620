"""The ``world`` of the dialog tests: the real dispatcher on a migrated SQLite copy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from tests.dialogs.helpers import FIN, OTHER_FIN, OWNER_PHONE, World, make_world
from tests.support import seed_subscribers, subscriber_row
from workflows.clock import FixedClock

__all__ = ["FIN", "OTHER_FIN", "World", "world"]


@pytest.fixture
async def world(
    settings: Settings, engine: AsyncEngine, clock: FixedClock
) -> AsyncIterator[World]:
    await seed_subscribers(
        engine,
        [
            # The registry names the owner FIN of most codes: typing it is enough to apply
            # (codes without one need the phone on record: tests/dialogs/test_identity.py).
            subscriber_row("100001", owner_fin=FIN, phone=OWNER_PHONE),
            subscriber_row("100002", state="suspended", owner_fin=FIN, phone=OWNER_PHONE),
            subscriber_row("100003", debt="12.50", owner_fin=FIN, phone=OWNER_PHONE),
            subscriber_row("100004", meterless=False),
            subscriber_row("100005", owner_fin=OTHER_FIN),
            subscriber_row("100006", owner_fin=FIN),
            subscriber_row("100007", owner_fin=None, phone=OWNER_PHONE),  # no owner FIN on record
        ],
    )
    yield make_world(settings, engine, clock)
