"""The command menus, registered per scope and language at start.

Telegram picks the menu of the narrowest scope that has one (chat, then all private
chats, then default) and, within a scope, the list of the user's language before the
list without a language. So every scope gets az, ru and en, and the default locale's list
once more without a language code for everyone else.

An agent's private chat is ``BotCommandScopeChat(chat_id=<user id>)``: Telegram's
``BotCommandScopeChatMember`` covers members of groups only. Telegram refuses a scope for
a chat the bot cannot see yet (an agent who has never opened the bot, a support chat the
bot was not added to); that scope is skipped with a warning and the rest goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from aiogram.utils.i18n import I18n

from bot.catalogues import LOCALES_DIR, compile_catalogues
from bot.config import LOCALES, Settings
from dialogs.common import N_

logger = logging.getLogger(__name__)

DESCRIPTION_LIMIT = 256

Menu = Sequence[tuple[str, str]]

SUBSCRIBER_COMMANDS: Menu = (
    ("start", N_("Start again: greeting and main menu")),
    ("menu", N_("Main menu: new application, status")),
    ("language", N_("Change the language")),
)
AGENT_COMMANDS: Menu = (
    ("status", N_("An application by its number, e.g. /status 125")),
    ("find", N_("Applications of a subscriber code or a FIN")),
    ("open", N_("Open work orders, oldest first")),
    ("stats", N_("Application statistics")),
)
STAFF_COMMANDS: Menu = (("open", N_("Open work orders, oldest first")),)


def menus(settings: Settings) -> list[tuple[BotCommandScope, Menu]]:
    """Every scope with its commands, broadest first."""
    result: list[tuple[BotCommandScope, Menu]] = [
        (BotCommandScopeAllPrivateChats(), SUBSCRIBER_COMMANDS)
    ]
    if settings.staff_chat_id is not None and settings.staff_chat_id != settings.support_chat_id:
        result.append((BotCommandScopeChat(chat_id=settings.staff_chat_id), STAFF_COMMANDS))
    if settings.support_chat_id is not None:
        result.append((BotCommandScopeChat(chat_id=settings.support_chat_id), AGENT_COMMANDS))
    for user_id in dict.fromkeys(settings.support_user_ids):
        menu = (*AGENT_COMMANDS, *SUBSCRIBER_COMMANDS)
        result.append((BotCommandScopeChat(chat_id=user_id), menu))
    return result


def bot_commands(menu: Menu, i18n: I18n, locale: str) -> list[BotCommand]:
    return [
        BotCommand(
            command=command,
            description=i18n.gettext(description, locale=locale)[:DESCRIPTION_LIMIT],
        )
        for command, description in menu
    ]


async def register_commands(bot: Bot, settings: Settings, *, i18n: I18n | None = None) -> None:
    """Call setMyCommands for every scope, in az, ru, en and without a language code."""
    if i18n is None:
        compile_catalogues()
        i18n = I18n(path=LOCALES_DIR, default_locale=settings.default_locale, domain="messages")
    languages: list[str | None] = [None, *LOCALES]
    for scope, menu in menus(settings):
        for language in languages:
            commands = bot_commands(menu, i18n, language or settings.default_locale)
            try:
                await bot.set_my_commands(commands, scope=scope, language_code=language)
            except TelegramAPIError as exc:
                logger.warning(
                    "support: the %s command menu was not set: %s", scope.type, exc.message
                )
                break
