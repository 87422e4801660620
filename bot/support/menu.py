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
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from aiogram.utils.i18n import I18n

from dialogs.wording import LOCALES, N_

logger = logging.getLogger(__name__)

DESCRIPTION_LIMIT = 256

Menu = Sequence[tuple[str, str]]

SUBSCRIBER_COMMANDS: Menu = (
    ("start", N_("Start again: greeting and main menu")),
    ("menu", N_("Main menu: new application, status")),
    ("language", N_("Change the language")),
    ("mydata", N_("My data: everything the bot keeps about me")),
    ("forget", N_("Erase my data")),
    ("logout", N_("Log out of the FIN I proved on this account")),
    ("privacy", N_("Privacy: what is kept, for how long, who sees it")),
)
AGENT_COMMANDS: Menu = (
    ("status", N_("An application by its number, e.g. /status 125")),
    ("find", N_("Applications of a subscriber code or a FIN")),
    ("open", N_("Open work orders, oldest first")),
    ("stats", N_("Application statistics")),
)
STAFF_COMMANDS: Menu = (("open", N_("Open work orders, oldest first")),)


@dataclass(frozen=True, slots=True)
class CommandMenus:
    """Where each menu goes: the staff group, the support chat, each agent's private chat."""

    default_locale: str
    staff_chat_id: int | None = None
    support_chat_id: int | None = None
    agent_ids: Sequence[int] = ()

    def scopes(self) -> list[tuple[BotCommandScope, Menu]]:
        """Every scope with its commands, broadest first."""
        result: list[tuple[BotCommandScope, Menu]] = [
            (BotCommandScopeAllPrivateChats(), SUBSCRIBER_COMMANDS)
        ]
        if self.staff_chat_id is not None and self.staff_chat_id != self.support_chat_id:
            result.append((BotCommandScopeChat(chat_id=self.staff_chat_id), STAFF_COMMANDS))
        if self.support_chat_id is not None:
            result.append((BotCommandScopeChat(chat_id=self.support_chat_id), AGENT_COMMANDS))
        for user_id in dict.fromkeys(self.agent_ids):
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


async def register_commands(bot: Bot, menus: CommandMenus, i18n: I18n) -> None:
    """Call setMyCommands for every scope, in every language and without a language code."""
    languages: list[str | None] = [None, *LOCALES]
    for scope, menu in menus.scopes():
        for language in languages:
            commands = bot_commands(menu, i18n, language or menus.default_locale)
            try:
                await bot.set_my_commands(commands, scope=scope, language_code=language)
            except TelegramAPIError as exc:
                logger.warning(
                    "support: the %s command menu was not set: %s", scope.type, exc.message
                )
                break
