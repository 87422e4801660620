"""Per-update context: the user's profile and the locale of the update; the bound on updates
in flight; a message's invisible tail that aiogram-dialog cannot read."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram_dialog.utils import REPLY_CALLBACK_SYMBOLS, split_reply_callback

from bot.filters import GROUPS, StaffChatCheck, no_staff_chat
from dialogs.common import PROFILE_KEY
from workflows.journey import Journey
from workflows.ports import UserProfile

Data = dict[str, Any]
# What an update middleware calls next (aiogram's NextMiddlewareType, spelled once).
Handler = Callable[[TelegramObject, Data], Awaitable[Any]]


class ProfileI18nMiddleware(I18nMiddleware):
    """Puts ``profile`` into the handler data and picks the locale.

    The profile (FIN and language) is kept in the database; the user's FSM data holds a
    copy, so the usual update costs one storage read (memory or Redis) and no SQL, and every
    worker sharing Redis sees a change at once.
    Locale order: the stored choice, Telegram's language_code if az/ru/en, DEFAULT_LOCALE.
    """

    def __init__(
        self,
        i18n: I18n,
        journey: Journey,
        *,
        default_locale: str,
        is_staff_chat: StaffChatCheck = no_staff_chat,
        staff_locale: str = "az",
    ) -> None:
        super().__init__(i18n=i18n)
        self.journey = journey
        self.default_locale = default_locale
        self.is_staff_chat = is_staff_chat
        self.staff_locale = staff_locale

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chat = data.get("event_chat")
        if chat is not None and chat.type in GROUPS and await self.is_staff_chat(chat.id):
            # The staff group under any id it has had (it may become a supergroup).
            return self.staff_locale
        user: User | None = data.get("event_from_user")
        if user is None:
            return self.default_locale
        profile = data.get(PROFILE_KEY)
        if profile is None:
            profile = await self._load_profile(user, data.get("state"))
            data[PROFILE_KEY] = profile
        if profile.locale in self.i18n.available_locales:
            return profile.locale
        if user.language_code:
            code = user.language_code.split("-")[0].lower()
            if code in self.i18n.available_locales:
                return code
        return self.default_locale

    async def _load_profile(self, user: User, state: FSMContext | None) -> UserProfile:
        if state is not None:
            cached = (await state.get_data()).get(PROFILE_KEY)
            if cached is not None:
                return UserProfile(user.id, locale=cached.get("locale"), fin=cached.get("fin"))
        profile = await self.journey.profile(user.id)
        if state is not None:
            await state.update_data({PROFILE_KEY: {"locale": profile.locale, "fin": profile.fin}})
        return profile


class InFlightLimit(BaseMiddleware):
    """At most ``limit`` updates in the handlers at once (an outer update middleware).

    Polling and the webhook both hand every update to a task of its own; without a bound a
    burst of a thousand users puts a thousand handlers in the queue for a few database
    connections, and the last of them time out there. Waiting here costs nothing and keeps
    the order in which updates arrived.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)

    async def __call__(self, handler: Handler, event: TelegramObject, data: Data) -> Any:
        async with self._slots:
            return await handler(event, data)


class ReplyCallbackGuard(BaseMiddleware):
    """Drops a message's invisible tail that aiogram-dialog would choke on (a message outer
    middleware, before aiogram-dialog's own).

    A reply-keyboard button's text carries its callback data in invisible characters after
    the label, and aiogram-dialog reads them off every message. Typed, pasted or forged ones
    that are no such data (their bytes are no UTF-8) made it raise ``UnicodeDecodeError``:
    a traceback, and no answer. Outside private chats the bot shows no reply keyboard, so
    any such tail there is typed: a staff member's note would otherwise be taken for a
    press and lost. The message goes on as the text the person sees.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: Data) -> Any:
        if isinstance(event, Message) and event.text and _unreadable_tail(event):
            seen = event.text.rstrip(REPLY_CALLBACK_SYMBOLS)
            event = event.model_copy(update={"text": seen})
        return await handler(event, data)


def _unreadable_tail(message: Message) -> bool:
    text = message.text or ""
    if message.chat.type != ChatType.PRIVATE:
        return text != text.rstrip(REPLY_CALLBACK_SYMBOLS)
    try:
        split_reply_callback(text)
    except UnicodeDecodeError:
        return True
    return False
