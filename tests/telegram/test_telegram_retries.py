"""The retry middleware on the bot's session, one kind of Telegram failure at a time.

Each test scripts the answers of a fake Bot API (:class:`ScriptedTelegram`: the failures
are raised exactly as aiogram raises them) and counts the requests and the waits; the
waits go to a recording ``sleep``, nothing waits in real time.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates
from aiogram.types import ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_bot
from bot.best_effort import best_effort, counts_as_success
from bot.config import Settings
from bot.telegram_retries import TelegramRetries, without_retries
from tests.outbox.harness import STAFF_A, make_harness
from tests.telegram.faults import ScriptedTelegram, bot_on

CHAT = 1001
SECRET = "the subscriber's FIN 5ABC12D"


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def retrying(**script: list[str]) -> tuple[ScriptedTelegram, Sleeps, Bot]:
    session = ScriptedTelegram(**script)
    sleeps = Sleeps()
    session.middleware(TelegramRetries(sleep=sleeps, rng=random.Random(3)))
    return session, sleeps, bot_on(session)


def gave_up(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "giving up" in r.getMessage()]


# --- 429 ----------------------------------------------------------------------------------


async def test_a_429_is_sent_again_after_retry_after() -> None:
    session, sleeps, bot = retrying(sendMessage=["429:3"])

    message = await bot.send_message(CHAT, SECRET)

    assert message.text == SECRET
    assert session.names() == ["sendMessage", "sendMessage"]
    assert sleeps == [3.0]


async def test_429s_wait_30_s_in_all_then_give_up_with_a_log_line_without_the_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    session, sleeps, bot = retrying(sendMessage=["429:10"] * 5)

    with (
        caplog.at_level(logging.DEBUG, logger="bot.telegram_retries"),
        pytest.raises(TelegramRetryAfter),
    ):
        await bot.send_message(CHAT, SECRET)

    assert sleeps == [10.0, 10.0, 10.0]
    assert len(session.requests) == 4
    (line,) = gave_up(caplog)
    assert "sendMessage" in line and str(CHAT) in line and "TelegramRetryAfter" in line
    assert all("5ABC12D" not in r.getMessage() for r in caplog.records)


async def test_a_retry_after_beyond_the_budget_is_not_waited_for() -> None:
    session, sleeps, bot = retrying(editMessageText=["429:45"])

    with pytest.raises(TelegramRetryAfter):
        await bot.edit_message_text(text="x", chat_id=CHAT, message_id=7)

    assert sleeps == []
    assert len(session.requests) == 1


# --- 5xx and connection errors -------------------------------------------------------------


async def test_a_500_is_retried_with_growing_jittered_backoff() -> None:
    session, sleeps, bot = retrying(sendMessage=["500", "500"])

    await bot.send_message(CHAT, "hello")

    assert len(session.requests) == 3
    first, second = sleeps
    assert 0.25 <= first <= 0.75
    assert 0.5 <= second <= 1.5


async def test_at_most_three_tries_on_5xx(caplog: pytest.LogCaptureFixture) -> None:
    session, sleeps, bot = retrying(sendMessage=["500"] * 5)

    with pytest.raises(TelegramServerError):
        await bot.send_message(CHAT, "hello")

    assert len(session.requests) == 3
    assert len(sleeps) == 2
    assert "after 3 tries" in gave_up(caplog)[0]


async def test_a_connection_reset_is_retried_even_for_send_message() -> None:
    session, _sleeps, bot = retrying(sendMessage=["reset", "reset"])

    await bot.send_message(CHAT, "hello")

    assert len(session.requests) == 3
    assert len(session.applied) == 1


async def test_a_429_does_not_use_up_the_tries_of_5xx() -> None:
    session, sleeps, bot = retrying(sendMessage=["500", "429:1", "reset", "429:2"])

    await bot.send_message(CHAT, "hello")

    assert len(session.requests) == 5
    assert 1.0 in sleeps and 2.0 in sleeps


# --- read timeouts --------------------------------------------------------------------------


async def test_a_timed_out_edit_is_repeated_up_to_three_tries() -> None:
    session, _sleeps, bot = retrying(editMessageReplyMarkup=["timeout", "timeout"])

    assert await bot.edit_message_reply_markup(chat_id=CHAT, message_id=7) is True
    assert len(session.requests) == 3


async def test_a_timed_out_send_message_is_sent_once_more() -> None:
    session, _sleeps, bot = retrying(sendMessage=["timeout"])

    await bot.send_message(CHAT, "hello")

    assert len(session.requests) == 2


async def test_a_second_timeout_of_send_message_gives_up() -> None:
    session, _sleeps, bot = retrying(sendMessage=["timeout", "timeout"])

    with pytest.raises(TelegramNetworkError):
        await bot.send_message(CHAT, "hello")

    assert len(session.requests) == 2


async def test_the_accepted_duplicate_a_lost_answer_to_send_message_shows_it_twice() -> None:
    session, _sleeps, bot = retrying(sendMessage=["lost"])

    await bot.send_message(CHAT, "hello")

    assert [m.__api_method__ for m in session.applied] == ["sendMessage", "sendMessage"]


async def test_a_timeout_of_a_method_whose_repetition_matters_is_not_retried() -> None:
    session, sleeps, bot = retrying(sendContact=["timeout"])

    with pytest.raises(TelegramNetworkError):
        await bot.send_contact(CHAT, phone_number="+994501234567", first_name="A")

    assert len(session.requests) == 1
    assert sleeps == []


async def test_keyboard_removal_is_a_send_message_and_is_sent_once_more() -> None:
    session, _sleeps, bot = retrying(sendMessage=["timeout"])

    await bot.send_message(CHAT, "...", reply_markup=ReplyKeyboardRemove())

    assert len(session.requests) == 2


# --- the answers that count as success -------------------------------------------------------


async def test_message_is_not_modified_is_not_retried_and_counts_as_success(
    caplog: pytest.LogCaptureFixture,
) -> None:
    session, sleeps, bot = retrying(editMessageText=["not modified"])

    with pytest.raises(TelegramBadRequest) as raised:
        await bot.edit_message_text(text="x", chat_id=CHAT, message_id=7)
    assert counts_as_success(raised.value)
    assert len(session.requests) == 1 and sleeps == []

    session.script["editMessageText"] = ["not modified"]
    with caplog.at_level(logging.INFO):
        edit = bot.edit_message_text(text="x", chat_id=CHAT, message_id=7)
        assert await best_effort(edit, "closing a prompt", CHAT) is None
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]


async def test_a_lost_delete_repeated_finds_nothing_to_delete_and_that_is_success(
    caplog: pytest.LogCaptureFixture,
) -> None:
    session, _sleeps, bot = retrying(deleteMessage=["lost", "not found"])

    with caplog.at_level(logging.INFO):
        assert await best_effort(bot.delete_message(CHAT, 7), "deleting a prompt", CHAT) is None

    assert session.names() == ["deleteMessage", "deleteMessage"]
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]


async def test_any_other_400_is_neither_retried_nor_success(
    caplog: pytest.LogCaptureFixture,
) -> None:
    session, _sleeps, bot = retrying(deleteMessage=["400", "400"])

    with pytest.raises(TelegramBadRequest) as raised:
        await bot.delete_message(CHAT, 7)
    assert not counts_as_success(raised.value)
    assert len(session.requests) == 1

    assert await best_effort(bot.delete_message(CHAT, 7), "deleting a prompt", CHAT) is None
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "deleting a prompt" in warning and str(CHAT) in warning


# --- what the middleware leaves alone ---------------------------------------------------------


async def test_the_outbox_bot_shares_the_session_but_is_not_retried() -> None:
    session, sleeps, bot = retrying(sendMessage=["500", "429:5"])
    outbox_bot = without_retries(bot)

    assert outbox_bot.session is session
    with pytest.raises(TelegramServerError):
        await outbox_bot.send_message(-100, "card")
    with pytest.raises(TelegramRetryAfter):
        await outbox_bot.send_message(-100, "card")

    assert len(session.requests) == 2
    assert sleeps == []


async def test_long_polling_is_left_to_the_dispatcher() -> None:
    session, sleeps, bot = retrying(getUpdates=["500"])

    with pytest.raises(TelegramServerError):
        await bot(GetUpdates(timeout=10))

    assert len(session.requests) == 1 and sleeps == []


async def test_build_bot_installs_the_middleware(settings: Settings) -> None:
    bot = build_bot(settings, "42:TEST")
    try:
        assert any(isinstance(m, TelegramRetries) for m in bot.session.middleware)
    finally:
        await bot.session.close()


async def test_the_staff_prompts_cancel_button_survives_a_429(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    h = await make_harness(settings, engine, tmp_path)
    number = await h.register()
    await h.deliver()
    card = await h.card(number)
    h.tg.middleware(TelegramRetries(sleep=h.clock.sleep))  # as build_bot, waits virtual
    h.tg.fail("429", method="EditMessageReplyMarkup", retry_after=2)

    await h.press(card, f"wo:reject:{number}", STAFF_A)

    prompt = h.last_prompt()
    assert prompt.reply_markup is not None
    assert prompt.reply_markup.inline_keyboard[0][0].text == "✖️ Cancel"
    refused = [r for r in h.tg.log if r.name == "EditMessageReplyMarkup" and not r.ok]
    assert len(refused) == 1
