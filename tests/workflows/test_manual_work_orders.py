"""The manual's §9 on the fakes: the work order, its result, the service state it leaves.

"After the subscriber sends the application, a matching work order is created ... the
subscriber's service is suspended, or the suspended service is restored. When the work is
finished, the work order's result is entered into the system and the subscriber is informed
by e-mail that the application is complete." Take / Done / Reject are the staff group's
buttons; Done and Reject ask for a note first (``check``), then act on the reply.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.workflows.fakes import FakeTransactions
from tests.workflows.world import (
    ALI,
    LEYLA,
    RESTORE_REASONS,
    STAFF_CHAT_ID,
    START,
    SUSPEND_REASONS,
    World,
    draft,
    subscriber,
)
from workflows import errors
from workflows.clock import FixedClock
from workflows.models import (
    ApplicationKind,
    ApplicationStatus,
    Event,
    EventKind,
    ServiceState,
    StaffMember,
)
from workflows.ports import OutboxItem
from workflows.work_orders import WorkOrders

DONE = ApplicationStatus.DONE
REJECTED = ApplicationStatus.REJECTED
TAKEN = ApplicationStatus.TAKEN


async def registered(
    world: World, code: str = "100001", state: ServiceState = ServiceState.ACTIVE
) -> int:
    world.db.add_subscribers(subscriber(code, state=state))
    reason = "absence" if state is ServiceState.ACTIVE else "returned"
    return await world.journey.submit(draft(code, reason))


async def taken(world: World) -> int:
    """An order Ali took."""
    number = await registered(world)
    await world.work_orders.take(number, ALI)
    return number


def kinds(world: World, number: int) -> list[EventKind]:
    return [event.kind for event in world.db.application(number).events]


# --- Take ------------------------------------------------------------------------------------
async def test_9_take_assigns_the_work_order_to_the_presser(world: World) -> None:
    number = await registered(world)
    world.clock.advance(timedelta(minutes=5))

    taken = await world.work_orders.take(number, ALI)

    stored = world.db.application(number)
    assert replace(taken, events=()) == replace(stored, events=())
    assert stored.status is TAKEN
    assert (stored.taken_by_id, stored.taken_by_name) == (ALI.user_id, "Ali")
    assert stored.taken_at == stored.updated_at == START + timedelta(minutes=5)
    assert stored.events[-1] == Event(
        at=START + timedelta(minutes=5), kind=EventKind.TAKEN, actor="staff:501:Ali"
    )
    assert world.state_of("100001") is ServiceState.ACTIVE  # taking changes no service


async def test_9_take_pressed_twice_by_the_same_person_changes_nothing(world: World) -> None:
    number = await taken(world)

    with pytest.raises(errors.AlreadyTaken) as refused:
        await world.work_orders.take(number, ALI)

    assert (refused.value.number, refused.value.status) == (number, "taken")
    assert (refused.value.actor_name, refused.value.args) == ("Ali", (number, "taken"))
    assert kinds(world, number) == [EventKind.REGISTERED, EventKind.TAKEN]


async def test_9_take_of_an_order_taken_by_another_names_the_taker(world: World) -> None:
    number = await taken(world)

    with pytest.raises(errors.TakenByAnother) as refused:
        await world.work_orders.take(number, LEYLA)

    assert (refused.value.number, refused.value.status, refused.value.actor_name) == (
        number,
        "taken",
        "Ali",
    )
    assert world.db.application(number).taken_by_id == ALI.user_id


async def test_9_a_press_on_an_unknown_order_is_not_found(world: World) -> None:
    with pytest.raises(errors.ApplicationNotFound) as refused:
        await world.work_orders.take(404, ALI)
    assert refused.value.args == (404,)
    with pytest.raises(errors.ApplicationNotFound):
        await world.work_orders.check(404, DONE, ALI)


# --- Done ------------------------------------------------------------------------------------
async def test_9_done_needs_take_first(world: World) -> None:
    number = await registered(world)

    with pytest.raises(errors.NotTakenYet) as refused:
        await world.work_orders.check(number, DONE, ALI)
    assert (refused.value.number, refused.value.status) == (number, "registered")
    with pytest.raises(errors.NotTakenYet):
        await world.work_orders.complete(number, ALI, "Valve closed.")
    assert world.db.application(number).status is ApplicationStatus.REGISTERED


async def test_9_only_the_taker_can_close_the_order(world: World) -> None:
    number = await taken(world)

    for target in (DONE, REJECTED):
        with pytest.raises(errors.TakenByAnother) as refused:
            await world.work_orders.check(number, target, LEYLA)
        assert (refused.value.number, refused.value.status) == (number, "taken")
    with pytest.raises(errors.TakenByAnother):
        await world.work_orders.complete(number, LEYLA, "Valve closed.")
    with pytest.raises(errors.TakenByAnother):
        await world.work_orders.reject(number, LEYLA, "No access.")
    assert world.db.application(number).status is TAKEN


async def test_9_done_records_the_result_and_informs_the_subscriber_by_e_mail(
    world: World,
) -> None:
    number = await taken(world)
    world.clock.advance(timedelta(hours=3))

    await world.work_orders.complete(number, ALI, "Valve closed and sealed.")

    app = world.db.application(number)
    assert app.status is DONE
    assert app.result_note == "Valve closed and sealed."
    assert app.closed_at == START + timedelta(hours=3)
    assert app.events[-1].note == "Valve closed and sealed."
    assert kinds(world, number) == [EventKind.REGISTERED, EventKind.TAKEN, EventKind.DONE]
    owed = {item.dedupe_key: item for item in world.db.outbox_of(number)}
    email = OutboxItem("email", "email", "user@example.com", f"email:{number}:done", number)
    assert owed[f"email:{number}:done"] == replace(email, payload={"event": "done"})
    assert owed[f"notice:{number}:done"].recipient == "1001"
    assert owed[f"card_edit:{number}:done"].recipient == str(STAFF_CHAT_ID)


async def test_9_done_of_a_suspension_leaves_the_service_suspended(world: World) -> None:
    number = await registered(world, state=ServiceState.ACTIVE)
    await world.work_orders.take(number, ALI)

    await world.work_orders.complete(number, ALI, "Valve closed.")

    assert world.state_of("100001") is ServiceState.SUSPENDED


async def test_9_after_a_suspension_is_done_only_restoration_reasons_are_offered(
    world: World,
) -> None:
    number = await registered(world, state=ServiceState.ACTIVE)
    await world.work_orders.take(number, ALI)
    await world.work_orders.complete(number, ALI, "Valve closed.")

    assert await world.offered("100001") == set(RESTORE_REASONS)
    with pytest.raises(errors.ReasonNotAllowed):
        await world.journey.submit(draft("100001", "absence"))
    restoration = await world.journey.submit(draft("100001", "returned"))
    assert world.db.application(restoration).kind is ApplicationKind.RESTORE


async def test_9_after_a_restoration_is_done_only_suspension_reasons_are_offered(
    world: World,
) -> None:
    number = await registered(world, state=ServiceState.SUSPENDED)
    assert world.db.application(number).kind is ApplicationKind.RESTORE
    await world.work_orders.take(number, ALI)
    await world.work_orders.complete(number, ALI, "Valve opened.")

    assert world.state_of("100001") is ServiceState.ACTIVE
    assert await world.offered("100001") == set(SUSPEND_REASONS)
    suspension = await world.journey.submit(draft("100001", "absence"))
    assert world.db.application(suspension).kind is ApplicationKind.SUSPEND


async def test_9_the_service_state_changes_only_on_done(world: World) -> None:
    rejected = await registered(world, "100001", ServiceState.ACTIVE)
    await world.work_orders.reject(rejected, ALI, "Duplicate request.")
    taken = await registered(world, "100002", ServiceState.SUSPENDED)
    await world.work_orders.take(taken, ALI)

    assert world.state_of("100001") is ServiceState.ACTIVE
    assert world.state_of("100002") is ServiceState.SUSPENDED
    # and the rejected subscriber may apply again, for the same kind
    assert await world.offered("100001") == set(SUSPEND_REASONS)


# --- Reject ----------------------------------------------------------------------------------
async def test_9_reject_of_a_registered_order_needs_no_take(world: World) -> None:
    number = await registered(world)

    await world.work_orders.check(number, REJECTED, LEYLA)
    rejected = await world.work_orders.reject(number, LEYLA, "Not the owner's request.")

    assert rejected.status is REJECTED
    app = world.db.application(number)
    assert (app.taken_by_id, app.taken_by_name) == (LEYLA.user_id, "Leyla")
    assert app.result_note == "Not the owner's request."
    assert app.taken_at is None
    assert kinds(world, number) == [EventKind.REGISTERED, EventKind.REJECTED]
    assert f"email:{number}:rejected" in {i.dedupe_key for i in world.db.outbox_of(number)}


async def test_9_take_owes_a_card_edit_and_a_notice_but_no_e_mail(world: World) -> None:
    number = await registered(world)

    world.clock.advance(timedelta(minutes=2))
    await world.work_orders.take(number, ALI)

    assert world.db.outbox_of(number)[1:] == [
        OutboxItem(
            "staff_card_edit", "telegram", str(STAFF_CHAT_ID), f"card_edit:{number}:taken", number
        ),
        OutboxItem(
            "notice", "telegram", "1001", f"notice:{number}:taken", number, {"event": "taken"}
        ),
    ]
    owed_at = {row.created_at for row in world.db.outbox.values()}
    assert owed_at == {START, START + timedelta(minutes=2)}


@pytest.mark.parametrize("first", [DONE, REJECTED])
@pytest.mark.parametrize("second", [DONE, REJECTED])
async def test_9_a_press_on_a_closed_order_changes_nothing(
    world: World, first: ApplicationStatus, second: ApplicationStatus
) -> None:
    number = await taken(world)
    await _close(world, number, first, ALI)
    before = world.db.application(number)
    owed = len(world.db.outbox)

    with pytest.raises(errors.AlreadyClosed) as refused:
        await world.work_orders.check(number, second, ALI)
    assert (refused.value.number, refused.value.status) == (number, first.value)
    assert refused.value.actor_name == "Ali"
    with pytest.raises(errors.AlreadyClosed):
        await world.work_orders.take(number, LEYLA)
    assert world.db.application(number) == before
    assert len(world.db.outbox) == owed


# --- the note prompt: a second press while it is open, a note after somebody else acted --------
@pytest.mark.parametrize("second", [DONE, REJECTED])
async def test_9_a_second_done_or_reject_while_the_first_prompt_is_open(
    world: World, second: ApplicationStatus
) -> None:
    # Ali presses Done (a prompt asks for the note), then presses Done or Reject again before
    # answering: both prompts are open. The first note closes the order; the second note is
    # refused as "already done" and records nothing: one result, one e-mail.
    number = await taken(world)
    await world.work_orders.check(number, DONE, ALI)
    await world.work_orders.check(number, second, ALI)

    await world.work_orders.complete(number, ALI, "Valve closed.")
    with pytest.raises(errors.AlreadyClosed) as refused:
        await _close(world, number, second, ALI, "Second thoughts.")

    assert refused.value.status == "done"
    app = world.db.application(number)
    assert (app.status, app.result_note) == (DONE, "Valve closed.")
    assert kinds(world, number).count(EventKind.DONE) == 1
    assert EventKind.REJECTED not in kinds(world, number)
    emails = [i for i in world.db.outbox_of(number) if i.channel == "email"]
    assert [i.dedupe_key for i in emails] == [f"email:{number}:done"]
    assert world.state_of("100001") is ServiceState.SUSPENDED


async def test_9_a_reject_note_after_somebody_else_took_the_order(world: World) -> None:
    # Leyla presses Reject on a registered order and is asked for the reason; meanwhile Ali
    # takes it. Leyla's reason arrives: refused, the order stays Ali's.
    number = await registered(world)
    await world.work_orders.check(number, REJECTED, LEYLA)
    await world.work_orders.take(number, ALI)

    with pytest.raises(errors.TakenByAnother) as refused:
        await world.work_orders.reject(number, LEYLA, "Not needed.")

    assert refused.value.actor_name == "Ali"
    app = world.db.application(number)
    assert (app.status, app.taken_by_id, app.result_note) == (TAKEN, ALI.user_id, None)
    assert kinds(world, number) == [EventKind.REGISTERED, EventKind.TAKEN]


async def test_9_a_reject_note_after_somebody_else_rejected_the_order(world: World) -> None:
    number = await registered(world)
    await world.work_orders.check(number, REJECTED, LEYLA)
    await world.work_orders.check(number, REJECTED, ALI)
    await world.work_orders.reject(number, ALI, "Duplicate request.")

    with pytest.raises(errors.AlreadyClosed) as refused:
        await world.work_orders.reject(number, LEYLA, "Not needed.")

    assert (refused.value.status, refused.value.actor_name) == ("rejected", "Ali")
    assert world.db.application(number).result_note == "Duplicate request."
    assert kinds(world, number).count(EventKind.REJECTED) == 1


@pytest.mark.parametrize("second", [DONE, REJECTED])
async def test_9_two_notes_answered_at_once_record_one_result(
    world: World, second: ApplicationStatus
) -> None:
    # Both prompts answered in the same moment (two bot workers, or two fast replies): the
    # order is read under a lock, so the second sees the first's result and is refused.
    number = await taken(world)

    results = await asyncio.gather(
        world.work_orders.complete(number, ALI, "Valve closed."),
        _close(world, number, second, ALI, "Second thoughts."),
        return_exceptions=True,
    )

    assert isinstance(results[1], errors.AlreadyClosed), results
    app = world.db.application(number)
    assert (app.status, app.result_note) == (DONE, "Valve closed.")
    assert kinds(world, number) == [EventKind.REGISTERED, EventKind.TAKEN, EventKind.DONE]
    assert len([i for i in world.db.outbox_of(number) if i.channel == "email"]) == 1


# --- overdue reminders -----------------------------------------------------------------------
DEADLINE = timedelta(hours=48)
INTERVAL = timedelta(hours=24)


async def test_overdue_orders_are_reminded_once_past_the_deadline(world: World) -> None:
    old = await registered(world, "100001")
    world.clock.advance(DEADLINE)
    young = await registered(world, "100002")

    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == []  # not *past* it
    world.clock.advance(timedelta(seconds=1))
    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == [old]

    app = world.db.application(old)
    assert app.last_reminder_at == world.clock.now()
    assert app.events[-1] == Event(at=world.clock.now(), kind=EventKind.REMINDED, actor="system")
    reminders = [i for i in world.db.outbox_of(old) if i.kind == "reminder"]
    assert [(i.recipient, i.channel) for i in reminders] == [(str(STAFF_CHAT_ID), "telegram")]
    assert not [i for i in world.db.outbox_of(young) if i.kind == "reminder"]


async def test_overdue_orders_are_reminded_at_most_once_per_interval(world: World) -> None:
    number = await registered(world)
    world.clock.advance(DEADLINE + timedelta(minutes=1))
    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == [number]

    world.clock.advance(INTERVAL - timedelta(seconds=1))
    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == []
    world.clock.advance(timedelta(seconds=1))
    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == [number]

    assert kinds(world, number).count(EventKind.REMINDED) == 2
    assert len([i for i in world.db.outbox_of(number) if i.kind == "reminder"]) == 2


async def test_closed_orders_are_not_reminded(world: World) -> None:
    done = await registered(world, "100001")
    await world.work_orders.take(done, ALI)
    await world.work_orders.complete(done, ALI, "Valve closed.")
    taken = await registered(world, "100002")
    await world.work_orders.take(taken, LEYLA)
    world.clock.advance(DEADLINE * 2)

    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == [taken]


async def test_overdue_reminders_go_oldest_first(world: World) -> None:
    first = await registered(world, "100001")
    second = await registered(world, "100002")
    world.clock.advance(DEADLINE * 2)

    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == [first, second]


async def test_a_recently_reminded_order_does_not_hold_back_a_newly_overdue_one(
    world: World,
) -> None:
    first = await registered(world, "100001")
    world.clock.advance(timedelta(hours=2))
    second = await registered(world, "100002")
    world.clock.advance(DEADLINE - timedelta(hours=2) + timedelta(seconds=1))
    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == [first]

    world.clock.advance(timedelta(hours=2))

    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == [second]


async def test_one_run_reminds_the_500_oldest_overdue_orders(world: World) -> None:
    first = world.db.application(await registered(world))
    for i in range(500):  # 500 more like it, stored directly: registering is not the subject
        number = next(world.db.numbers)
        world.db.applications[number] = replace(
            first, number=number, subscriber_code=str(300000 + i), events=()
        )
    numbers = sorted(world.db.applications)
    world.clock.advance(DEADLINE * 2)

    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == numbers[:500]


async def test_a_backlog_of_reminded_orders_does_not_starve_the_next_one(world: World) -> None:
    """501 overdue orders: the 500 oldest are reminded first; an hour later (within the
    interval) the 501st is, although the 500 before it are still open."""
    first = world.db.application(await registered(world))
    for i in range(500):
        number = next(world.db.numbers)
        world.db.applications[number] = replace(
            first, number=number, subscriber_code=str(300000 + i), events=()
        )
    numbers = sorted(world.db.applications)
    world.clock.advance(DEADLINE * 2)
    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == numbers[:500]

    world.clock.advance(timedelta(hours=1))

    assert await world.work_orders.remind_overdue(DEADLINE, INTERVAL) == numbers[500:]


async def test_two_workers_reminding_at_once_send_one_reminder(world: World) -> None:
    number = await registered(world)
    world.clock.advance(DEADLINE + timedelta(hours=1))
    later = FixedClock(world.clock.now() + timedelta(seconds=1))  # the other worker's clock
    other = WorkOrders(FakeTransactions(world.db), later, STAFF_CHAT_ID)

    reminded = await asyncio.gather(
        world.work_orders.remind_overdue(DEADLINE, INTERVAL),
        other.remind_overdue(DEADLINE, INTERVAL),
    )

    assert reminded == [[number], [number]]  # both saw it due before either committed
    assert len([i for i in world.db.outbox_of(number) if i.kind == "reminder"]) == 1


# --- helpers -----------------------------------------------------------------------------------
async def _close(
    world: World,
    number: int,
    target: ApplicationStatus,
    staff: StaffMember,
    note: str = "Closed.",
) -> None:
    if target is DONE:
        await world.work_orders.complete(number, staff, note)
    else:
        await world.work_orders.reject(number, staff, note)
