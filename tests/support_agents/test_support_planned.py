"""Scenario: /status shows when the work was planned, by whom and for when, and the notice
that told the subscriber."""

from __future__ import annotations

from datetime import date

from tests.support_agents.agents import AGENT_ID, STAFF, World


async def test_status_shows_the_planned_date_and_its_notice(world: World) -> None:
    number = await world.submit()
    await world.take(number)
    await world.services.work_orders.plan(number, STAFF, date(2026, 11, 28), "afternoon")

    [text] = await world.person(AGENT_ID).send(f"/status {number}")

    assert f"Date planned by <b>{STAFF.name}</b>: Planned: 28 November, 14:00–18:00" in text
    assert "Telegram message to the subscriber (date planned)" in text
