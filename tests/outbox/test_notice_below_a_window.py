"""A notice arrives below the subscriber's open window; a press on that window then sends the
next window anew, below the notice, and the window keeps its text (``bot.screen``).

The real dialogs and message manager against the fake Bot API, with the outbox runner and the
dispatcher on one FSM storage: the chat's history is what Telegram would show.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import Chat, Message, User
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.screen import DESTINY, LatestMessages
from tests.outbox.harness import FIN, STAFF_A, Harness, RecordingMailer, make_harness

SUBSCRIBER = User(id=1001, is_bot=False, first_name="Aysel", language_code="az")
PRIVATE = Chat(id=SUBSCRIBER.id, type="private")
_ids = itertools.count(50_000)


async def say(h: Harness, text: str) -> None:
    message = Message(
        message_id=next(_ids),
        date=datetime.now(UTC),
        chat=PRIVATE,
        from_user=SUBSCRIBER,
        text=text,
    )
    await h.feed(message=message)


def history(h: Harness) -> list[dict[str, Any]]:
    return h.tg.messages(PRIVATE.id)


def widget_data(message: dict[str, Any], widget: str) -> str:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard") or []:
        for button in row:
            data = button.get("callback_data") or ""
            if data.split("\x1d", 1)[-1] == widget:
                return data
    raise AssertionError(f"no button {widget!r} in {message.get('text')!r}")


async def open_menu(h: Harness) -> dict[str, Any]:
    await say(h, "/start")
    await say(h, FIN)
    menu = history(h)[-1]
    widget_data(menu, "status")  # it is the menu
    return menu


async def a_notice(h: Harness) -> dict[str, Any]:
    """An application of the subscriber is taken: the notice arrives in the private chat."""
    number = await h.register(chat_id=PRIVATE.id, locale="en")
    await h.deliver()
    await h.press(await h.card(number), f"wo:take:{number}", STAFF_A)
    await h.deliver()
    notice = history(h)[-1]
    assert f"No. {number}" in notice["text"], notice["text"]
    return notice


async def press(h: Harness, message: dict[str, Any], widget: str) -> None:
    await h.press(
        h.tg.message(PRIVATE.id, message["message_id"], h.bot),
        widget_data(message, widget),
        SUBSCRIBER,
    )


async def test_a_press_above_a_notice_sends_the_next_window_below_it(h: Harness) -> None:
    menu = await open_menu(h)
    notice = await a_notice(h)
    assert await LatestMessages(h.storage).newest(h.bot.id, PRIVATE.id) == notice["message_id"]

    await press(h, menu, "status")

    after = history(h)
    listing = after[-1]
    assert listing["message_id"] > notice["message_id"]
    assert widget_data(listing, "to_lookup")  # the status section, at the bottom
    old = next(m for m in after if m["message_id"] == menu["message_id"])
    assert old["text"] == menu["text"]  # the menu was not edited into the listing
    assert not old.get("reply_markup")  # only its buttons are gone
    assert not [r for r in h.tg.ok("EditMessageText", PRIVATE.id)]


async def test_without_a_notice_the_window_is_edited_in_place(h: Harness) -> None:
    menu = await open_menu(h)
    count = len(history(h))

    await press(h, menu, "status")

    assert len(history(h)) == count
    edited = history(h)[-1]
    assert edited["message_id"] == menu["message_id"]
    assert widget_data(edited, "to_lookup")


async def test_a_window_sent_after_the_notice_is_edited_again(h: Harness) -> None:
    menu = await open_menu(h)
    await a_notice(h)
    await press(h, menu, "status")
    listing = history(h)[-1]
    count = len(history(h))

    await press(h, listing, "to_lookup")

    assert len(history(h)) == count  # the listing, the newest message, became the lookup
    assert history(h)[-1]["message_id"] == listing["message_id"]


class LatestDown(MemoryStorage):
    """Redis gone for the newest-message records only."""

    async def set_data(self, key: StorageKey, data: Any) -> None:
        if key.destiny == DESTINY:
            raise RedisConnectionError("connection refused")
        await super().set_data(key, data)


async def test_a_notice_is_delivered_once_when_it_cannot_be_recorded(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, mailer: RecordingMailer
) -> None:
    h = await make_harness(settings, engine, tmp_path, mailer=mailer, storage=LatestDown())
    await a_notice(h)
    await h.deliver()

    notices = [r for r in h.tg.sent(PRIVATE.id) if "No. " in r.text]
    assert len(notices) == 1
    assert await LatestMessages(h.storage).newest(h.bot.id, PRIVATE.id) is None
