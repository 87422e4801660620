"""Issue 16, item 8: a forged press in the staff group gets a polite answer, never a
traceback, and changes no work order.

A staff member's client can send any callback data (up to 64 bytes) for the card: every
action with every kind of forged number (empty, words, signs, 0, one past BigInteger,
beyond any column, digits ``int()`` would take but the bot never writes), malformed and
unknown prefixes, the subscriber dialogs' data with an intent id that is no one's, and the
agents' page buttons. Each press is answered once, with a text; nothing is logged as an
error, nothing is posted in the group (no FIN question), and the order, its history and the
outbox stay as they were.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.types import Message
from aiogram_dialog.utils import encode_reply_callback

from bot.commands import BUTTON_GONE
from tests.outbox.harness import STAFF_A, STRANGER, Harness

NUMBERS = (
    "",
    "abc",
    "-1",
    "0",
    " 1",
    "1_0",
    "01",
    "1.0",
    str(2**63),
    str(10**30),
    "\u0663",  # ARABIC-INDIC DIGIT THREE
    "\uff11",  # FULLWIDTH DIGIT ONE
)
SHAPES = (
    "wo",
    "wo:",
    "wo:take",
    "wo:TAKE:1",
    "wo:close:1",
    "wo:take:1:2",
    "wop:cancel",
    "wop:close:1",
    "zz:1",
    "x" * 64,
    "Ω" * 32,
    "Zz9Zz9Zz\x1dback",  # a subscriber dialog's data with an intent id that is no one's
    "Zz9Zz9Zz\x1d",
    "\x1dback",
    "sp:s:0:1",  # the agents' page buttons: not the staff group's
    "sp:o:abc:",
    "sp:zz:0:",
)


def forged_presses(number: int) -> list[str]:
    """Every action's forged numbers, the real number in malformed shapes, and junk."""
    presses = [f"wo:{action}:{n}" for action in ("take", "done", "reject") for n in NUMBERS]
    presses += [f"wop:cancel:{n}" for n in NUMBERS]
    # issue 19's buttons: the planned date, the withdrawal request, and the subscriber's
    # restoration offer and word pressed in the group
    presses += [f"wpl:{n}:20261212:m" for n in NUMBERS]
    presses += [f"wpl:{number}:{day}" for day in ("20261232:m", "2026121:m", "20261212:x", ":")]
    presses += [f"wdr:{action}:{n}" for action in ("accept", "decline") for n in NUMBERS]
    presses += [f"ro:{n}" for n in NUMBERS] + [f"cz:y:{number}:0:0", f"cz:r:{number}:0:9"]
    presses += [f"wo:take:{number}{tail}" for tail in (" ", "_0", ".0", ":x")]
    return presses + list(SHAPES)


async def stored(h: Harness, number: int) -> tuple[Any, ...]:
    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None
    rows = [(r.id, r.kind, r.status) for r in await h.rows()]
    return app.status, [(e.kind, e.actor) for e in app.events], rows


def group_messages(h: Harness) -> list[str]:
    return [m["text"] for m in h.tg.chats[h.staff_chat_id].messages.values()]


@pytest.mark.parametrize("presser", [STAFF_A, STRANGER], ids=["staff", "stranger"])
async def test_forged_presses_on_a_card_are_answered_and_change_nothing(
    h: Harness, caplog: pytest.LogCaptureFixture, presser: Any
) -> None:
    number = await h.register(chat_id=1001)
    await h.deliver()
    card = await h.card(number)
    before = await stored(h, number)
    posted = group_messages(h)
    caplog.set_level(logging.INFO)

    for data in forged_presses(number):
        assert len(data.encode()) <= 64, data
        answer = await h.press(card, data, presser)  # asserts it was answered, once

        assert answer.text, f"{data!r}: answered without a word"
        assert "Traceback" not in answer.text
        assert await stored(h, number) == before, data
        assert group_messages(h) == posted, data

    bad = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, bad


async def test_a_malformed_press_says_the_button_is_gone(h: Harness) -> None:
    number = await h.register(chat_id=1001)
    await h.deliver()
    card = await h.card(number)

    for data in (f"wo:take:{2**63}", "wo:take:abc", "wop:cancel:0", "Zz9Zz9Zz\x1dback"):
        answer = await h.press(card, data, STAFF_A)
        assert answer.text == BUTTON_GONE, data  # the test catalogues are the msgids


async def test_the_real_buttons_still_work_after_forged_presses(h: Harness) -> None:
    """The control: the checks refuse only what the bot never sends."""
    number = await h.register(chat_id=1001)
    await h.deliver()
    card = await h.card(number)
    for data in forged_presses(number):
        await h.press(card, data, STAFF_A)

    taken = await h.press_button(number, "Take", STAFF_A)

    assert taken.text == f"You took work order No. {number}."


async def test_a_typed_message_posing_as_a_card_button_does_nothing(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """aiogram-dialog turns a message whose text ends in a reply button's invisible data
    into a "press"; the card's buttons are inline, so such a message is not one of them."""
    number = await h.register(chat_id=1001)
    await h.deliver()
    card = await h.card(number)
    before = await stored(h, number)
    posted = group_messages(h)
    caplog.set_level(logging.INFO)

    for data in (f"wo:take:{number}", f"wop:cancel:{number}", "sp:o:0:", "zz:1"):
        message = Message(
            message_id=20_000 + len(data),
            date=datetime.now(UTC),
            chat=card.chat,
            from_user=STAFF_A,
            text="ok" + encode_reply_callback(data),
        )
        await h.feed(message=message)

    assert await stored(h, number) == before
    assert group_messages(h) == posted
    bad = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, bad


async def test_a_note_ending_in_invisible_button_data_is_still_the_note(h: Harness) -> None:
    """No reply keyboard is shown in the group, so an invisible tail there is typed text:
    the note is recorded, not taken for a press and lost."""
    number = await h.register(chat_id=1001)
    await h.deliver()
    await h.press_button(number, "Take", STAFF_A)
    await h.deliver()
    await h.press_button(number, "Done", STAFF_A)

    await h.reply(h.last_prompt(), STAFF_A, "Su bağlandı." + encode_reply_callback("zz:1"))

    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None
    assert app.status.value == "done"
    assert app.events[-1].note == "Su bağlandı."
