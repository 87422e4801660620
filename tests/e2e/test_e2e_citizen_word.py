"""Issue 19, the whole loop against the real bot process over the sandbox: register, Take
with a planned date (tomorrow morning) that the card and the subscriber's notice name, Done
answered with a photo (the note as its caption), the subscriber asked whether the supply was
really restored, No with a comment reopens the card, Done again, Yes and a rating of 4, and
an agent's /stats shows the rating.

User 700030; demo subscriber code 100010 (John's FIN, suspended: a restoration; no other
test uses it).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date

from bot.staff.plan_texts import PLANNED_LINE, PLANNED_RESTORE
from tests.e2e.harness import (
    NIGAR,
    RAUF,
    Chat,
    Expect,
    Telegram,
    card_action,
    date_prompt_of,
    has_text,
    inline_buttons,
    shown,
)
from tests.e2e.harness import register as register_application

# The staff group is shared by every e2e test of the session and gets at most 20 messages a
# minute (Telegram's limit, held by the outbox): a message may queue behind the others'.
TIMEOUT = 90.0
ASKED = "Was your water supply actually restored?"
RATING_LINE = "{name}: {average} of 5 ({count} rated)"
REOPENED = "Work order No. {number} is reopened: the subscriber says the work was not done."


def has_data(data: str) -> Expect:
    def check(m: dict[str, Any]) -> bool:
        markup = m.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or []
        return any(b.get("callback_data") == data for row in rows for b in row)

    return Expect(f"a button {data}", check)


async def close(tg: Telegram, staff: int, card_id: int, number: int, note: str, **photo: Any):
    answer = await tg.press(RAUF, staff, card_id, f"wo:done:{number}", wait=TIMEOUT)
    assert answer["answered"], answer
    prompt = await tg.wait(
        staff,
        Expect(
            "the Done prompt", lambda m: bool(m.get("force_reply")) and str(number) in m["text"]
        ),
        last=None,
        timeout=TIMEOUT,
    )
    if photo:
        sent = await tg.send_photo(
            RAUF, chat_id=staff, caption=note, reply_to_message_id=prompt["message_id"]
        )
    else:
        sent = await tg.send_text(
            RAUF, note, chat_id=staff, reply_to_message_id=prompt["message_id"]
        )
    assert sent["delivered"], sent


async def test_planned_date_photo_no_reopens_then_yes_and_a_rating(tg: Telegram) -> None:
    config = await tg.config()
    staff = int(config["staff_chat_id"])
    chat = Chat(tg, 700030, locale="en")
    number = await register_application(chat, code="100010", fin="7KQ2M9X")
    card = await tg.wait(staff, card_action(number, "take"), timeout=TIMEOUT, last=None)
    card_id = card["message_id"]
    this_card = Expect(f"card #{card_id}", lambda m: m["message_id"] == card_id)
    await tg.press(RAUF, staff, card_id, f"wo:take:{number}", wait=TIMEOUT)
    await tg.wait(staff, this_card & card_action(number, "done"), timeout=TIMEOUT, last=None)

    prompt = await tg.wait(staff, date_prompt_of(number, card_id), timeout=TIMEOUT, last=None)
    tomorrow = next(
        b
        for b in inline_buttons(prompt)
        if b["text"] == shown("Tomorrow, {hours}", "az", hours="09:00–13:00")
    )
    day_text = tomorrow["callback_data"].split(":")[2]  # wpl:<number>:<YYYYMMDD>:m
    day = date(int(day_text[:4]), int(day_text[4:6]), int(day_text[6:]))
    await tg.press(RAUF, staff, prompt["message_id"], tomorrow["callback_data"], wait=TIMEOUT)
    planned = dict(start="09:00", end="13:00")
    line = shown(PLANNED_LINE, "az", date=format_date(day, "d MMMM", locale="az"), **planned)
    await tg.wait(staff, this_card & has_text(line), timeout=TIMEOUT, last=None)
    told = shown(PLANNED_RESTORE, "en", date=format_date(day, "d MMMM", locale="en"), **planned)
    await tg.wait(chat.user_id, has_text(told), timeout=TIMEOUT)

    await close(tg, staff, card_id, number, "Valve opened, seal removed", photo=True)
    await tg.wait(
        staff, this_card & has_text("Valve opened, seal removed"), timeout=TIMEOUT, last=None
    )
    ask = await tg.wait(
        chat.user_id,
        has_text(shown(ASKED, "en")) & has_data(f"cz:n:{number}:0:0"),
        timeout=TIMEOUT,
    )
    await tg.press(chat.user_id, chat.user_id, ask["message_id"], f"cz:n:{number}:0:0")
    await tg.wait(chat.user_id, has_data(f"cz:s:{number}:0:0"), timeout=TIMEOUT)
    await tg.send_text(chat.user_id, "Still no water in the kitchen")

    reopened = shown(REOPENED, "az", number=number)  # STAFF_LOCALE of the sandbox
    told = await tg.wait(staff, has_text(reopened), timeout=TIMEOUT, last=None)
    assert "Still no water in the kitchen" in told["text"]
    assert told.get("reply_to") == card_id
    await tg.wait(staff, this_card & card_action(number, "done"), timeout=TIMEOUT, last=None)

    await close(tg, staff, card_id, number, "Valve fully opened")
    ask = await tg.wait(chat.user_id, has_data(f"cz:y:{number}:1:0"), timeout=TIMEOUT)
    await tg.press(chat.user_id, chat.user_id, ask["message_id"], f"cz:y:{number}:1:0")
    await tg.wait(chat.user_id, has_data(f"cz:r:{number}:1:4"), timeout=TIMEOUT)
    await tg.press(chat.user_id, chat.user_id, ask["message_id"], f"cz:r:{number}:1:4")
    await tg.wait(staff, this_card & has_text("★★★★☆"), timeout=TIMEOUT, last=None)

    sent = await tg.send_text(NIGAR, "/stats")
    line = shown(RATING_LINE, "az", name="Rauf Əliyev", average="4.0", count=1)
    await tg.wait(NIGAR, has_text(line), after=sent["message"]["message_id"], timeout=TIMEOUT)
