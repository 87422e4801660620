"""A failed cosmetic call is logged and never stops the handler's real answer.

aiogram-dialog's message manager first removes the old window's keyboard (or deletes the
old window) and then sends the new one; the product's :class:`BestEffortMessageManager`
keeps a failure of the first step from stopping the second. Each test also runs the same
failure through aiogram-dialog's own manager (the code before), which loses the answer.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import TelegramServerError
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)
from aiogram_dialog import ShowMode
from aiogram_dialog.api.entities import NewMessage, OldMessage
from aiogram_dialog.manager.message_manager import MessageManager
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.users import Meter, SimUser
from bot.best_effort import BestEffortMessageManager
from bot.config import Settings
from tests.telegram.faults import FaultyTelegram, ScriptedTelegram, bot_on
from tests.telegram.load import build_rig, faulted_journeys, load_registry

CHAT = Chat(id=1001, type="private")
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Next", callback_data="next")]]
)


def old_window(*, reply_keyboard: bool = False) -> OldMessage:
    return OldMessage(
        chat=CHAT,
        message_id=7,
        media_id=None,
        media_uniq_id=None,
        text="old",
        has_reply_keyboard=reply_keyboard,
    )


def new_window(mode: ShowMode) -> NewMessage:
    return NewMessage(chat=CHAT, text="new", reply_markup=KEYBOARD, show_mode=mode)


@pytest.mark.parametrize(
    ("mode", "reply_keyboard", "script"),
    [
        # the old window is deleted first
        (ShowMode.DELETE_AND_SEND, False, {"deleteMessage": ["500"]}),
        # the old window's inline keyboard is removed first
        (ShowMode.SEND, False, {"editMessageReplyMarkup": ["reset"]}),
        # the old reply keyboard is removed first (a "..." with ReplyKeyboardRemove)
        (ShowMode.SEND, True, {"sendMessage": ["500"]}),
    ],
)
async def test_the_new_window_is_sent_when_the_cosmetic_step_before_it_fails(
    mode: ShowMode,
    reply_keyboard: bool,
    script: dict[str, list[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    session = ScriptedTelegram(**{k: list(v) for k, v in script.items()})
    bot = bot_on(session)

    shown = await BestEffortMessageManager().show_message(
        bot, new_window(mode), old_window(reply_keyboard=reply_keyboard)
    )

    assert shown.text == "new"
    assert session.names()[-1] == "sendMessage"
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "old" in warning and "1001" in warning

    before = ScriptedTelegram(**{k: list(v) for k, v in script.items()})
    with pytest.raises(Exception):  # noqa: B017 - whichever failure the step had
        await MessageManager().show_message(
            bot_on(before), new_window(mode), old_window(reply_keyboard=reply_keyboard)
        )
    assert not [m for m in before.applied if getattr(m, "text", None) == "new"]


async def test_a_failed_answer_to_a_press_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    session = ScriptedTelegram(answerCallbackQuery=["500"])
    press = CallbackQuery(
        id="1", from_user=User(id=1001, is_bot=False, first_name="A"), chat_instance="1"
    )

    await BestEffortMessageManager().answer_callback(bot_on(session), press)

    assert "answering a press" in caplog.records[-1].getMessage()
    with pytest.raises(TelegramServerError):
        await MessageManager().answer_callback(
            bot_on(ScriptedTelegram(answerCallbackQuery=["500"])), press
        )


def cosmetic(method: TelegramMethod[Any]) -> str | None:
    """Refuse every cosmetic call of the journey, for good (5xx on every try)."""
    if isinstance(method, DeleteMessage | EditMessageReplyMarkup | AnswerCallbackQuery):
        return "500"
    if isinstance(method, SendMessage) and isinstance(method.reply_markup, ReplyKeyboardRemove):
        return "500"
    return None


@pytest.mark.parametrize("retries", [True, False], ids=["now", "before"])
async def test_the_whole_journey_with_every_cosmetic_call_failing(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, retries: bool
) -> None:
    await load_registry(engine, 1, tmp_path)
    session = FaultyTelegram(0.0, refuse=cosmetic)

    outcome = await faulted_journeys(settings, engine, session, users=1, retries=retries)

    if retries:
        assert outcome.reached == 1, outcome.failures
        assert session.faults["500"] > 10  # every cosmetic call of the journey, three times
    else:  # the first failure ended the journey
        assert outcome.reached == 0
        assert session.faults["500"] == 1


async def test_a_stale_button_gets_the_menu_even_if_its_answer_fails(
    settings: Settings, engine: AsyncEngine
) -> None:
    session = FaultyTelegram(
        0.0, refuse=lambda m: "500" if isinstance(m, AnswerCallbackQuery) else None
    )
    rig = build_rig(settings, engine, session)
    user = SimUser(rig.dp, rig.bot, session, 0, Meter())
    await user.step("start")
    window = session.shown[user.user_id].message

    stale = CallbackQuery(
        id="stale",
        from_user=user.user,
        chat_instance="1",
        message=window,
        data="oldintent\x1dnew_app",
    )
    await rig.dp.feed_update(rig.bot, Update(update_id=10**6, callback_query=stale))

    assert session.shown[user.user_id].message.message_id != window.message_id
    assert user.has("to_lang")  # the FIN window again, as /start shows it
    assert session.faults["500"] >= 3  # the answer was tried and failed
