"""Issue 19, item 5, on the fakes: the subscriber withdraws an open application; before Take at
once, after Take as a request the staff accept or decline; nothing more is sent for it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.workflows.world import ALI, LEYLA, STAFF_CHAT_ID, USER, World, draft, subscriber
from workflows.errors import AlreadyClosed, ApplicationNotFound
from workflows.models import ApplicationStatus, EventKind
from workflows.outbox.records import OutboxKind
from workflows.withdrawal import (
    DROPPED_NOTE,
    NoWithdrawalRequest,
    Withdrawals,
    WithdrawOutcome,
    may_withdraw,
)

STRANGER = 4242  # an account that neither filed it nor proved its FIN


def withdrawals(world: World) -> Withdrawals:
    return Withdrawals(world.journey, world.transactions, world.clock, STAFF_CHAT_ID)


async def registered(world: World) -> int:
    world.db.add_subscribers(subscriber("100001"))
    return await world.journey.submit(draft("100001", "absence"))


def kinds(world: World, number: int) -> list[EventKind]:
    return [event.kind for event in world.db.application(number).events]


def live_rows(world: World, number: int) -> list[tuple[str, str]]:
    """(kind, dedupe key) of the rows still to be sent for ``number``."""
    return [
        (row.item.kind, row.item.dedupe_key)
        for row in world.db.outbox.values()
        if row.item.application_number == number and row.dropped is None
    ]


async def test_withdraw_before_take_is_at_once_and_edits_the_card(world: World) -> None:
    number = await registered(world)
    world.clock.advance(timedelta(minutes=3))

    outcome = await withdrawals(world).withdraw(USER, number)

    app = world.db.application(number)
    assert outcome is WithdrawOutcome.WITHDRAWN
    assert app.status is ApplicationStatus.WITHDRAWN
    assert app.closed_at == world.clock.now()
    assert kinds(world, number) == [EventKind.REGISTERED, EventKind.WITHDRAWN]
    assert app.events[-1].actor == f"tg:{USER}"
    assert (OutboxKind.STAFF_CARD_EDIT, f"card_edit:{number}:withdrawn") in live_rows(
        world, number
    )
    assert not may_withdraw(app)


async def test_a_second_press_does_nothing(world: World) -> None:
    number = await registered(world)
    flow = withdrawals(world)
    await flow.withdraw(USER, number)
    before = (world.db.application(number), dict(world.db.outbox))

    outcome = await flow.withdraw(USER, number)

    assert outcome is WithdrawOutcome.CLOSED
    assert (world.db.application(number), dict(world.db.outbox)) == before


async def test_withdraw_after_take_becomes_a_request_on_the_card(world: World) -> None:
    number = await registered(world)
    await world.work_orders.take(number, ALI)
    flow = withdrawals(world)

    outcome = await flow.withdraw(USER, number)
    second = await flow.withdraw(USER, number)

    app = world.db.application(number)
    assert (outcome, second) == (WithdrawOutcome.REQUESTED, WithdrawOutcome.ALREADY_REQUESTED)
    assert app.status is ApplicationStatus.TAKEN
    assert app.withdraw_requested_at == world.clock.now()
    assert kinds(world, number).count(EventKind.WITHDRAW_REQUESTED) == 1
    assert (
        OutboxKind.STAFF_CARD_EDIT,
        f"card_edit:{number}:withdraw_requested",
    ) in live_rows(world, number)
    assert not may_withdraw(app)


async def test_staff_accept_the_request_and_only_the_answer_is_sent(world: World) -> None:
    number = await registered(world)
    await world.work_orders.take(number, ALI)
    flow = withdrawals(world)
    await flow.withdraw(USER, number)

    await flow.accept(number, LEYLA)

    app = world.db.application(number)
    assert app.status is ApplicationStatus.WITHDRAWN
    assert app.withdraw_requested_at is None
    assert kinds(world, number)[-1] is EventKind.WITHDRAWN
    assert app.events[-1].actor == "staff:502:Leyla"
    # The Take notice was not sent yet: it is dropped; the card, its edits and the answer to
    # the subscriber's request remain.
    live = live_rows(world, number)
    notices = [key for kind, key in live if kind is OutboxKind.NOTICE]
    assert notices == [f"notice:{number}:withdrawn"]
    assert {kind for kind, _key in live} <= {
        OutboxKind.STAFF_CARD,
        OutboxKind.STAFF_CARD_EDIT,
        OutboxKind.NOTICE,
    }
    dropped = [row for row in world.db.outbox.values() if row.dropped]
    assert [row.item.dedupe_key for row in dropped] == [f"notice:{number}:taken"]
    assert dropped[0].dropped == DROPPED_NOTE
    # A staff press after the withdrawal changes nothing and queues nothing.
    with pytest.raises(AlreadyClosed):
        await world.work_orders.complete(number, ALI, "done anyway")
    assert live_rows(world, number) == live


async def test_staff_decline_the_request_and_the_work_goes_on(world: World) -> None:
    number = await registered(world)
    await world.work_orders.take(number, ALI)
    flow = withdrawals(world)
    await flow.withdraw(USER, number)

    await flow.decline(number, ALI)

    app = world.db.application(number)
    assert app.status is ApplicationStatus.TAKEN
    assert app.withdraw_requested_at is None
    assert kinds(world, number)[-1] is EventKind.WITHDRAW_DECLINED
    assert (OutboxKind.NOTICE, f"notice:{number}:withdraw_declined") in live_rows(world, number)
    assert await flow.withdraw(USER, number) is WithdrawOutcome.DECLINED_BEFORE
    assert not may_withdraw(app)
    with pytest.raises(NoWithdrawalRequest):
        await flow.accept(number, ALI)
    await world.work_orders.complete(number, ALI, "Valve closed.")
    assert world.db.application(number).status is ApplicationStatus.DONE


async def test_accept_without_a_request_is_refused(world: World) -> None:
    number = await registered(world)
    await world.work_orders.take(number, ALI)

    with pytest.raises(NoWithdrawalRequest):
        await withdrawals(world).accept(number, ALI)
    with pytest.raises(NoWithdrawalRequest):
        await withdrawals(world).decline(number, ALI)
    assert world.db.application(number).status is ApplicationStatus.TAKEN


async def test_only_an_account_that_may_see_it_withdraws(world: World) -> None:
    number = await registered(world)

    with pytest.raises(ApplicationNotFound):
        await withdrawals(world).withdraw(STRANGER, number)
    assert world.db.application(number).status is ApplicationStatus.REGISTERED


async def test_a_withdrawn_order_cannot_be_taken(world: World) -> None:
    number = await registered(world)
    await withdrawals(world).withdraw(USER, number)

    with pytest.raises(AlreadyClosed):
        await world.work_orders.take(number, ALI)
    assert world.db.application(number).status is ApplicationStatus.WITHDRAWN


async def test_after_a_withdrawal_the_subscriber_may_apply_again(world: World) -> None:
    number = await registered(world)
    await withdrawals(world).withdraw(USER, number)

    again = await world.journey.submit(draft("100001", "absence"))

    assert again != number
    assert world.db.application(again).status is ApplicationStatus.REGISTERED
