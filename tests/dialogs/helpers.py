"""Helpers for the dialog tests: translations, buttons by widget id, the form filled in.

The catalogues may or may not be translated: expected texts are always
``gettext(msgid, locale)`` (through :func:`tr`), and buttons are pressed by their widget id
(their callback data), never by their label.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StorageKey
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from aiogram.utils.i18n import I18n
from aiogram_dialog.api.entities import DEFAULT_STACK_ID
from aiogram_dialog.test_tools import MockMessageManager
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from aiogram_dialog.utils import remove_intent_id, split_reply_callback
from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Services, build_dispatcher, build_services
from bot.catalogues import LOCALES_DIR, compile_catalogues
from bot.config import Settings
from dialogs.common import ERRORS
from sandbox.errors import ApiError
from sandbox.spec import BotApiSpec
from sandbox.tghtml import EntityParseError, parse_html, utf16_len
from storage.models import ApplicationRow, SubscriberRow, UserRow
from tests.support import ChatMessageManager, RecordingSession, Subscriber, buttons, make_bot

compile_catalogues()
I18N = I18n(path=LOCALES_DIR, default_locale="az", domain="messages")
_callback_ids = itertools.count(1)

FIN = "5ABC12D"
OTHER_FIN = "7XYZ89K"
# The registry's phone of FIN's codes: sharing it as one's own contact proves FIN.
OWNER_PHONE = "+994501234567"
FORM = ("code", "reason", "phone", "email", "description", "notes", "summary")
STATES = {
    "code": "ApplicationSG:subscriber_code",
    "reason": "ApplicationSG:reason",
    "phone": "ApplicationSG:phone",
    "email": "ApplicationSG:email",
    "description": "ApplicationSG:description",
    "notes": "ApplicationSG:notes",
    "summary": "ApplicationSG:summary",
    "debt": "ApplicationSG:debt",
    "registered": "ApplicationSG:registered",
    "fin": "MainSG:fin",
    "menu": "MainSG:menu",
    "language": "MainSG:language",
    "listing": "StatusSG:listing",
    "lookup": "StatusSG:lookup",
    "detail": "StatusSG:detail",
    "withdraw": "StatusSG:withdraw",
    "prove": "StatusSG:prove",
    "code_prove": "ApplicationSG:prove",
}

# Texts of the manual and of the windows, by msgid.
DEBT_WARNING = (
    "This subscriber currently has an outstanding debt. Pay the debt and try again to "
    "carry out the operation."
)
REGISTERED = (
    "Your application has been registered. Thank you for using our service. "
    "Your application number: {number}"
)
STEP = "<i>Step {step} of {total}</i>"
MENU_PROMPT = "Choose what you want to do:"
FIN_PROMPT = "Please type the FIN of your identity card (7 characters, for example 5ABC12D)."


def tr(msgid: str, locale: str = "az", /, **params: Any) -> str:
    """The text a user of ``locale`` sees for ``msgid`` (``str.format`` applied if params)."""
    text = I18N.gettext(msgid, locale=locale)
    return text.format(**params) if params else text


def hint(error: str, locale: str = "az", /, **params: Any) -> str:
    """The refusal shown for ``code`` (``dialogs.common.ERRORS``) in ``locale``."""
    return "⚠️ " + tr(ERRORS[error], locale, **params)


def step_line(step: int, locale: str = "az") -> str:
    return tr(STEP, locale, step=step, total=len(FORM))


# --- the world ------------------------------------------------------------------------------
TELEGRAM_TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
# The sandbox's Bot API 10.1 spec: every keyboard as it would be sent (styles, copy_text).
SPEC = BotApiSpec.load()


def check_markup(markup: Any) -> None:
    """Refuse a keyboard the Bot API spec refuses (a bad ``style``, a button of two kinds)."""
    if markup is None:
        return
    raw = markup.model_dump(mode="json", exclude_none=True)
    try:
        SPEC.check_object(type(markup).__name__, raw)
    except ApiError as exc:
        raise AssertionError(f"Telegram would refuse this keyboard ({exc}): {raw}") from exc


class CheckingMessageManager(ChatMessageManager):
    """Refuses a window Telegram would refuse: bad HTML, too long, callback_data > 64 bytes.

    Telegram answers such a sendMessage with 400 and the user sees nothing, so every window
    rendered in these tests goes through the same checks (``sandbox.tghtml`` follows TDLib).
    """

    async def show_message(self, bot: Bot, new_message: Any, old_message: Any) -> Any:
        check_window(new_message.text or "", new_message.reply_markup)
        return await super().show_message(bot, new_message, old_message)


def check_window(text: str, markup: Any) -> None:
    try:
        parsed = parse_html(text)
    except EntityParseError as exc:
        raise AssertionError(f"Telegram would refuse this HTML ({exc}):\n{text}") from exc
    check_markup(markup)
    assert parsed.text.strip(), f"empty window: {text!r}"
    assert utf16_len(parsed.text) <= TELEGRAM_TEXT_LIMIT, "window longer than Telegram allows"
    if isinstance(markup, InlineKeyboardMarkup):
        for row in markup.inline_keyboard:
            for button in row:
                assert button.text.strip(), "a button without a text"
                data = button.callback_data or ""
                assert len(data.encode()) <= CALLBACK_DATA_LIMIT, f"callback_data {data!r}"
    elif isinstance(markup, ReplyKeyboardMarkup):
        for row in markup.keyboard:
            for button in row:
                assert button.text.strip(), "a reply button without a text"


@dataclass
class World:
    dp: Dispatcher
    bot: Bot
    session: RecordingSession
    mm: MockMessageManager
    services: Services
    settings: Settings | None = None
    engine: AsyncEngine | None = None

    def subscriber(self, user_id: int = 1001, language_code: str | None = "az") -> Subscriber:
        return Subscriber(self.dp, self.bot, self.mm, user_id, language_code)

    def restart(self) -> World:
        """A new process on the same database: new services, dispatcher and empty FSM storage."""
        assert self.settings is not None and self.engine is not None
        return make_world(self.settings, self.engine, self.services.clock)


def make_world(
    settings: Settings,
    engine: AsyncEngine,
    clock: Any,
    *,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
    i18n: I18n | None = None,
    mm: CheckingMessageManager | None = None,
) -> World:
    """A worker: services, dispatcher and (unless shared) its own FSM storage; ``i18n``:
    catalogues other than the committed ones; ``mm``: a message manager that records more."""
    services = build_services(settings, engine=engine, clock=clock)
    mm = mm or CheckingMessageManager()
    dp = build_dispatcher(
        settings,
        services,
        storage=storage or JsonMemoryStorage(),
        message_manager=mm,
        events_isolation=events_isolation,
        i18n=i18n,
    )
    bot, session = make_bot()
    return World(
        dp=dp,
        bot=bot,
        session=session,
        mm=mm,
        services=services,
        settings=settings,
        engine=engine,
    )


# --- buttons --------------------------------------------------------------------------------
def _data(button: Any) -> str | None:
    if isinstance(button, KeyboardButton):
        _, data = split_reply_callback(button.text)
    else:
        data = button.callback_data
    if not data:
        return None
    return remove_intent_id(data)[1]


def widget_ids(message: Message) -> list[str]:
    """Callback data of the buttons without the intent id: ``back``, ``reason:absence``..."""
    return [d for d in (_data(b) for b in buttons(message)) if d is not None]


def url_buttons(message: Message) -> dict[str, str]:
    return {
        b.text: b.url for b in buttons(message) if isinstance(b, InlineKeyboardButton) and b.url
    }


def contact_buttons(message: Message) -> list[KeyboardButton]:
    return [b for b in buttons(message) if isinstance(b, KeyboardButton) and b.request_contact]


def _button(message: Message, data: str) -> Any:
    for button in buttons(message):
        if _data(button) == data:
            return button
    raise AssertionError(f"no button {data!r} in {widget_ids(message)}")


def press_update(user: Subscriber, data: str, message: Message) -> Update:
    """The update Telegram sends when ``user`` presses the inline button ``data`` (its
    callback data without the intent id) on ``message``; for tests that feed it themselves."""
    button = _button(message, data)
    assert isinstance(button, InlineKeyboardButton), f"{data!r} is not an inline button"
    callback = CallbackQuery(
        id=f"cb{next(_callback_ids)}",
        data=button.callback_data,
        chat_instance="c",
        from_user=user.user,
        message=message,
    )
    return _update(callback_query=callback)


async def press(user: Subscriber, data: str, message: Message | None = None) -> Message:
    """Press the button whose callback data (without the intent id) is ``data``."""
    message = message or user.last
    button = _button(message, data)
    if isinstance(button, KeyboardButton):
        return await user.send(button.text)
    user.mm.reset_history()
    await user.dp.feed_update(user.bot, press_update(user, data, message))
    return user.last if user.mm.sent_messages else message


def _update(**kwargs: Any) -> Update:
    return Update(update_id=next(Subscriber._update_ids), **kwargs)


# --- the dialog stack -----------------------------------------------------------------------
async def current(user: Subscriber) -> tuple[str | None, dict[str, Any]]:
    """The state and dialog_data of the dialog on top of the user's stack."""
    storage = user.dp.storage

    def key(destiny: str) -> StorageKey:
        return StorageKey(
            bot_id=user.bot.id, chat_id=user.chat.id, user_id=user.chat.id, destiny=destiny
        )

    stack = await storage.get_data(key(f"aiogd:stack:{DEFAULT_STACK_ID}"))
    intents = stack.get("intents") or []
    if not intents:
        return None, {}
    context = await storage.get_data(key(f"aiogd:context:{intents[-1]}"))
    return context.get("state"), context.get("dialog_data") or {}


