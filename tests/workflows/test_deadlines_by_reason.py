"""Scenario: each reason carries its own deadline (the catalogue's hours; none: the global
setting); the due time is set at registration, reminders follow it, and /stats tells the
share of orders done by it, by reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.workflows.world import ALI, DEADLINE, START, World, draft, subscriber
from workflows.support import OnTime

INTERVAL = timedelta(hours=500)  # one reminder each here: the deadlines are the point
AGENT = 5001
# absence: a day; renovation: three days; vacant: none of its own (the global 48 h)
HOURS = {"absence": 24, "renovation": 72}


@pytest.fixture
def world() -> World:
    world = World()
    world.db.reasons = [
        (replace(reason, deadline_hours=HOURS.get(reason.code)), active)
        for reason, active in world.db.reasons
    ]
    return world


async def submit(world: World, code: str, reason: str) -> int:
    world.db.add_subscribers(subscriber(code))
    return await world.journey.submit(draft(code, reason))


async def test_the_due_time_is_registration_plus_the_reasons_deadline(world: World) -> None:
    absence = await submit(world, "100001", "absence")
    vacant = await submit(world, "100002", "vacant")

    assert world.db.application(absence).due_at == START + timedelta(hours=24)
    assert world.db.application(vacant).due_at == START + DEADLINE  # the global default


async def test_reminders_come_at_each_reasons_own_deadline(world: World) -> None:
    absence = await submit(world, "100001", "absence")
    renovation = await submit(world, "100002", "renovation")
    vacant = await submit(world, "100003", "vacant")
    remind = world.work_orders.remind_overdue

    world.clock.at = START + timedelta(hours=24)
    assert await remind(DEADLINE, INTERVAL) == []  # due now, not yet past it
    world.clock.advance(timedelta(minutes=1))
    assert await remind(DEADLINE, INTERVAL) == [absence]
    world.clock.at = START + timedelta(hours=47, minutes=59)
    assert await remind(DEADLINE, INTERVAL) == []
    world.clock.at = START + timedelta(hours=48, minutes=1)
    assert await remind(DEADLINE, INTERVAL) == [vacant]
    world.clock.at = START + timedelta(hours=71)
    assert await remind(DEADLINE, INTERVAL) == []
    world.clock.at = START + timedelta(hours=72, minutes=1)
    assert await remind(DEADLINE, INTERVAL) == [renovation]


async def test_an_order_without_a_due_time_is_reminded_after_the_global_deadline(
    world: World,
) -> None:
    number = await submit(world, "100001", "absence")
    world.db.applications[number] = replace(world.db.applications[number], due_at=None)

    world.clock.at = START + timedelta(hours=25)
    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == []
    world.clock.at = START + DEADLINE + timedelta(minutes=1)
    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == [number]


async def test_stats_show_the_share_done_on_time_by_reason(world: World) -> None:
    done_after = {
        ("100001", "absence"): 23,  # on time (24 h)
        ("100002", "absence"): 30,  # late
        ("100003", "renovation"): 50,  # on time (72 h)
        ("100004", "vacant"): 48,  # exactly at the global 48 h: on time
        ("100005", "vacant"): 49,  # late
    }
    for (code, reason), hours in done_after.items():
        world.clock.at = START
        number = await submit(world, code, reason)
        await world.work_orders.take(number, ALI)
        world.clock.at = START + timedelta(hours=hours)
        await world.work_orders.complete(number, ALI, "Valve closed.")
    rejected = await submit(world, "100006", "absence")
    await world.work_orders.reject(rejected, ALI, "Duplicate.")  # not a completion

    stats = await world.support().stats(agent=AGENT)

    assert stats.on_time == (
        OnTime("absence", done=2, on_time=1),
        OnTime("renovation", done=1, on_time=1),
        OnTime("vacant", done=2, on_time=1),
    )
    assert [line.percent for line in stats.on_time] == [50, 100, 50]


async def test_stats_without_completions_have_no_on_time_lines(world: World) -> None:
    await submit(world, "100001", "absence")

    assert (await world.support().stats(agent=AGENT)).on_time == ()
