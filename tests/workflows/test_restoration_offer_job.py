"""Scenario: the way back from a temporary suspension (issue 19, item 6). Three days before
the suspension's "until" date the subscriber is offered a restoration, once (also with two
workers at once), and only while it makes sense; the press gives the form filled in from the
suspension, to the account that filed it and nobody else."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.workflows.world import ALI, STAFF_CHAT_ID, USER, World, draft, subscriber
from workflows.errors import ApplicationNotFound, RegistryUnavailable
from workflows.models import ApplicationStatus, ServiceState
from workflows.outbox.records import Channel, OutboxKind
from workflows.privacy import Privacy
from workflows.restoration import CodeBusy, NotSuspended, Restorations
from workflows.withdrawal import Withdrawals

UNTIL = "2026-12-20"
# Baku is UTC+4: 10:00 in Baku on the day four days and three days before the date.
FOUR_DAYS_BEFORE = datetime(2026, 12, 16, 6, 0, tzinfo=UTC)
THREE_DAYS_BEFORE = datetime(2026, 12, 17, 6, 0, tzinfo=UTC)


async def done_suspension(world: World, code: str = "100001", until: str | None = UNTIL) -> int:
    """A suspension with an "until" date, done by the staff: the code is suspended now."""
    world.db.add_subscribers(subscriber(code))
    number = await world.journey.submit(replace(draft(code), suspend_until=until))
    await world.work_orders.take(number, ALI)
    await world.work_orders.complete(number, ALI, "Valve closed and sealed.")
    assert world.state_of(code) is ServiceState.SUSPENDED
    return number


def offers(world: World) -> list[tuple[str, str, str, int | None]]:
    return [
        (row.item.channel, row.item.recipient, row.item.dedupe_key, row.item.application_number)
        for row in world.db.outbox.values()
        if row.item.kind == OutboxKind.RESTORE_OFFER
    ]


@pytest.fixture
def restorations(world: World) -> Restorations:
    return Restorations(world.journey)


async def test_four_days_before_nothing_three_days_before_exactly_one_offer(
    world: World, restorations: Restorations
) -> None:
    number = await done_suspension(world)

    world.clock.at = FOUR_DAYS_BEFORE
    assert await restorations.offer_due() == []
    assert offers(world) == []
    assert world.db.application(number).restoration_offered_at is None

    world.clock.at = THREE_DAYS_BEFORE
    assert await restorations.offer_due() == [number]

    assert offers(world) == [(Channel.TELEGRAM, str(USER), f"restore_offer:{number}", number)]
    assert world.db.application(number).restoration_offered_at == THREE_DAYS_BEFORE


async def test_the_job_run_again_offers_nothing_more(
    world: World, restorations: Restorations
) -> None:
    await done_suspension(world)
    world.clock.at = THREE_DAYS_BEFORE
    await restorations.offer_due()

    world.clock.at = datetime(2026, 12, 19, 8, 0, tzinfo=UTC)
    assert await restorations.offer_due() == []
    assert len(offers(world)) == 1


async def test_two_workers_at_once_send_one_offer(world: World) -> None:
    number = await done_suspension(world)
    world.clock.at = THREE_DAYS_BEFORE
    first, second = Restorations(world.journey), Restorations(world.journey)

    results = await asyncio.gather(first.offer_due(), second.offer_due())

    assert sorted(results) == [[], [number]]
    assert len(offers(world)) == 1
    assert world.db.application(number).restoration_offered_at == THREE_DAYS_BEFORE


async def test_a_late_run_still_offers_after_the_date(
    world: World, restorations: Restorations
) -> None:
    number = await done_suspension(world)
    world.clock.at = datetime(2026, 12, 22, 8, 0, tzinfo=UTC)  # the job was down for days

    assert await restorations.offer_due() == [number]


async def test_no_offer_at_night(world: World, restorations: Restorations) -> None:
    number = await done_suspension(world)
    world.clock.at = datetime(2026, 12, 16, 20, 30, tzinfo=UTC)  # 00:30 in Baku, the 17th

    assert await restorations.offer_due() == []

    world.clock.at = datetime(2026, 12, 17, 5, 0, tzinfo=UTC)  # 09:00 in Baku
    assert await restorations.offer_due() == [number]


async def test_no_offer_without_a_date(world: World, restorations: Restorations) -> None:
    await done_suspension(world, until=None)
    world.clock.at = THREE_DAYS_BEFORE

    assert await restorations.offer_due() == []


async def test_no_offer_once_the_code_is_active_again(
    world: World, restorations: Restorations
) -> None:
    number = await done_suspension(world)
    world.db.subscribers["100001"] = subscriber("100001")  # restored another way
    world.clock.at = THREE_DAYS_BEFORE

    assert await restorations.offer_due() == []

    assert offers(world) == []
    # nothing to offer any more: the job does not look at it again
    assert world.db.application(number).restoration_offered_at == THREE_DAYS_BEFORE


async def test_no_offer_while_an_application_is_open_on_the_code(
    world: World, restorations: Restorations
) -> None:
    number = await done_suspension(world)
    restoration = await world.journey.submit(draft("100001", "returned"))
    world.clock.at = THREE_DAYS_BEFORE

    assert await restorations.offer_due() == []
    assert offers(world) == []
    assert world.db.application(number).restoration_offered_at is None

    # the restoration is withdrawn: the code is still suspended, the offer comes after all
    withdrawals = Withdrawals(world.journey, world.transactions, world.clock, 0)
    await withdrawals.withdraw(USER, restoration)
    assert await restorations.offer_due() == [number]


async def test_no_offer_after_a_restoration_was_done_on_the_code(
    world: World, restorations: Restorations
) -> None:
    await done_suspension(world)
    restoration = await world.journey.submit(draft("100001", "returned"))
    await world.work_orders.take(restoration, ALI)
    await world.work_orders.complete(restoration, ALI, "Open again.")
    # and suspended once more, with no date this time
    await done_suspension(world, until=None)
    world.clock.at = THREE_DAYS_BEFORE

    assert await restorations.offer_due() == []
    assert offers(world) == []


async def test_a_rejected_suspension_is_never_offered(
    world: World, restorations: Restorations
) -> None:
    world.db.add_subscribers(subscriber("100001"))
    number = await world.journey.submit(replace(draft("100001"), suspend_until=UNTIL))
    await world.work_orders.reject(number, ALI, "Wrong address.")
    world.db.subscribers["100001"] = subscriber("100001", state=ServiceState.SUSPENDED)
    world.clock.at = THREE_DAYS_BEFORE

    assert await restorations.offer_due() == []
    assert offers(world) == []


async def test_an_anonymised_suspension_is_never_offered(
    world: World, restorations: Restorations
) -> None:
    number = await done_suspension(world)
    app = world.db.applications[number]
    world.db.applications[number] = replace(
        app, anonymised_at=app.closed_at, telegram_user_id=0, chat_id=0
    )
    world.clock.at = THREE_DAYS_BEFORE

    assert await restorations.offer_due() == []
    assert offers(world) == []


async def test_forget_gives_up_a_pending_offer_and_none_follows(
    world: World, restorations: Restorations
) -> None:
    number = await done_suspension(world)
    world.clock.at = THREE_DAYS_BEFORE
    await restorations.offer_due()

    await Privacy(world.transactions, world.clock, STAFF_CHAT_ID).forget(USER)

    [row] = [r for r in world.db.outbox.values() if r.item.kind == OutboxKind.RESTORE_OFFER]
    assert row.item.recipient == ""  # the message to the applicant loses its chat
    assert await restorations.still_wanted(number) is None
    with pytest.raises(ApplicationNotFound):
        await restorations.start(USER, number)


async def test_a_registry_outage_leaves_the_offer_for_the_next_run(
    world: World, restorations: Restorations
) -> None:
    number = await done_suspension(world)
    world.clock.at = THREE_DAYS_BEFORE
    world.registry.down = True

    assert await restorations.offer_due() == []
    assert world.db.application(number).restoration_offered_at is None

    world.registry.down = False
    assert await restorations.offer_due() == [number]


async def test_the_sender_checks_again_before_sending(
    world: World, restorations: Restorations
) -> None:
    number = await done_suspension(world)
    world.clock.at = THREE_DAYS_BEFORE
    await restorations.offer_due()

    wanted = await restorations.still_wanted(number)
    assert wanted is not None and wanted.number == number
    world.registry.down = True
    with pytest.raises(RegistryUnavailable):
        await restorations.still_wanted(number)
    world.registry.down = False
    await world.journey.submit(draft("100001", "returned"))
    assert await restorations.still_wanted(number) is None


# --- the press ----------------------------------------------------------------------------
async def test_the_press_fills_the_form_from_the_suspension(
    world: World, restorations: Restorations
) -> None:
    number = await done_suspension(world)

    start = await restorations.start(USER, number)

    suspension = world.db.application(number)
    assert (start.suspension, start.subscriber_code) == (number, "100001")
    assert (start.phone, start.email) == (suspension.phone, suspension.email)
    assert start.reason_code == "returned"  # the catalogue's first restoration reason
    # the account did not prove the owner FIN: the address is cut to city and district
    assert start.address == "Bakı, 100001"


async def test_another_account_is_told_the_number_does_not_exist(
    world: World, restorations: Restorations
) -> None:
    number = await done_suspension(world)

    for account, asked in ((USER + 1, number), (USER, 999)):
        with pytest.raises(ApplicationNotFound):
            await restorations.start(account, asked)


async def test_the_press_after_the_code_is_active_again_or_busy(
    world: World, restorations: Restorations
) -> None:
    number = await done_suspension(world)
    restoration = await world.journey.submit(draft("100001", "returned"))

    with pytest.raises(CodeBusy) as busy:
        await restorations.start(USER, number)
    assert (busy.value.subscriber_code, busy.value.number) == ("100001", restoration)

    await world.work_orders.take(restoration, ALI)
    await world.work_orders.complete(restoration, ALI, "Open again.")
    assert world.db.application(restoration).status is ApplicationStatus.DONE
    with pytest.raises(NotSuspended):
        await restorations.start(USER, number)
