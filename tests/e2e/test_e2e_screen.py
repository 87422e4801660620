"""What a person was told stays on the screen (issue 18, finding 4), read in the sandbox's history.

Against ``python bot.py`` without a token (fixture ``sandbox_app``), one subscriber's day: the
confirmation with the number, then "🏠 Main menu" under it; a staff member takes the order and
the notice arrives below the menu; the subscriber presses the menu's (old) status button; the
staff member answers the Done prompt. Every assertion reads the chats' message history (each
message with its earlier versions), never a screenshot.

User 700031; code 100005, the demo subscriber whose owner FIN on record is the default FIN, so
the form needs no proof by phone. No other test registers it (an open application would block
the code for the next one).
"""

from __future__ import annotations

from typing import Any

from tests.e2e.harness import (
    NOTICE_TAKEN,
    RAUF,
    Chat,
    Expect,
    Telegram,
    button_for,
    card_action,
    has_text,
    has_widget,
    register,
    shown,
)

# The staff group is shared by every e2e test of the session and gets at most 20 messages a
# minute (Telegram's limit, held by the outbox): a message may queue behind the others'.
CARD_TIMEOUT = 90.0
RECORDED = "✅ Work order No. {number} is done; the result is recorded."


async def message(tg: Telegram, chat_id: int, message_id: int) -> dict[str, Any]:
    """The message as the chat shows it now, with its earlier versions in ``history``."""
    found = [m for m in await tg.recent(chat_id, last=None) if m["message_id"] == message_id]
    assert found, f"message #{message_id} is gone from chat {chat_id}"
    return found[0]


def texts_since(then: dict[str, Any], now: dict[str, Any]) -> set[str]:
    """Every text the message ``then`` has shown from then to ``now`` (the same message)."""
    versions = (now.get("history") or [])[len(then.get("history") or []) :]
    return {now["text"], *(version["text"] for version in versions)}


async def test_what_the_subscriber_was_told_stays_on_the_screen(tg: Telegram) -> None:
    chat = Chat(tg, 700031, locale="en")
    number = await register(chat, code="100005")
    confirmation = chat.seen[-1]
    assert str(number) in confirmation["text"]

    # "🏠 Main menu" under the confirmation: the menu is a new message below it
    menu = await chat.press("__cancel__", has_widget("new_app"))
    assert menu["message_id"] > confirmation["message_id"]
    kept = await message(tg, chat.user_id, confirmation["message_id"])
    assert texts_since(confirmation, kept) == {confirmation["text"]}  # never edited away
    assert not kept.get("reply_markup")  # only its buttons went

    # a staff member takes the order: the notice arrives below the menu
    staff = int((await tg.config())["staff_chat_id"])
    card = await tg.wait(staff, card_action(number, "take"), timeout=CARD_TIMEOUT, last=None)
    taken = await tg.press(RAUF, staff, card["message_id"], f"wo:take:{number}", wait=20)
    assert taken["answered"], taken
    notice = await tg.wait(
        chat.user_id, has_text(shown(NOTICE_TAKEN, "en", number=number)), timeout=CARD_TIMEOUT
    )
    assert notice["message_id"] > menu["message_id"]

    # the menu's status button, above the notice: the next window comes below the notice
    pressed = await tg.press(
        chat.user_id,
        chat.user_id,
        menu["message_id"],
        button_for(menu, "status")["callback_data"],
        wait=20,
    )
    assert pressed["answered"], pressed
    listing = await chat.expect(has_widget("to_lookup"), after=notice["message_id"])
    assert listing["message_id"] > notice["message_id"]
    old_menu = await message(tg, chat.user_id, menu["message_id"])
    assert texts_since(menu, old_menu) == {menu["text"]}
    still = await message(tg, chat.user_id, notice["message_id"])
    assert texts_since(notice, still) == {notice["text"]}

    # the staff member's note: the prompt keeps its question, the answer replies to the note
    this_card = Expect("the card", lambda m: m["message_id"] == card["message_id"])
    await tg.wait(staff, this_card & card_action(number, "done"), timeout=CARD_TIMEOUT, last=None)
    done = await tg.press(RAUF, staff, card["message_id"], f"wo:done:{number}", wait=20)
    assert done["answered"], done
    prompt = await tg.wait(
        staff,
        Expect(
            "the Done prompt",
            lambda m: bool(m.get("force_reply")) and m.get("reply_to") == card["message_id"],
        ),
        last=None,
    )
    sent = await tg.send_text(
        RAUF, "Valve closed.", chat_id=staff, reply_to_message_id=prompt["message_id"]
    )
    note = sent["message"]
    answer = await tg.wait(
        staff,
        Expect(
            f"a reply to the note #{note['message_id']}",
            lambda m: m["reply_to"] == note["message_id"],
        ),
        after=note["message_id"],
    )
    assert answer["text"] == shown(RECORDED, "az", number=number)
    answered = await message(tg, staff, prompt["message_id"])
    assert texts_since(prompt, answered) == {prompt["text"]}
