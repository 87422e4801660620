"""The agents' use cases and their SQL: the counts and limits of the queries on a real
(SQLite) database. The plain rules (search terms, masking, percentiles, Baku's "today") are
in ``tests/workflows/test_support.py``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from storage.models import ReasonRow
from storage.support import SqlAccessLog, SqlSupportQueries
from tests.support_agents.agents import AGENT_ID, FIN, World
from workflows.errors import ApplicationNotFound
from workflows.models import ApplicationStatus
from workflows.outbox.records import OutboxKind, OutboxStatus
from workflows.support import SearchTerm, Support


def support_of(world: World, deadline: timedelta = timedelta(hours=72)) -> Support:
    factory = world.services.transactions.session_factory
    return Support(
        SqlSupportQueries(factory), world.clock, deadline, access_log=SqlAccessLog(factory)
    )


async def test_application_file_has_events_and_deliveries(world: World) -> None:
    number = await world.submit()
    world.advance(hours=1)
    await world.take(number)
    support = support_of(world)

    file = await support.application(number, agent=AGENT_ID)

    assert [e.kind.value for e in file.application.events] == ["registered", "taken"]
    assert [(d.kind, d.event) for d in file.deliveries] == [
        (OutboxKind.STAFF_CARD, None),
        (OutboxKind.STAFF_CARD_EDIT, None),
        (OutboxKind.NOTICE, "taken"),
    ]
    assert {d.status for d in file.deliveries} == {OutboxStatus.PENDING}
    with pytest.raises(ApplicationNotFound):
        await support.application(number + 100, agent=AGENT_ID)


async def test_find_counts_beyond_the_limit(world: World) -> None:
    for code in ("100003", "100004", "100005"):
        await world.reject(await world.submit(code))
    support = support_of(world)

    found = await support.find(SearchTerm.parse(FIN), agent=AGENT_ID, limit=2)

    assert len(found.applications) == 2 and found.total == 3
    assert [a.subscriber_code for a in found.applications] == ["100005", "100004"]


async def test_open_orders_oldest_first_and_counted_beyond_the_limit(world: World) -> None:
    numbers = []
    for code in ("100003", "100004", "100005"):
        numbers.append(await world.submit(code))
        world.advance(hours=40)
    await world.take(numbers[1])
    support = support_of(world, deadline=timedelta(hours=72))

    orders = await support.open_orders(agent=AGENT_ID, limit=2)

    assert orders.total == 3
    assert [o.application.number for o in orders.orders] == numbers[:2]
    assert [o.age for o in orders.orders] == [timedelta(hours=120), timedelta(hours=80)]
    assert [o.overdue for o in orders.orders] == [True, True]


async def test_stats_counts_only_completions_in_the_window(world: World) -> None:
    world.advance(days=-40)
    old = await world.submit("100003")
    await world.take(old)
    world.advance(hours=1)
    await world.complete(old)
    world.advance(days=40)
    recent = await world.submit("100004")
    await world.take(recent)
    world.advance(hours=3)
    await world.complete(recent)
    rejected = await world.submit("100005")
    world.advance(hours=50)
    await world.reject(rejected)

    stats = await support_of(world).stats(agent=AGENT_ID)

    assert stats.by_status == {
        ApplicationStatus.REGISTERED: 0,
        ApplicationStatus.TAKEN: 0,
        ApplicationStatus.DONE: 2,
        ApplicationStatus.REJECTED: 1,
        ApplicationStatus.WITHDRAWN: 0,
    }
    assert stats.completed_in_window == 1
    assert stats.median_completion == stats.p90_completion == timedelta(hours=3)


async def test_an_inactive_reason_still_has_its_label(world: World) -> None:
    async with world.engine.begin() as conn:
        await conn.execute(
            update(ReasonRow).where(ReasonRow.code == "absence").values(active=False)
        )

    reasons = await support_of(world).reasons()

    assert reasons["absence"].label("en") == "Temporary absence (travel, posting)"
