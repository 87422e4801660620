"""The planned date through the real bot process over the sandbox: Take, the separate date
prompt in the staff group, a choice, the card's line and the subscriber's notice naming it.

User 700019; demo subscriber code 100002 (suspended: a restoration; owner FIN 2RST4UV; no
other test files an application on it).
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from bot.staff.plan_texts import PLANNED_LINE, PLANNED_RESTORE
from tests.e2e.harness import (
    RAUF,
    Chat,
    Expect,
    Telegram,
    card_action,
    date_prompt_of,
    has_text,
    inline_buttons,
    register,
    shown,
)

# The staff group is shared by every e2e test of the session and gets at most 20 messages a
# minute (Telegram's limit, held by the outbox): a message may queue behind the others'.
CARD_TIMEOUT = 90.0


async def test_take_then_a_planned_date_reaches_the_card_and_the_subscriber(
    tg: Telegram,
) -> None:
    staff = int((await tg.config())["staff_chat_id"])
    chat = Chat(tg, 700019, locale="ru")
    number = await register(chat, code="100002", fin="2RST4UV")
    card = await tg.wait(staff, card_action(number, "take"), timeout=CARD_TIMEOUT, last=None)

    answer = await tg.press(
        RAUF, staff, card["message_id"], f"wo:take:{number}", wait=CARD_TIMEOUT
    )
    assert answer["answered"], answer
    prompt = await tg.wait(
        staff, date_prompt_of(number, card["message_id"]), timeout=CARD_TIMEOUT, last=None
    )
    tomorrow = next(
        b
        for b in inline_buttons(prompt)
        if b["text"] == shown("Tomorrow, {hours}", "az", hours="09:00–13:00")
    )
    day_text = tomorrow["callback_data"].split(":")[2]  # wpl:<number>:<YYYYMMDD>:m
    day = date(int(day_text[:4]), int(day_text[4:6]), int(day_text[6:]))

    answer = await tg.press(
        RAUF, staff, prompt["message_id"], tomorrow["callback_data"], wait=CARD_TIMEOUT
    )
    assert answer["answered"], answer

    this_card = Expect("the card", lambda m: m["message_id"] == card["message_id"])
    line = shown(
        PLANNED_LINE,
        "az",
        date=format_date(day, "d MMMM", locale="az"),
        start="09:00",
        end="13:00",
    )
    await tg.wait(staff, this_card & has_text(line), timeout=CARD_TIMEOUT, last=None)
    told = shown(
        PLANNED_RESTORE,
        "ru",
        date=format_date(day, "d MMMM", locale="ru"),
        start="09:00",
        end="13:00",
    )
    await tg.wait(chat.user_id, has_text(told), timeout=CARD_TIMEOUT)
