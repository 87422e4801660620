"""The agents' commands and their page buttons.

Order matters: this router must come before the subscriber dialogs, or ``/status 125``
typed inside a dialog window would be taken as the window's input.

Access is checked before the argument is even read, so a refusal says nothing about
whether an application exists; it is logged with the command and the user id only.
``/open`` also works in the staff group, where everyone is staff and the cards show more.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from aiogram import Bot, Router
from aiogram.enums import ChatType, ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, Chat, LinkPreviewOptions, Message, User
from aiogram.utils.i18n import gettext

from bot.best_effort import best_effort
from bot.filters import GROUPS, StaffChatCheck, is_command, no_staff_chat
from bot.staff.access import StaffAccess
from bot.support.access import AgentAccess
from bot.support.commands import AgentCommand
from bot.support.paging import SupportPageCD, page_keyboard, with_footer
from bot.support.texts import (
    FIND_USAGE,
    REFUSAL,
    REFUSAL_SHORT,
    STATUS_MISSING,
    STATUS_USAGE,
    application_pages,
    found_pages,
    open_pages,
    stats_pages,
)
from dialogs.common import current_locale
from dialogs.wording import esc
from workflows.errors import ApplicationNotFound
from workflows.support import SEARCH_MAX_INPUT, InvalidSearch, SearchTerm, Support

logger = logging.getLogger(__name__)

NUMBER_RE = re.compile(r"[#№]?\s*(\d{1,12})")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class Usage(Exception):
    """The argument is wrong: answer with this one line instead."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(slots=True)
class SupportHandlers:
    support: Support
    access: AgentAccess
    support_chat_id: int | None
    # Is this chat id the staff group (under any id it has had)?
    is_staff_chat: StaffChatCheck = no_staff_chat
    # Who may act in the staff group (STAFF_USER_IDS or membership), as for the card buttons.
    staff_access: StaffAccess | None = None

    # --- who and where --------------------------------------------------------------------
    async def routed(self, chat: Chat, cmd: AgentCommand) -> bool:
        """Chats where the command is ours to answer; elsewhere it is left alone."""
        if chat.type == ChatType.PRIVATE or chat.id == self.support_chat_id:
            return True
        return (
            cmd is AgentCommand.OPEN and chat.type in GROUPS and await self.is_staff_chat(chat.id)
        )

    async def allowed(
        self, bot: Bot, chat: Chat, user: User | None, sender_chat: Chat | None, cmd: AgentCommand
    ) -> bool:
        if chat.id == self.support_chat_id and sender_chat is not None:
            # An anonymous admin of the support chat writes as the chat itself.
            return sender_chat.id == chat.id
        if chat.type == ChatType.PRIVATE or chat.id == self.support_chat_id:
            if sender_chat is not None or user is None:
                return False
            return await self.access.is_agent(bot, user.id)
        if not await self.routed(chat, cmd):
            return False
        # /open in the staff group: for whoever may press the cards' buttons there.
        if sender_chat is not None or user is None or self.staff_access is None:
            return False
        return self.staff_access.writer_allowed(user.id)

    @staticmethod
    def log_refusal(cmd: AgentCommand, chat: Chat, user: User | None) -> None:
        logger.info(
            "support: refused /%s to user %s in a %s chat",
            cmd.command,
            user.id if user else "-",
            chat.type,
        )

    # --- the answers ----------------------------------------------------------------------
    async def pages(self, cmd: AgentCommand, raw: str) -> tuple[list[str], str]:
        """The answer's pages and the normalised argument for the page buttons."""
        locale = current_locale()
        raw = raw.strip()
        if cmd is AgentCommand.STATUS:
            match = NUMBER_RE.fullmatch(raw) if len(raw) <= SEARCH_MAX_INPUT else None
            if match is None:
                raise Usage(esc(gettext(STATUS_USAGE)))
            number = int(match.group(1))
            try:
                file = await self.support.application(number)
            except ApplicationNotFound:
                raise Usage(esc(gettext(STATUS_MISSING).format(number=number))) from None
            reasons = await self.support.reasons()
            return application_pages(file, reasons, locale), str(number)
        if cmd is AgentCommand.FIND:
            try:
                term = SearchTerm.parse(raw)
            except InvalidSearch:
                raise Usage(esc(gettext(FIND_USAGE))) from None
            return found_pages(await self.support.find(term)), term.key
        if cmd is AgentCommand.OPEN:
            return open_pages(await self.support.open_orders()), ""
        return stats_pages(await self.support.stats()), ""

    async def on_command(
        self, message: Message, command: CommandObject, bot: Bot, agent_command: AgentCommand
    ) -> None:
        cmd, args = agent_command, command.args
        if not await self.allowed(bot, message.chat, message.from_user, message.sender_chat, cmd):
            self.log_refusal(cmd, message.chat, message.from_user)
            await message.answer(esc(gettext(REFUSAL)), parse_mode=ParseMode.HTML)
            return
        try:
            pages, arg = await self.pages(cmd, args or "")
        except Usage as usage:
            await message.answer(usage.text, parse_mode=ParseMode.HTML)
            return
        await message.answer(
            with_footer(pages, 0),
            parse_mode=ParseMode.HTML,
            reply_markup=page_keyboard(cmd, arg, 0, len(pages)),
            link_preview_options=NO_PREVIEW,
        )

    async def on_page(
        self, callback: CallbackQuery, callback_data: SupportPageCD, bot: Bot
    ) -> None:
        data = callback_data
        message = callback.message
        if message is None or not await self.routed(message.chat, data.cmd):
            chat_id = message.chat.id if message else None
            await best_effort(callback.answer(), "answering a support page button", chat_id)
            return
        if not await self.allowed(bot, message.chat, callback.from_user, None, data.cmd):
            self.log_refusal(data.cmd, message.chat, callback.from_user)
            await callback.answer(gettext(REFUSAL_SHORT), show_alert=True)
            return
        try:
            pages, arg = await self.pages(data.cmd, data.arg)
        except Usage as usage:
            await callback.answer(re.sub(r"<[^>]+>", "", usage.text)[:200], show_alert=True)
            return
        await best_effort(callback.answer(), "answering a support page button", message.chat.id)
        page = min(max(data.page, 0), len(pages) - 1)
        text = with_footer(pages, page)
        markup = page_keyboard(data.cmd, arg, page, len(pages))
        if not isinstance(message, Message):
            # Too old to edit (an InaccessibleMessage): send the page anew.
            await bot.send_message(
                message.chat.id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=NO_PREVIEW,
            )
            return
        try:
            await message.edit_text(
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=NO_PREVIEW,
            )
        except TelegramBadRequest as exc:
            # A double press shows the same page again; Telegram refuses a no-op edit.
            if "message is not modified" not in exc.message:
                raise


class AgentCommandFilter(Filter):
    """Passes ``/<command>`` in the chats where it is ours and names it for the handler."""

    def __init__(self, handlers: SupportHandlers, cmd: AgentCommand) -> None:
        self.handlers = handlers
        self.cmd = cmd

    async def __call__(self, message: Message) -> bool | dict[str, AgentCommand]:
        if not await self.handlers.routed(message.chat, self.cmd):
            return False
        return {"agent_command": self.cmd}


def build_router(handlers: SupportHandlers) -> Router:
    router = Router(name="support")
    router.message.filter(is_command)
    for cmd in AgentCommand:
        router.message.register(
            handlers.on_command, Command(cmd.command), AgentCommandFilter(handlers, cmd)
        )
    router.callback_query.register(handlers.on_page, SupportPageCD.filter())
    return router
