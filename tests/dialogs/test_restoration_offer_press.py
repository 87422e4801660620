"""The restoration offer's button (issue 19, item 6), through the real dispatcher: a done
suspension with an "until" date, the clock three days before it, the job's one offer; one
press opens the application's summary filled in from the suspension, "Davam et" files a
restoration, a debt stops it with the manual's warning, and another account's press is
answered like a number that does not exist."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from aiogram.types import Message
from sqlalchemy import select

from bot.restoration.handlers import NO_REASON, NOT_SUSPENDED, REGISTRY_DOWN
from bot.restoration.texts import offer_keyboard
from dialogs.common import ERRORS, ErrorId
from storage.models import OutboxRow
from tests.dialogs.helpers import (
    DEBT_WARNING,
    REGISTERED,
    STATES,
    World,
    applications,
    check_markup,
    current,
    fill_to,
    press,
    press_update,
    set_debt,
    state_of,
    tr,
    url_buttons,
    widget_ids,
)
from tests.support import BOT_USER, Subscriber
from workflows.models import StaffMember

ALI = StaffMember(user_id=501, name="Ali")
THREE_DAYS_BEFORE = datetime(2026, 12, 17, 6, 0, tzinfo=UTC)  # 10:00 in Baku
DESCRIPTION = "Restoration after the temporary suspension No. {number}"
NOT_FOUND = "Application No. {number} was not found."
_ids = itertools.count(1)


async def offered_suspension(world: World, user: Subscriber) -> int:
    """The subscriber's suspension until 20.12.2026, done; the job offers the restoration."""
    await fill_to(user, "summary")
    await press(user, "ed_until")
    await user.send("20.12.2026")
    await press(user, "confirm")
    state, data = await current(user)
    assert state == STATES["registered"]
    number = int(data["number"])
    await world.services.work_orders.take(number, ALI)
    await world.services.work_orders.complete(number, ALI, "Sealed.")
    world.services.clock.at = THREE_DAYS_BEFORE  # type: ignore[attr-defined]
    assert await world.services.restorations.offer_due() == [number]
    assert world.engine is not None
    async with world.engine.connect() as conn:
        keys = (await conn.execute(select(OutboxRow.dedupe_key, OutboxRow.recipient))).all()
    assert (f"restore_offer:{number}", str(user.user.id)) in keys
    return number


async def press_offer(user: Subscriber, number: int) -> Message | None:
    """Press "Apply for restoration" on the offer of ``number`` in ``user``'s chat."""
    markup = offer_keyboard(number, str)
    check_markup(markup)
    [[button]] = markup.inline_keyboard
    offer = Message(
        message_id=90_000 + next(_ids),
        date=datetime.now(UTC),
        chat=user.chat,
        from_user=BOT_USER,
        text="offer",
        reply_markup=markup,
    )
    user.mm.reset_history()
    await user.dp.feed_update(user.bot, press_update(user, str(button.callback_data), offer))
    return user.last if user.mm.sent_messages else None


def last_answer(world: World) -> tuple[str | None, bool | None]:
    answer = world.session.of("AnswerCallbackQuery")[-1]
    return answer.text, answer.show_alert


async def test_one_press_opens_the_summary_filled_in_and_continue_files_it(
    world: World,
) -> None:
    user = world.subscriber(100001)
    number = await offered_suspension(world, user)

    summary = await press_offer(user, number)

    assert summary is not None
    state, data = await current(user)
    assert state == STATES["summary"]
    assert (data["code"], data["kind"], data["reason"]) == ("100001", "restore", "returned")
    assert (data["phone"], data["email"]) == ("+994501234567", "user@example.com")
    assert data["description"] == tr(DESCRIPTION, number=number)
    assert tr("Type: {kind_label}", kind_label=tr("Restoration")) in summary.text
    assert tr("Reason: {reason}", reason="Geri qayıtmışam") in summary.text
    assert tr("Subscriber code: {code}", code="100001") in summary.text
    assert "ed_until" not in widget_ids(summary)  # a restoration says no date
    assert last_answer(world) == (None, None)  # the press is answered, quietly

    done = await press(user, "confirm")

    assert done.text == tr(REGISTERED, number=number + 1)
    rows = await applications(world.engine)
    restoration = rows[-1]
    assert (restoration.kind, restoration.reason_code) == ("restore", "returned")
    assert (restoration.subscriber_code, restoration.fin) == ("100001", "5ABC12D")
    assert restoration.description == tr(DESCRIPTION, number=number)
    assert restoration.suspend_until is None


