"""The manual's rules for a new application (§§5-8 of ``manual.en.md``), on the fakes.

Each test is named after the manual's paragraph it checks. The use cases run on in-memory
fakes of their ports: no aiogram, no database, no clock but a fixed one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.workflows.world import (
    FIN,
    OTHER_FIN,
    RESTORE_REASONS,
    STAFF_CHAT_ID,
    START,
    SUSPEND_REASONS,
    USER,
    World,
    application,
    draft,
    reason,
    subscriber,
)
from workflows import errors
from workflows.models import ApplicationKind, Event, EventKind, ServiceState, Subscriber
from workflows.ports import OutboxItem, UserProfile


def assert_nothing_registered(world: World) -> None:
    assert world.db.applications == {}
    assert world.db.events == {}
    assert world.db.outbox == {}


# --- §6: only meterless subscribers may apply ------------------------------------------------
@pytest.mark.parametrize(
    ("registered", "fin", "refusal"),
    [
        (subscriber("100004", meterless=False), FIN, errors.MeteredSubscriber),
        (None, FIN, errors.SubscriberNotFound),
        (subscriber("100004", owner_fin=FIN), OTHER_FIN, errors.OwnerMismatch),
    ],
    ids=["metered", "unknown", "another owner's"],
)
async def test_6_refused_at_the_first_step_and_again_on_davam_et(
    world: World, registered: Subscriber | None, fin: str, refusal: type[Exception]
) -> None:
    if registered is not None:
        world.db.add_subscribers(registered)

    with pytest.raises(refusal) as refused:
        await world.journey.check_subscriber("100004", fin, USER)
    assert refused.value.args == ("100004",)
    with pytest.raises(refusal):
        await world.journey.submit(draft("100004", fin=fin))
    assert_nothing_registered(world)


async def test_6_only_meterless_subscribers_may_apply_refused_again_on_davam_et(
    world: World,
) -> None:
    # The meter was fitted after the first step: "Davam et" asks the registry again.
    world.db.add_subscribers(subscriber("100001"))
    await world.journey.check_subscriber("100001", FIN, USER)
    world.db.add_subscribers(subscriber("100001", meterless=False))

    with pytest.raises(errors.MeteredSubscriber):
        await world.journey.submit(draft("100001"))
    assert_nothing_registered(world)


async def test_6_the_owner_of_a_subscriber_may_apply(world: World) -> None:
    world.db.add_subscribers(subscriber("100005", owner_fin=FIN))

    assert (await world.journey.check_subscriber("100005", FIN, USER)).subscriber.code == "100005"
    assert await world.journey.submit(draft("100005", fin=FIN)) > 0


# --- §6: the reason is chosen from the list, and it fits the service state ---------------------
async def test_6_the_list_offers_suspension_reasons_while_the_service_is_active(
    world: World,
) -> None:
    world.db.add_subscribers(subscriber("100001", state=ServiceState.ACTIVE))

    assert await world.offered("100001") == set(SUSPEND_REASONS)


async def test_6_the_list_offers_restoration_reasons_while_the_service_is_suspended(
    world: World,
) -> None:
    world.db.add_subscribers(subscriber("100002", state=ServiceState.SUSPENDED))

    assert await world.offered("100002") == set(RESTORE_REASONS)


async def test_6_the_list_keeps_the_catalogue_order_and_leaves_inactive_reasons_out(
    world: World,
) -> None:
    world.db.add_reasons([reason("retired", ApplicationKind.SUSPEND)], active=False)

    codes = [r.code for r in await world.journey.reasons(ApplicationKind.SUSPEND)]
    assert codes == list(SUSPEND_REASONS)


@pytest.mark.parametrize(
    ("state", "foreign_reason"),
    [(ServiceState.ACTIVE, "returned"), (ServiceState.SUSPENDED, "absence")],
)
async def test_6_davam_et_refuses_a_reason_that_does_not_fit_the_service_state(
    world: World, state: ServiceState, foreign_reason: str
) -> None:
    world.db.add_subscribers(subscriber("100001", state=state))

    with pytest.raises(errors.ReasonNotAllowed) as refused:
        await world.journey.submit(draft("100001", foreign_reason))
    assert refused.value.args == (foreign_reason,)
    assert_nothing_registered(world)


async def test_6_davam_et_refuses_a_reason_outside_the_list(world: World) -> None:
    world.db.add_subscribers(subscriber("100001"))

    with pytest.raises(errors.ReasonNotAllowed):
        await world.journey.submit(draft("100001", "because"))
    assert_nothing_registered(world)


async def test_6_davam_et_checks_the_reason_again_when_the_state_changed_meanwhile(
    world: World,
) -> None:
    # The form was filled while the service was active (a suspension reason was chosen);
    # before "Davam et" the registry records a suspension: the reason is stale.
    world.db.add_subscribers(subscriber("100001", state=ServiceState.ACTIVE))
    assert "absence" in await world.offered("100001")
    world.db.add_subscribers(subscriber("100001", state=ServiceState.SUSPENDED))

    with pytest.raises(errors.ReasonNotAllowed):
        await world.journey.submit(draft("100001", "absence"))
    assert_nothing_registered(world)
    # choosing again from the list that now fits registers a restoration
    number = await world.journey.submit(draft("100001", "returned"))
    assert world.db.application(number).kind is ApplicationKind.RESTORE


# --- §7: a debt stops the application ----------------------------------------------------------
@pytest.mark.parametrize("debt", ["12.50", "1", "0.01"])
async def test_7_a_subscriber_with_a_debt_is_stopped(world: World, debt: str) -> None:
    world.db.add_subscribers(subscriber("100003", debt=debt))

    with pytest.raises(errors.DebtOutstanding) as at_check:
        await world.journey.check_subscriber("100003", FIN, USER)
    with pytest.raises(errors.DebtOutstanding) as on_submit:
        await world.journey.submit(draft("100003"))

    for refused in (at_check.value, on_submit.value):
        assert (refused.subscriber_code, refused.debt) == ("100003", Decimal(debt))
        assert refused.args == ("100003", Decimal(debt))
    assert_nothing_registered(world)


async def test_7_a_debt_that_appears_after_the_first_step_stops_davam_et(world: World) -> None:
    world.db.add_subscribers(subscriber("100001"))
    await world.journey.check_subscriber("100001", FIN, USER)
    world.db.add_subscribers(subscriber("100001", debt="0.01"))

    with pytest.raises(errors.DebtOutstanding):
        await world.journey.submit(draft("100001"))
    assert_nothing_registered(world)


async def test_7_after_the_debt_is_paid_the_application_is_registered(world: World) -> None:
    world.db.add_subscribers(subscriber("100003", debt="12.50"))
    with pytest.raises(errors.DebtOutstanding):
        await world.journey.submit(draft("100003"))
    world.db.add_subscribers(subscriber("100003", debt="0.00"))

    assert await world.journey.submit(draft("100003")) > 0


# --- §8: without a debt the application is registered, with its number -----------------------
async def test_8_a_meterless_subscriber_without_debt_is_registered_with_a_number(
    world: World,
) -> None:
    world.db.add_subscribers(subscriber("100001"), subscriber("100002"))

    first = await world.journey.submit(draft("100001", user_id=1001))
    second = await world.journey.submit(draft("100002", user_id=1002))

    assert 0 < first < second
    registered = Event(at=START, kind=EventKind.REGISTERED, actor="tg:1001")
    # no owner FIN on record: the account's Telegram-verified phone is the registry's
    expected = replace(application(first, events=(registered,)), identified_by="phone")
    assert world.db.application(first) == expected


async def test_9_registration_owes_the_staff_group_the_work_order_card(world: World) -> None:
    world.db.add_subscribers(subscriber("100001"))

    number = await world.journey.submit(draft("100001"))

    assert world.db.outbox_of(number) == [
        OutboxItem("staff_card", "telegram", str(STAFF_CHAT_ID), f"card:{number}", number)
    ]
    assert world.db.outbox[f"card:{number}"].created_at == START
    assert world.db.commits == 1


# --- one open application per subscriber -----------------------------------------------------
async def test_one_open_application_per_subscriber_is_told_at_the_first_step(
    world: World,
) -> None:
    world.db.add_subscribers(subscriber("100001"))
    number = await world.journey.submit(draft("100001"))

    with pytest.raises(errors.OpenApplicationExists) as refused:
        await world.journey.check_subscriber("100001", FIN, USER)
    assert refused.value.number == number
    assert refused.value.args == (number,)


async def test_one_open_application_per_subscriber_holds_on_davam_et(world: World) -> None:
    # Two forms filled side by side (two chats): the second "Davam et" is refused with the
    # number of the open one, and nothing of it is stored.
    world.db.add_subscribers(subscriber("100001"))
    number = await world.journey.submit(draft("100001", user_id=1001))

    with pytest.raises(errors.OpenApplicationExists) as refused:
        await world.journey.submit(draft("100001", user_id=1002))

    assert refused.value.number == number
    assert list(world.db.applications) == [number]
    assert len(world.db.outbox) == 1


async def test_one_open_application_per_subscriber_is_checked_before_the_debt(
    world: World,
) -> None:
    world.db.add_subscribers(subscriber("100001"))
    number = await world.journey.submit(draft("100001"))
    world.db.add_subscribers(subscriber("100001", debt="5"))

    with pytest.raises(errors.OpenApplicationExists) as refused:
        await world.journey.check_subscriber("100001", FIN, USER)
    assert refused.value.number == number


# --- §5: the status of one's own applications --------------------------------------------------
async def test_5_status_lists_the_applicants_own_applications_newest_first(
    world: World,
) -> None:
    world.db.add_subscribers(subscriber("100001"), subscriber("100002"), subscriber("100006"))
    first = await world.journey.submit(draft("100001"))
    second = await world.journey.submit(draft("100002"))
    await world.journey.submit(draft("100006", fin=OTHER_FIN, user_id=USER + 1))

    mine = await world.journey.applications_of(USER)
    assert [app.number for app in mine] == [second, first]
    assert [app.number for app in await world.journey.applications_of(USER, limit=1)] == [second]


async def test_5_status_of_another_accounts_application_is_not_found(world: World) -> None:
    world.db.add_subscribers(subscriber("100001"))
    number = await world.journey.submit(draft("100001"))

    assert (await world.journey.application_of(USER, number)).application.number == number
    with pytest.raises(errors.ApplicationNotFound) as refused:
        await world.journey.application_of(USER + 1, number)  # another account
    assert refused.value.args == (number,)
    with pytest.raises(errors.ApplicationNotFound):
        await world.journey.application_of(USER, number + 1)


async def test_5_status_shows_the_20_newest_applications(world: World) -> None:
    codes = [str(200000 + i) for i in range(21)]
    world.db.add_subscribers(*(subscriber(code) for code in codes))
    numbers = [await world.journey.submit(draft(code)) for code in codes]

    shown = await world.journey.applications_of(USER)

    assert [app.number for app in shown] == numbers[:0:-1]


async def test_6_the_reason_list_is_read_again_after_a_minute(world: World) -> None:
    # The catalogue is data an operator may change; the bot keeps it for one minute.
    before = await world.journey.reasons(ApplicationKind.SUSPEND)
    world.db.add_reasons([reason("drought", ApplicationKind.SUSPEND)])

    world.clock.advance(timedelta(seconds=59))
    assert await world.journey.reasons(ApplicationKind.SUSPEND) == before
    world.clock.advance(timedelta(seconds=1))
    codes = [r.code for r in await world.journey.reasons(ApplicationKind.SUSPEND)]
    assert codes == [*SUSPEND_REASONS, "drought"]


async def test_2_the_profile_remembers_the_fin_and_the_language(world: World) -> None:
    assert await world.journey.profile(7) == UserProfile(telegram_user_id=7)
    await world.journey.save_profile(UserProfile(7, locale="ru", fin=FIN))

    assert await world.journey.profile(7) == UserProfile(7, locale="ru", fin=FIN)
