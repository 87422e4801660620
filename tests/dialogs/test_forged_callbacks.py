"""Issue 16, item 8: a forged or stale button in a private chat gets an answer, never a
traceback.

A client sends back whatever callback data it likes (up to 64 bytes), for any message of
the bot's it can see. So every button value a subscriber's window can carry (an application
of the status listing, a page of it, a reason, a language) is sent forged: empty, not a
number, negative, zero, beyond BigInteger, beyond any column, Unicode digits, junk; and so
is whole junk data, another router's prefix, and an intent id that does not exist. Each
press is answered exactly once, raises nothing, logs no error, and changes nothing stored:
the window stays (saying "use the buttons" where it is one of its widgets), or, for an
unknown dialog, the menu opens as for any stale button.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, Message, Update
from aiogram_dialog.api.entities import DEFAULT_STACK_ID
from aiogram_dialog.utils import remove_intent_id

from bot.commands import BUTTON_GONE
from dialogs.common import ERROR_KEY, ErrorId
from tests.dialogs.helpers import (
    MENU_PROMPT,
    OTHER_FIN,
    STATES,
    World,
    applications,
    fill_to,
    hint,
    open_menu,
    press,
    register,
    stored_profile,
    tr,
)
from tests.support import Subscriber, buttons

CB_SEP = "\x1d"  # aiogram-dialog's separator of the intent id
_ids = itertools.count(1)

# What a forger puts after a widget's prefix (all within Telegram's 64 bytes with the
# intent id): nothing, words, signs, 0, one past BigInteger, beyond any column, digits
# int() takes but the bot never writes, non-ASCII, and padding.
FORGED_VALUES = (
    "",
    "abc",
    "-1",
    "0",
    " 1",
    "1_0",
    "007",
    str(2**63),
    str(10**30),
    "\u0663",  # ARABIC-INDIC DIGIT THREE
    "\uff11",  # FULLWIDTH DIGIT ONE
    "Ω≈ç√∫",
    "x" * 40,
)
# Whole callback data with no intent id: unknown prefixes, junk of 64 bytes, the other
# routers' prefixes (malformed, and well-formed but for the wrong chat or person).
FORGED_DATA = (
    "zz:1",
    "x" * 64,
    "Ω" * 32,
    "wo:take:1",
    "wo:take:abc",
    f"wo:done:{2**63}",
    "wop:cancel:1",
    "wop:cancel:-1",
    "sp:s:0:1",
    "sp:s:abc:1",
    "sp:zz:0:",
    f"sp:f:{10**30}:x",
    # the restoration offer, the citizen's word, the planned date, the withdrawal request
    "ro:",
    "ro:abc",
    "ro:-1",
    f"ro:{2**63}",
    "ro:\u0663",
    "ro:1:2",
    "cz:zz:1:0:0",
    "cz:r:1:0:9",
    f"cz:y:{2**63}:0:0",
    "cz:n:abc:x:y",
    "wpl:1:20261232:m",
    "wpl:abc::",
    "wdr:accept:abc",
    f"wdr:decline:{2**63}",
)
UNKNOWN_INTENT = "Zz9Zz9Zz"  # looks like one of ours (8 base-62 characters), is no one's


# --- pressing -------------------------------------------------------------------------------
def intent_of(message: Message) -> str:
    """The intent id in the callback data of the window's buttons."""
    for button in buttons(message):
        intent, _ = remove_intent_id(getattr(button, "callback_data", None) or "")
        if intent:
            return intent
    raise AssertionError("the window has no dialog button")


async def press_raw(world: World, user: Subscriber, message: Message, data: str) -> str:
    """Send a press with exactly ``data``; return the callback's id."""
    assert len(data.encode()) <= 64, f"Telegram carries at most 64 bytes: {data!r}"
    callback = CallbackQuery(
        id=f"forged{next(_ids)}",
        data=data,
        chat_instance="c",
        from_user=user.user,
        message=message,
    )
    user.mm.reset_history()
    await world.dp.feed_update(
        world.bot, Update(update_id=next(Subscriber._update_ids), callback_query=callback)
    )
    return callback.id