async def test_the_fields_can_be_edited_on_the_summary(world: World) -> None:
    user = world.subscriber(100001)
    number = await offered_suspension(world, user)
    await press_offer(user, number)

    await press(user, "ed_descr")
    summary = await user.send("Back home on the 18th.")

    assert await state_of(user) == STATES["summary"]
    edited = tr("Description: {description}", description="Back home on the 18th.")
    assert edited in summary.text
    await press(user, "confirm")
    assert (await applications(world.engine))[-1].description == "Back home on the 18th."


async def test_a_debt_stops_it_exactly_as_in_the_manual(world: World) -> None:
    user = world.subscriber(100001)
    number = await offered_suspension(world, user)
    await set_debt(world.engine, "100001", "12.50")

    summary = await press_offer(user, number)  # the debt is checked on "Davam et"
    assert summary is not None and await state_of(user) == STATES["summary"]
    debt = await press(user, "confirm")

    assert await state_of(user) == STATES["debt"]
    assert tr(DEBT_WARNING) in debt.text
    assert url_buttons(debt) == {tr("Pay the debt"): "https://pay.example/az?code=100001"}
    assert len(await applications(world.engine)) == 1  # nothing filed

    await set_debt(world.engine, "100001", "0")
    done = await press(user, "recheck")
    assert done.text == tr(REGISTERED, number=number + 1)


async def test_another_account_is_answered_like_an_unknown_number(world: World) -> None:
    owner = world.subscriber(100001)
    number = await offered_suspension(world, owner)
    other = world.subscriber(100002)  # the same FIN typed, another Telegram account
    await other.send("/start")
    await other.send("5ABC12D")

    assert await press_offer(other, number) is None
    assert last_answer(world) == (tr(NOT_FOUND, number=number), True)
    assert await state_of(other) == STATES["menu"]  # nothing opened
    assert await press_offer(other, 999_999) is None
    assert last_answer(world) == (tr(NOT_FOUND, number=999_999), True)
    assert len(await applications(world.engine)) == 1


async def test_the_press_once_the_code_is_active_again_or_busy(world: World) -> None:
    user = world.subscriber(100001)
    number = await offered_suspension(world, user)
    await press_offer(user, number)
    await press(user, "confirm")  # the restoration is filed: the code is busy now

    assert await press_offer(user, number) is None
    busy = tr(
        "Subscriber {code} already has an open application, No. {number}. You can follow it "
        "in “Check the application's status”.",
        code="100001",
        number=number + 1,
    )
    assert last_answer(world) == (busy, True)

    await world.services.work_orders.take(number + 1, ALI)
    await world.services.work_orders.complete(number + 1, ALI, "Open again.")
    assert await press_offer(user, number) is None
    gone = tr(
        "The water supply of subscriber code {code} is not suspended any more: no restoration "
        "is needed.",
        code="100001",
    )
    assert last_answer(world) == (gone, True)


@pytest.mark.parametrize("locale", ["az", "ru", "en"])
def test_every_refusal_fits_an_alert(locale: str) -> None:
    """Telegram shows at most 200 characters in a press's alert."""
    messages = [NOT_SUSPENDED, REGISTRY_DOWN, NO_REASON, NOT_FOUND]
    messages += [ERRORS[ErrorId.CODE_OPEN], ERRORS[ErrorId.CODE_OPEN_HIDDEN]]
    for msgid in messages:
        text = tr(msgid, locale, code="1" * 15, number=10**12)
        assert 0 < len(text) <= 200, text
