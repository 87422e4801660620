"""Scenario: right after Take, the staff member says when the work will be done; the date
goes on the card and the subscriber is told, again on every change, never twice for one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.workflows.world import ALI, LEYLA, START, World, draft, subscriber
from workflows.errors import AlreadyClosed, NotTakenYet, TakenByAnother
from workflows.models import EventKind
from workflows.outbox.records import OutboxKind
from workflows.planning import PlanNotAllowed

TODAY = date(2026, 11, 27)  # START is 13:00 in Baku


async def taken(world: World) -> int:
    world.db.add_subscribers(subscriber("100001"))
    number = await world.journey.submit(draft("100001"))
    await world.work_orders.take(number, ALI)
    return number


def notices(world: World, number: int) -> list[dict[str, object]]:
    return [
        item.payload or {}
        for item in world.db.outbox_of(number)
        if item.kind == OutboxKind.NOTICE and (item.payload or {}).get("event") == "planned"
    ]


async def test_the_planned_date_is_stored_and_owes_a_card_edit_and_a_notice(
    world: World,
) -> None:
    number = await taken(world)

    updated = await world.work_orders.plan(number, ALI, TODAY + timedelta(days=1), "morning")

    assert updated is not None
    app = world.db.application(number)
    assert (app.planned_date, app.planned_window) == ("2026-11-28", "morning")
    assert app.events[-1].kind is EventKind.PLANNED
    assert app.events[-1].actor == "staff:501:Ali"
    assert notices(world, number) == [
        {"event": "planned", "date": "2026-11-28", "window": "morning"}
    ]
    edits = [i for i in world.db.outbox_of(number) if i.kind == OutboxKind.STAFF_CARD_EDIT]
    assert any("planned" in item.dedupe_key for item in edits)


async def test_the_same_choice_again_changes_nothing_and_sends_nothing(world: World) -> None:
    number = await taken(world)
    await world.work_orders.plan(number, ALI, TODAY, "afternoon")
    outbox = len(world.db.outbox)
    events = len(world.db.application(number).events)

    assert await world.work_orders.plan(number, ALI, TODAY, "afternoon") is None

    assert len(world.db.outbox) == outbox
    assert len(world.db.application(number).events) == events


async def test_every_change_notifies_again_even_back_to_an_earlier_choice(world: World) -> None:
    number = await taken(world)
    tomorrow = TODAY + timedelta(days=1)

    await world.work_orders.plan(number, ALI, TODAY, "afternoon")
    await world.work_orders.plan(number, ALI, tomorrow, "morning")
    await world.work_orders.plan(number, ALI, TODAY, "afternoon")

    assert [(n["date"], n["window"]) for n in notices(world, number)] == [
        ("2026-11-27", "afternoon"),
        ("2026-11-28", "morning"),
        ("2026-11-27", "afternoon"),
    ]
    assert world.db.application(number).planned_date == "2026-11-27"


async def test_only_the_one_who_took_it_may_plan_and_only_while_taken(world: World) -> None:
    world.db.add_subscribers(subscriber("100001"))
    number = await world.journey.submit(draft("100001"))
    with pytest.raises(NotTakenYet):
        await world.work_orders.plan(number, ALI, TODAY, "morning")
    await world.work_orders.take(number, ALI)
    with pytest.raises(TakenByAnother):
        await world.work_orders.plan(number, LEYLA, TODAY, "morning")
    await world.work_orders.complete(number, ALI, "Valve closed.")
    with pytest.raises(AlreadyClosed):
        await world.work_orders.plan(number, ALI, TODAY, "morning")
    assert world.db.application(number).planned_date is None
    assert notices(world, number) == []


@pytest.mark.parametrize(
    ("day", "window"),
    [
        (TODAY - timedelta(days=1), "morning"),  # the past
        (TODAY + timedelta(days=15), "morning"),  # beyond 14 days
        (TODAY, "evening"),  # no such window
    ],
)
async def test_a_date_out_of_range_is_refused(world: World, day: date, window: str) -> None:
    number = await taken(world)
    with pytest.raises(PlanNotAllowed):
        await world.work_orders.plan(number, ALI, day, window)
    assert world.db.application(number).planned_date is None


async def test_today_is_the_day_in_baku(world: World) -> None:
    number = await taken(world)
    world.clock.at = START.replace(hour=21)  # 01:00 on the 28th in Baku

    with pytest.raises(PlanNotAllowed):
        await world.work_orders.plan(number, ALI, TODAY, "afternoon")  # yesterday in Baku
    assert await world.work_orders.plan(number, ALI, TODAY + timedelta(days=15), "morning")
