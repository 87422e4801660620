"""The agents' commands and their page buttons.

Order matters: this router must come before the subscriber dialogs, or ``/status 125``
typed inside a dialog window would be taken as the window's input.

Access is checked before the argument is even read, so a refusal says nothing about
whether an application exists; it is logged with the command and the user id only.
In the staff group, where everyone is staff and the cards show more, ``/open`` answers whoever
may press the cards' buttons, and the other commands answer the agents among the staff (the
rest get the refusal, never silence); ``/help`` there (and in the support chat) lists the
commands the sender can use.

Every answer is a look-up that the access log records first, under the agent's own id: an
anonymous admin (who writes as the chat, user id 1087968824) cannot be named, so it is
refused with a hint to write as itself. Membership of the support chat is re-checked after
at most ``AgentAccess.ttl`` (10 s).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import Enum

from aiogram import Bot, Router
from aiogram.enums import ChatType, ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, Filter
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import CallbackQuery, Chat, LinkPreviewOptions, Message, User
from aiogram.utils.i18n import gettext

from bot.best_effort import best_effort
from bot.commands import BUTTON_GONE
from bot.filters import GROUPS, StaffChatCheck, is_command, is_press, no_staff_chat
from bot.screen import LatestMessages
from bot.staff.access import ANONYMOUS_ADMIN_ID, StaffAccess
from bot.support.access import AgentAccess
from bot.support.commands import AgentCommand
from bot.support.menu import AGENT_COMMANDS, HELP_COMMAND, HELP_TITLE
from bot.support.paging import SupportPageCD, page_keyboard, with_footer
from bot.support.status_texts import application_pages
from bot.support.texts import (
    ANONYMOUS_REFUSAL,
    FIND_USAGE,
    REFUSAL,
    REFUSAL_SHORT,
    STATUS_MISSING,
    STATUS_USAGE,
    found_pages,
    open_pages,
    stats_pages,
)
from dialogs.common import current_locale
from dialogs.wording import N_, esc, fmt_dt
from workflows.errors import ApplicationNotFound
from workflows.support import SEARCH_MAX_INPUT, InvalidSearch, SearchTerm, Support

logger = logging.getLogger(__name__)

NUMBER_RE = re.compile(r"[#№]?\s*(\d{1,12})")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Done's photos sent after a /status answer, at most this many (newest reopenings aside).
PHOTOS_LIMIT = 5
PHOTO_CAPTION = N_("📷 Application No. {number}: the photo with the result note, {time}")


class Verdict(Enum):
    AGENT = "agent"
    REFUSED = "refused"
    ANONYMOUS = "anonymous"  # an anonymous admin: told to write as itself


def anonymous(user: User | None, sender_chat: Chat | None, chat: Chat) -> bool:
    """Written by an anonymous admin of ``chat`` (as the chat itself, through
    GroupAnonymousBot): nobody can tell which admin."""
    if user is not None and user.id == ANONYMOUS_ADMIN_ID:
        return True
    return sender_chat is not None and sender_chat.id == chat.id


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
        return chat.type in GROUPS and await self.is_staff_chat(chat.id)

    async def verdict(
        self, bot: Bot, chat: Chat, user: User | None, sender_chat: Chat | None, cmd: AgentCommand
    ) -> Verdict:
        """May ``user`` ask ``cmd`` here? Only an agent under its own id: every look-up is
        logged as someone's."""
        if chat.type == ChatType.PRIVATE or chat.id == self.support_chat_id:
            if anonymous(user, sender_chat, chat):
                return Verdict.ANONYMOUS
            if sender_chat is not None or user is None:
                return Verdict.REFUSED
            return Verdict.AGENT if await self.access.is_agent(bot, user.id) else Verdict.REFUSED
        if not await self.routed(chat, cmd):
            return Verdict.REFUSED
        if anonymous(user, sender_chat, chat):
            return Verdict.ANONYMOUS
        if sender_chat is not None or user is None:
            return Verdict.REFUSED
        # /open in the staff group: for whoever may press the cards' buttons there.
        staff = self.staff_access
        if cmd is AgentCommand.OPEN and staff is not None and staff.writer_allowed(user.id):
            return Verdict.AGENT
        # The other commands (and /open for an agent): for the agents among the staff.
        return Verdict.AGENT if await self.access.is_agent(bot, user.id) else Verdict.REFUSED

    @staticmethod
    def log_refusal(cmd: AgentCommand, chat: Chat, user: User | None, verdict: Verdict) -> None:
        logger.info(
            "support: refused /%s to %s %s in a %s chat",
            cmd.command,
            "the anonymous admin" if verdict is Verdict.ANONYMOUS else "user",
            user.id if user else "-",
            chat.type,
        )

    # --- the answers ----------------------------------------------------------------------
    async def pages(self, cmd: AgentCommand, raw: str, agent: int) -> tuple[list[str], str]:
        """The answer's pages and the normalised argument for the page buttons; the look-up
        is logged as ``agent``'s (a bad argument looks nothing up and is not logged)."""
        locale = current_locale()
        raw = raw.strip()
        if cmd is AgentCommand.STATUS:
            match = NUMBER_RE.fullmatch(raw) if len(raw) <= SEARCH_MAX_INPUT else None
            if match is None:
                raise Usage(esc(gettext(STATUS_USAGE)))
            number = int(match.group(1))
            try:
                file = await self.support.application(number, agent=agent)
            except ApplicationNotFound:
                raise Usage(esc(gettext(STATUS_MISSING).format(number=number))) from None
            reasons = await self.support.reasons()
            return application_pages(file, reasons, locale), str(number)
        if cmd is AgentCommand.FIND:
            try:
                term = SearchTerm.parse(raw)
            except InvalidSearch:
                raise Usage(esc(gettext(FIND_USAGE))) from None
            found = await self.support.find(term, agent=agent)
            return found_pages(found), term.key
        if cmd is AgentCommand.OPEN:
            return open_pages(await self.support.open_orders(agent=agent)), ""
        stats = await self.support.stats(agent=agent)
        return stats_pages(stats, await self.support.reasons(), locale), ""

    async def on_command(
        self,
        message: Message,
        command: CommandObject,
        bot: Bot,
        agent_command: AgentCommand,
        fsm_storage: BaseStorage | None = None,
    ) -> None:
        sent = await self.answer(message, command, bot, agent_command)
        if fsm_storage is not None:  # a dialog window above it is sent anew, not edited
            await LatestMessages(fsm_storage).sent(bot.id, sent)

    async def answer(
        self, message: Message, command: CommandObject, bot: Bot, cmd: AgentCommand
    ) -> Message:
        args, user = command.args, message.from_user
        verdict = await self.verdict(bot, message.chat, user, message.sender_chat, cmd)
        if verdict is not Verdict.AGENT or user is None:
            self.log_refusal(cmd, message.chat, user, verdict)
            text = ANONYMOUS_REFUSAL if verdict is Verdict.ANONYMOUS else REFUSAL
            return await message.answer(esc(gettext(text)), parse_mode=ParseMode.HTML)
        try:
            pages, arg = await self.pages(cmd, args or "", user.id)
        except Usage as usage:
            return await message.answer(usage.text, parse_mode=ParseMode.HTML)
        sent = await message.answer(
            with_footer(pages, 0),
            parse_mode=ParseMode.HTML,
            reply_markup=page_keyboard(cmd, arg, 0, len(pages)),
            link_preview_options=NO_PREVIEW,
        )
        if cmd is AgentCommand.STATUS and arg.isdigit():
            await self.send_photos(message, int(arg))
        return sent

    async def send_photos(self, message: Message, number: int) -> None:
        """Done's photos (issue 19, item 3), each with its time, after the ``/status``."""
        for event in (await self.support.photos(number))[:PHOTOS_LIMIT]:
            caption = gettext(PHOTO_CAPTION).format(number=number, time=fmt_dt(event.at, gettext))
            await best_effort(
                message.answer_photo(
                    str(event.photo_file_id), caption=esc(caption), parse_mode=ParseMode.HTML
                ),
                "sending a photo of an application",
                message.chat.id,
            )

    async def on_help(self, message: Message, bot: Bot) -> None:
        """``/help`` in the staff group or the support chat: the sender's commands there."""
        descriptions = dict(AGENT_COMMANDS)
        lines = [
            f"/{cmd.command} — {esc(gettext(descriptions[cmd.command]))}"
            for cmd in AgentCommand
            if await self.verdict(bot, message.chat, message.from_user, message.sender_chat, cmd)
            is Verdict.AGENT
        ]
        if not lines:
            await message.answer(esc(gettext(REFUSAL)), parse_mode=ParseMode.HTML)
            return
        command, description = HELP_COMMAND
        lines.append(f"/{command} — {esc(gettext(description))}")
        text = "\n".join([f"<b>{esc(gettext(HELP_TITLE))}</b>", *lines])
        await message.answer(text, parse_mode=ParseMode.HTML)

    async def on_page(
        self, callback: CallbackQuery, callback_data: SupportPageCD, bot: Bot
    ) -> None:
        data = callback_data
        message = callback.message
        if message is None or not await self.routed(message.chat, data.cmd):
            # A group's press (routed() takes every private chat): not a button of ours there.
            chat_id = message.chat.id if message else None
            gone = callback.answer(gettext(BUTTON_GONE))
            await best_effort(gone, "answering a support page button", chat_id)
            return
        user = callback.from_user
        verdict = await self.verdict(bot, message.chat, user, None, data.cmd)
        if verdict is not Verdict.AGENT:
            self.log_refusal(data.cmd, message.chat, user, verdict)
            text = ANONYMOUS_REFUSAL if verdict is Verdict.ANONYMOUS else REFUSAL_SHORT
            await callback.answer(gettext(text)[:200], show_alert=True)
            return
        try:
            pages, arg = await self.pages(data.cmd, data.arg, user.id)
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


class GroupHelpFilter(Filter):
    """Passes ``/help`` in the groups whose menus the bot sets: staff group, support chat."""

    def __init__(self, handlers: SupportHandlers) -> None:
        self.handlers = handlers

    async def __call__(self, message: Message) -> bool:
        chat = message.chat
        if chat.type not in GROUPS:
            return False
        return chat.id == self.handlers.support_chat_id or await self.handlers.is_staff_chat(
            chat.id
        )


def build_router(handlers: SupportHandlers) -> Router:
    router = Router(name="support")
    router.message.filter(is_command)
    for cmd in AgentCommand:
        router.message.register(
            handlers.on_command, Command(cmd.command), AgentCommandFilter(handlers, cmd)
        )
    router.message.register(handlers.on_help, Command("help"), GroupHelpFilter(handlers))
    router.callback_query.register(handlers.on_page, is_press, SupportPageCD.filter())
    return router