def answers_to(world: World, callback_id: str) -> int:
    """How often the press was answered: by aiogram-dialog or by a handler of ours."""
    by_api = [
        r for r in world.session.of("AnswerCallbackQuery") if r.callback_query_id == callback_id
    ]
    return len(by_api) + (callback_id in world.mm.answered_callbacks)


# --- what is stored -------------------------------------------------------------------------
async def top_context(user: Subscriber) -> dict[str, Any]:
    """The stored context of the dialog on top of the user's stack ({} without one)."""
    storage = user.dp.storage

    def key(destiny: str) -> StorageKey:
        return StorageKey(
            bot_id=user.bot.id, chat_id=user.chat.id, user_id=user.chat.id, destiny=destiny
        )

    stack = await storage.get_data(key(f"aiogd:stack:{DEFAULT_STACK_ID}"))
    intents = stack.get("intents") or []
    return await storage.get_data(key(f"aiogd:context:{intents[-1]}")) if intents else {}


async def dialog_state(user: Subscriber) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    """State, dialog_data (without the error line) and widget data of the top dialog."""
    context = await top_context(user)
    data = {k: v for k, v in (context.get("dialog_data") or {}).items() if k != ERROR_KEY}
    return context.get("state"), data, context.get("widget_data") or {}


async def error_shown(user: Subscriber) -> str | None:
    error = ((await top_context(user)).get("dialog_data") or {}).get(ERROR_KEY)
    return error["id"] if error else None


async def database(world: World, user: Subscriber) -> tuple[Any, ...]:
    assert world.engine is not None
    rows = [(r.number, r.status, r.reason_code) for r in await applications(world.engine)]
    return tuple(rows), await stored_profile(world.engine, user.user.id)


# --- the windows ----------------------------------------------------------------------------
async def open_window(world: World, user: Subscriber, window: str) -> Message:
    if window == "listing":
        await register(user)
        await open_menu(user)
        return await press(user, "status")
    if window == "reason":
        return await fill_to(user, "reason")
    if window == "language":
        await open_menu(user)
        return await press(user, "to_lang")
    return await open_menu(user)


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    bad = [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.ERROR or r.exc_info
    ]
    assert not bad, "logged as errors:\n" + "\n".join(bad)


# --- forged values of the windows' own widgets ----------------------------------------------
@pytest.mark.parametrize(
    ("window", "prefix", "extra", "refusal"),
    [
        ("listing", "app", (), ErrorId.USE_BUTTONS),
        ("listing", "apps", ("1000000",), ErrorId.USE_BUTTONS),
        ("reason", "reason", ("returned", "ABSENCE", "absence "), ErrorId.REASON_STALE),
        ("language", "lang", ("de", "AZ", "az-AZ", "ru "), ErrorId.USE_BUTTONS),
    ],
)
async def test_a_forged_value_of_a_windows_button_is_refused_in_the_window(
    world: World,
    caplog: pytest.LogCaptureFixture,
    window: str,
    prefix: str,
    extra: tuple[str, ...],
    refusal: ErrorId,
) -> None:
    user = world.subscriber(100001)
    message = await open_window(world, user, window)
    intent = intent_of(message)
    caplog.set_level(logging.INFO)

    for value in (*FORGED_VALUES, *extra):
        if prefix == "apps" and value == "0":
            continue  # the first page: a value the pager does send
        before = await dialog_state(user), await database(world, user)
        callback_id = await press_raw(world, user, message, f"{intent}{CB_SEP}{prefix}:{value}")

        assert answers_to(world, callback_id) == 1, value
        assert (await dialog_state(user), await database(world, user)) == before, value
        assert await error_shown(user) == refusal, value
        assert hint(refusal) in user.last.text, value
    no_errors_logged(caplog)


