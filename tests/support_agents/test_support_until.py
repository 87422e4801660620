"""Scenario: /status names a suspension's "until" date and the restoration offer it owed the
subscriber (issue 19, item 6)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from storage.models import ApplicationRow
from tests.support_agents.agents import AGENT_ID, World


async def test_status_shows_the_until_date_and_the_restoration_offer(world: World) -> None:
    number = await world.submit()
    async with world.engine.begin() as conn:
        await conn.execute(
            update(ApplicationRow)
            .where(ApplicationRow.number == number)
            .values(suspend_until="2026-12-20")
        )
    await world.take(number)
    await world.complete(number)
    world.clock.at = datetime(2026, 12, 17, 6, 0, tzinfo=UTC)  # three days before, in Baku
    assert await world.services.restorations.offer_due() == [number]

    [text] = await world.person(AGENT_ID).send(f"/status {number}")

    assert "<b>Until:</b> 20 December 2026" in text
    assert "Restoration offer to the subscriber: <i>waiting to be sent</i>" in text