async def state_of(user: Subscriber) -> str | None:
    return (await current(user))[0]


# --- journeys -------------------------------------------------------------------------------
async def open_menu(user: Subscriber, fin: str = FIN) -> Message:
    """/start and, when asked, the FIN: the main menu."""
    message = await user.send("/start")
    if await state_of(user) == STATES["fin"]:
        message = await user.send(fin)
    assert await state_of(user) == STATES["menu"], message.text
    return message


async def fill_to(
    user: Subscriber,
    step: str,
    *,
    fin: str = FIN,
    code: str = "100001",
    reason: str | None = None,
    phone: str = "050 123 45 67",
    email: str = "user@example.com",
    description: str = "Going abroad for two months.",
    notes: str | None = None,
) -> Message:
    """From /start through the form up to (and showing) ``step``."""
    await open_menu(user, fin)
    message = await press(user, "new_app")
    for current_step in FORM[: FORM.index(step)]:
        if current_step == "code":
            message = await user.send(code)
        elif current_step == "reason":
            choice = reason or next(d for d in widget_ids(message) if d.startswith("reason:"))
            message = await press(user, choice if ":" in choice else f"reason:{choice}")
        elif current_step == "phone":
            message = await user.send(phone)
        elif current_step == "email":
            message = await user.send(email)
        elif current_step == "description":
            message = await user.send(description)
        elif current_step == "notes":
            message = await (user.send(notes) if notes else press(user, "skip_notes"))
    assert await state_of(user) == STATES[step], message.text
    return message