async def test_a_page_past_the_end_shows_the_last_page(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A page index of the right form is the library's to clamp: 99 shows the last page."""
    user = world.subscriber(100001)
    message = await open_window(world, user, "listing")
    caplog.set_level(logging.INFO)

    callback_id = await press_raw(world, user, message, f"{intent_of(message)}{CB_SEP}apps:99")

    assert answers_to(world, callback_id) == 1
    state, _, _ = await dialog_state(user)
    assert state == STATES["listing"]
    assert any(b.callback_data.endswith(CB_SEP + "app:1") for b in buttons(user.last))
    no_errors_logged(caplog)


async def test_a_forged_number_of_another_persons_application_shows_not_found(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A number of the right form reaches the detail, which shows only the FIN's own."""
    other = world.subscriber(100002)
    theirs = await register(other, fin=OTHER_FIN, code="100005")
    user = world.subscriber(100001)
    message = await open_window(world, user, "listing")
    caplog.set_level(logging.INFO)

    callback_id = await press_raw(
        world, user, message, f"{intent_of(message)}{CB_SEP}app:{theirs}"
    )

    assert answers_to(world, callback_id) == 1
    assert tr("Application No. {number} was not found.", number=theirs) in user.last.text
    assert "100005" not in user.last.text
    no_errors_logged(caplog)


# --- junk, other prefixes, unknown dialogs --------------------------------------------------
@pytest.mark.parametrize("window", ["menu", "listing", "reason", "language"])
async def test_forged_data_is_answered_and_changes_nothing(
    world: World, caplog: pytest.LogCaptureFixture, window: str
) -> None:
    user = world.subscriber(100001)
    message = await open_window(world, user, window)
    intent = intent_of(message)
    caplog.set_level(logging.INFO)
    forged = (
        *FORGED_DATA,
        f"{intent}{CB_SEP}",
        f"{intent}{CB_SEP}zz:1",
        f"{intent}{CB_SEP}{'x' * 40}",
        f"{intent}{CB_SEP}{CB_SEP}",
        f"{CB_SEP}zz:1",  # no intent id before the separator: the dialog on top
    )

    for data in forged:
        before = await dialog_state(user), await database(world, user)
        callback_id = await press_raw(world, user, message, data)

        assert answers_to(world, callback_id) == 1, data
        assert await dialog_state(user) == before[0], data
        assert await database(world, user) == before[1], data
    no_errors_logged(caplog)


@pytest.mark.parametrize("window", ["menu", "listing", "reason"])
async def test_an_unknown_dialog_is_answered_with_the_menu(
    world: World, caplog: pytest.LogCaptureFixture, window: str
) -> None:
    user = world.subscriber(100001)
    message = await open_window(world, user, window)
    caplog.set_level(logging.INFO)
    stored = await database(world, user)

    for data in (f"{UNKNOWN_INTENT}{CB_SEP}back", f"{UNKNOWN_INTENT}{CB_SEP}", "Zz9\x1dapp:1"):
        callback_id = await press_raw(world, user, message, data)

        assert answers_to(world, callback_id) == 1, data
        assert (await dialog_state(user))[0] == STATES["menu"], data
        assert tr(MENU_PROMPT) in user.last.text, data
        assert await database(world, user) == stored, data
    no_errors_logged(caplog)


async def test_without_a_dialog_forged_data_gets_the_menu(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """No dialog open (say, after a restart): the fallback answers and opens the menu."""
    user = world.subscriber(100001)
    message = await open_menu(user)
    fresh = world.restart()
    again = fresh.subscriber(100001)
    caplog.set_level(logging.INFO)

    for data in ("zz:1", "x" * 64, "wo:take:abc", "sp:s:abc:1"):
        callback_id = await press_raw(fresh, again, message, data)

        assert answers_to(fresh, callback_id) == 1, data
        assert (await dialog_state(again))[0] == STATES["menu"], data
    # the private chat's answer is the menu itself, not the group's "no longer active"
    assert all(a.text != BUTTON_GONE for a in fresh.session.of("AnswerCallbackQuery"))
    no_errors_logged(caplog)


async def test_a_forged_answer_to_the_question_after_done_leaves_the_window_alone(
    world: World,
) -> None:
    """Issue 19's question keeps its own buttons only: the citizen's word pressed on the menu
    (a number that does not exist, or the subscriber's own order that is not done) is
    refused, and the menu keeps its buttons."""
    user = world.subscriber(100001)
    message = await open_window(world, user, "menu")
    for data in ("cz:y:999:0:0", "cz:r:999:0:4", "cz:n:1:0:0"):
        callback_id = await press_raw(world, user, message, data)
        assert answers_to(world, callback_id) == 1, data
    assert world.session.of("EditMessageReplyMarkup") == []
