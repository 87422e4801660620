"""Scenario: /stats tells, by reason, how many of the orders done in the last 30 days were
done by their due time (the catalogue's deadline of the reason: absence 72 h, returned 24 h)."""

from __future__ import annotations

from tests.support_agents.agents import AGENT_ID, World


async def test_stats_show_the_share_done_on_time_by_reason(world: World) -> None:
    for code, hours in (("100001", 10), ("100003", 80), ("100002", 30)):
        number = await world.submit(code)  # 100002 is a restoration ("returned", 24 h)
        await world.take(number)
        world.advance(hours=hours)
        await world.complete(number)
        world.advance(hours=-hours)

    [text] = await world.person(AGENT_ID).send("/stats")

    lines = text.splitlines()
    at = lines.index("Done on time, by reason (last 30 days):")
    assert lines[at + 1 : at + 3] == [
        "• Temporary absence (travel, posting): 1 of 2 (50%)",
        "• I have returned: 0 of 1 (0%)",
    ]