async def prove_fin(user: Subscriber, phone: str = OWNER_PHONE) -> Message:
    """From the main menu: the status section's proof of the FIN by the account's own phone."""
    await press(user, "status")
    await press(user, "to_prove")
    assert await state_of(user) == STATES["prove"]
    return await user.send_contact(phone)


async def register(user: Subscriber, code: str = "100001", **fields: Any) -> int:
    """A whole application; returns its number."""
    await fill_to(user, "summary", code=code, **fields)
    message = await press(user, "confirm")
    state, data = await current(user)
    assert state == STATES["registered"], message.text
    return int(data["number"])


# --- the database ---------------------------------------------------------------------------
async def set_debt(engine: AsyncEngine, code: str, debt: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(SubscriberRow).where(SubscriberRow.code == code).values(debt_azn=Decimal(debt))
        )


async def applications(engine: AsyncEngine) -> list[ApplicationRow]:
    async with engine.connect() as conn:
        result = await conn.execute(select(ApplicationRow).order_by(ApplicationRow.number))
        return list(result.all())


async def stored_profile(engine: AsyncEngine, user_id: int) -> tuple[str | None, str | None]:
    """(locale, fin) stored for a Telegram user."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(UserRow.locale, UserRow.fin).where(UserRow.telegram_user_id == user_id)
            )
        ).first()
    return (row.locale, row.fin) if row else (None, None)


def billing_api(address: str) -> web.Application:
    """A billing API (its contract in bot/adapters/billing_http.py) where every subscriber
    is meterless, active, without debt, owned by ``FIN``, and lives at ``address``."""

    async def subscriber(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "subscriber_code": request.match_info["code"],
                "meterless": True,
                "debt_azn": "0",
                "service_state": "active",
                "address": address,
                "owner_fin": FIN,
            }
        )

    app = web.Application()
    app.router.add_get("/subscribers/{code}", subscriber)
    return app
