"""A billing answer with a 600-character address (issue 17): the application is registered,
its address cut to the column's 500 characters with an ellipsis, instead of an unhandled
error (PostgreSQL refuses a longer value; SQLite would have stored all 600)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.billing_http import MAX_ADDRESS
from bot.config import SecretUrl, Settings
from storage.database import create_engine
from storage.models import ApplicationRow
from tests.dialogs.helpers import applications, billing_api, make_world, register
from tests.local_http import local_server
from tests.support import migrated_pg_url
from workflows.clock import FixedClock

ADDRESS = "Bakı ş., Nizami küç. 10, m. 5 ".ljust(600, "ə")


@pytest.fixture
async def billing_url() -> AsyncIterator[str]:
    async with local_server(billing_api(ADDRESS)) as origin:
        yield origin


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(
    request: pytest.FixtureRequest, engine: AsyncEngine
) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        yield engine
        return
    pg = create_engine(await migrated_pg_url("billing_long_address"))
    yield pg
    await pg.dispose()


async def test_a_600_character_address_is_registered_cut(
    settings: Settings, database: AsyncEngine, clock: FixedClock, billing_url: str
) -> None:
    assert len(ADDRESS) == 600
    world = make_world(
        settings.model_copy(update={"billing_api_url": SecretUrl(billing_url)}), database, clock
    )
    try:
        number = await register(world.subscriber())
    finally:
        await world.services.close()
    [row] = await applications(database)
    assert row.number == number
    assert len(row.address) == MAX_ADDRESS <= ApplicationRow.__table__.c.address.type.length
    assert row.address.endswith("…") and row.address.startswith("Bakı ş., Nizami küç. 10,")
