"""Scenario: right after Take, a separate prompt asks the one who took the order when the
work will be done; the card shows the answer, the subscriber is told the date in their
language, a change is told again, the same choice is not, and no answer changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiogram.types import Message, User
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from tests.dialogs.helpers import I18N
from tests.outbox.harness import STAFF_A, STAFF_B, Harness, make_harness
from workflows.models import EventKind

ASKED = "when will work order"  # the prompt, as the staff locale (en) says it


@pytest.fixture
async def h(settings: Settings, engine: AsyncEngine, tmp_path: Path) -> Harness:
    """The committed catalogues: the notice as each subscriber reads it."""
    return await make_harness(settings, engine, tmp_path, i18n=I18N)


def date_prompt(h: Harness) -> Message:
    chat = h.tg.chats[h.staff_chat_id]
    for data in reversed(list(chat.messages.values())):
        if ASKED in data["text"] or "🗓 Work order №" in data["text"]:
            return h.tg.message(h.staff_chat_id, data["message_id"], h.bot)
    raise AssertionError("no date prompt in the staff group")


def buttons(message: Message) -> list[list[tuple[str, str]]]:
    assert message.reply_markup is not None
    return [
        [(b.text, b.callback_data or "") for b in row]
        for row in message.reply_markup.inline_keyboard
    ]


async def press_label(h: Harness, message: Message, label: str, user: User = STAFF_A) -> Any:
    for row in buttons(message):
        for text, data in row:
            if text == label:
                return await h.press(message, data, user)
    raise AssertionError(f"no button {label!r}: {buttons(message)}")


async def taken(h: Harness, locale: str = "ru") -> int:
    number = await h.register(locale=locale, chat_id=1001)
    await h.deliver()
    await h.press_button(number, "Take", STAFF_A)
    return number


def planned_notices(h: Harness) -> list[str]:
    return [r.method.text for r in h.tg.sent(1001) if "🗓" in r.method.text]


async def test_take_asks_for_the_date_separately_and_the_card_keeps_done_and_reject(
    h: Harness,
) -> None:
    number = await taken(h)
    await h.deliver()

    prompt = date_prompt(h)
    assert f"Elvin Məmmədov, when will work order №\u00a0{number} be done?" in prompt.text
    stored = h.tg.chats[h.staff_chat_id].messages[prompt.message_id]
    chat_id, card_id = await h.card_ref(number)
    assert stored["reply_to_message"]["message_id"] == card_id  # a reply to the card
    assert [[text for text, _ in row] for row in buttons(prompt)] == [
        ["Today, 09:00–13:00", "Today, 14:00–18:00"],
        ["Tomorrow, 09:00–13:00", "Tomorrow, 14:00–18:00"],
        ["📅 Another date"],
    ]
    assert all(len(data.encode()) <= 64 for row in buttons(prompt) for _, data in row)
    card = await h.card(number)
    assert [b.text for b in card.reply_markup.inline_keyboard[0]] == ["✅ Done", "❌ Reject"]
    assert "Planned:" not in h.card_text(chat_id, card_id)  # unanswered: nothing else changes
    assert planned_notices(h) == []


async def test_the_choice_goes_on_the_card_and_the_subscriber_is_told_in_russian(
    h: Harness,
) -> None:
    number = await taken(h)

    answer = await press_label(h, date_prompt(h), "Tomorrow, 09:00–13:00")
    await h.deliver()

    assert answer.text == "Saved; the subscriber is told."
    chat_id, card_id = await h.card_ref(number)
    assert "Planned: 28 November, 09:00–13:00" in h.card_text(chat_id, card_id)
    assert planned_notices(h) == [
        "<b>🗓 Ваше водоснабжение будет приостановлено 28 ноября, с 09:00 до 13:00.</b>\n"
        f"Заявление №\u00a0{number}"
    ]
    prompt = date_prompt(h)
    assert prompt.text == (
        f"🗓 Work order №\u00a0{number}: Planned: 28 November, 09:00–13:00 (Elvin Məmmədov)."
    )
    assert [[text for text, _ in row] for row in buttons(prompt)] == [["🗓 Change the date"]]


async def test_a_change_notifies_again_and_the_same_choice_does_not(h: Harness) -> None:
    number = await taken(h)
    await press_label(h, date_prompt(h), "Today, 14:00–18:00")
    await h.deliver()

    again = await press_label(h, date_prompt(h), "🗓 Change the date")
    assert again.text is None  # the choice is shown again
    same = await press_label(h, date_prompt(h), "Today, 14:00–18:00")
    assert same.text == "This is already the planned date."
    await h.deliver()
    assert len(planned_notices(h)) == 1

    await press_label(h, date_prompt(h), "Tomorrow, 14:00–18:00")
    await h.deliver()

    notices = planned_notices(h)
    assert len(notices) == 2
    assert "27 ноября, с 14:00 до 18:00" in notices[0]
    assert "28 ноября, с 14:00 до 18:00" in notices[1]
    chat_id, card_id = await h.card_ref(number)
    assert "Planned: 28 November, 14:00–18:00" in h.card_text(chat_id, card_id)
    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None
    assert [e.kind for e in app.events].count(EventKind.PLANNED) == 2


async def test_only_the_one_who_took_it_may_choose(h: Harness) -> None:
    number = await taken(h)

    refused = await press_label(h, date_prompt(h), "Today, 09:00–13:00", STAFF_B)
    await h.deliver()

    assert refused.text == f"Work order №\u00a0{number} is already taken by Elvin Məmmədov."
    assert refused.show_alert
    assert planned_notices(h) == []


async def test_another_date_then_a_window_in_azerbaijani(h: Harness) -> None:
    await taken(h, locale="az")

    await press_label(h, date_prompt(h), "📅 Another date")
    days = [text for row in buttons(date_prompt(h)) for text, _ in row]
    assert len(days) == 13 + 1  # the 29th of November to the 11th of December, and Back
    assert days[0] == "Sun, Nov 29" and days[-2] == "Fri, Dec 11" and days[-1] == "« Back"
    await press_label(h, date_prompt(h), "Fri, Dec 11")
    assert [text for row in buttons(date_prompt(h)) for text, _ in row] == [
        "Morning, 09:00–13:00",
        "Afternoon, 14:00–18:00",
        "« Back",
    ]
    await press_label(h, date_prompt(h), "Afternoon, 14:00–18:00")
    await h.deliver()

    (notice,) = planned_notices(h)
    assert "Sizin su təchizatınız 11 dekabr tarixində, saat 14:00 ilə 18:00 arasında" in notice


async def test_the_notice_in_english(h: Harness) -> None:
    await taken(h, locale="en")

    await press_label(h, date_prompt(h), "Today, 09:00–13:00")
    await h.deliver()

    (notice,) = planned_notices(h)
    assert "Your water supply will be suspended on 27 November, between 09:00 and 13:00." in (
        notice
    )


async def test_a_forged_date_beyond_14_days_is_refused(h: Harness) -> None:
    number = await taken(h)

    answer = await h.press(date_prompt(h), f"wpl:{number}:20261212:m", STAFF_A)

    assert answer.text == "Choose a date from today to 14 days ahead."
    assert planned_notices(h) == []
