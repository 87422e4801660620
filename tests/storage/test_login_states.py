"""The pending e-gov logins (storage.login_states): a state is taken once, only before it
expires, by one of two concurrent takers; the purge deletes only the long-expired. On a
migrated SQLite file and, when TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.login_states import SqlLoginStates
from storage.models import OidcStateRow
from tests.support import emptied_engine
from workflows.egov_login import PendingLogin

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LIFETIME = timedelta(minutes=10)


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, db_url: str) -> AsyncIterator[AsyncEngine]:
    async with emptied_engine(request.param, db_url, "login_states", OidcStateRow) as engine:
        yield engine


def pending(state: str, at: datetime = T0) -> PendingLogin:
    return PendingLogin(state, 610000001, 610000001, "v" * 64, "n" * 43, at + LIFETIME)


async def test_a_state_is_taken_once(engine: AsyncEngine) -> None:
    states = SqlLoginStates(engine)
    await states.add(pending("s1"))

    first = await states.take("s1", T0 + timedelta(minutes=1))
    again = await states.take("s1", T0 + timedelta(minutes=2))

    assert first == pending("s1")
    assert again is None
    assert await states.take("unknown", T0) is None


async def test_a_state_is_not_taken_once_expired(engine: AsyncEngine) -> None:
    states = SqlLoginStates(engine)
    await states.add(pending("s1"))

    assert await states.take("s1", T0 + LIFETIME) is None


async def test_of_concurrent_takes_one_wins(engine: AsyncEngine) -> None:
    states = SqlLoginStates(engine)
    await states.add(pending("s1"))

    taken = await asyncio.gather(*(states.take("s1", T0) for _ in range(6)))

    assert [t for t in taken if t is not None] == [pending("s1")]


async def test_the_purge_deletes_the_expired_only(engine: AsyncEngine) -> None:
    states = SqlLoginStates(engine)
    await states.add(pending("old", T0 - timedelta(hours=2)))
    await states.add(pending("new"))

    purged = await states.purge(T0 - timedelta(hours=1))

    assert purged == 1
    assert await states.take("new", T0) is not None
    assert await states.take("old", T0 - timedelta(hours=2)) is None
