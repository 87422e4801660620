"""The staff group: Take, Done and Reject on work-order cards, and the result-note prompts.

A press calls the work-order use case and answers the presser at once; the card itself is
edited by the outbox (the use case queued the edit in its transaction), so there is one way
a card changes, whether the press came a second or a day ago. Done and Reject first ask for
a short note: the bot posts a ForceReply prompt (selective, mentioning the presser) as a
reply to the card, and the note is the presser's reply to it. In groups the bot's privacy
mode still delivers replies to its own messages, so the prompt works without admin rights.

All texts are in STAFF_LOCALE, whatever the language of the person who pressed.

(Over 400 lines on purpose: one class, the staff group's three buttons and two prompts; its
seams — rendering, prompts, access, callback data — are modules of their own already.)
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Filter
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    User,
)
from aiogram.utils.i18n import I18n

from bot.best_effort import best_effort
from bot.staff.access import ANONYMOUS_ADMIN_ID, StaffAccess, StaffChats, display_name
from bot.staff.callback_data import PromptAction, PromptCD, WorkOrderAction, WorkOrderCD
from bot.staff.prompts import Prompt, PromptBook
from dialogs.wording import Translate, translator
from workflows.errors import (
    AlreadyClosed,
    AlreadyTaken,
    ApplicationNotFound,
    NotTakenYet,
    TakenByAnother,
    WorkOrderError,
)
from workflows.models import ApplicationStatus, StaffMember
from workflows.ports import Clock
from workflows.values import InvalidText, parse_text
from workflows.withdrawal import NoWithdrawalRequest
from workflows.work_orders import WorkOrders

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH = 1000
ANSWER_LIMIT = 200


class Waker(Protocol):
    def wake(self) -> None:
        """Look at the outbox now."""


class DateAsker(Protocol):
    async def ask(self, bot: Bot, card: Message, number: int, user: User, _: Translate) -> None:
        """Right after Take: ask the taker when the work will be done (``bot.staff.planning``)."""


def refusal(exc: WorkOrderError | ApplicationNotFound, _: Translate) -> str:
    """The "already ..." answer for a press that changes nothing."""
    if isinstance(exc, ApplicationNotFound):
        return _("This work order was not found.")
    number = exc.number
    name = exc.actor_name or "?"
    if isinstance(exc, AlreadyTaken):
        return _("You have already taken work order No. {number}.").format(number=number)
    if isinstance(exc, TakenByAnother):
        return _("Work order No. {number} is already taken by {name}.").format(
            number=number, name=name
        )
    if isinstance(exc, AlreadyClosed):
        if exc.status == ApplicationStatus.DONE.value:
            return _("Work order No. {number} is already done.").format(number=number)
        if exc.status == ApplicationStatus.WITHDRAWN.value:
            return _("Work order No. {number} was withdrawn by the subscriber.").format(
                number=number
            )
        return _("Work order No. {number} is already rejected.").format(number=number)
    if isinstance(exc, NoWithdrawalRequest):
        return _("Work order No. {number} has no withdrawal request waiting.").format(
            number=number
        )
    if isinstance(exc, NotTakenYet):
        return _("Work order No. {number} is not taken yet: press Take first.").format(
            number=number
        )
    return _("Work order No. {number} cannot be changed now.").format(number=number)


def anonymous_hint(_: Translate) -> str:
    return _(
        "An anonymous administrator cannot be identified. Turn off “Remain anonymous” "
        "and press again as yourself."
    )


async def answer(callback: CallbackQuery, text: str, *, alert: bool = False) -> None:
    """Answer a press; Telegram shows at most 200 characters."""
    if len(text) > ANSWER_LIMIT:
        text = text[: ANSWER_LIMIT - 1] + "…"
    await callback.answer(text, show_alert=alert)


def mention(user: User) -> str:
    return f'<a href="tg://user?id={user.id}">{html.escape(display_name(user))}</a>'


class PromptFilter(Filter):
    """Passes a reply to one of the bot's pending prompts; hands the prompt to the handler."""

    async def __call__(
        self, message: Message, bot: Bot, fsm_storage: BaseStorage | None = None
    ) -> bool | dict[str, Any]:
        original = message.reply_to_message
        if original is None or fsm_storage is None:
            return False
        if original.from_user is None or original.from_user.id != bot.id:
            return False
        prompt = await PromptBook(fsm_storage, bot.id).get(message.chat.id, original.message_id)
        if prompt is None:
            return False
        return {"prompt": prompt}


@dataclass
class StaffHandlers:
    work_orders: WorkOrders
    chats: StaffChats
    access: StaffAccess
    clock: Clock
    locale: str = field(kw_only=True)
    outbox: Waker | None = field(default=None, kw_only=True)
    # Set by ``bot.staff.setup``: the planned-date prompt after Take.
    planner: DateAsker | None = field(default=None, kw_only=True)
    # DONE_PHOTO: a photo with Done's note (its caption) is "optional", "required" or "off".
    done_photo: str = field(default="optional", kw_only=True)

    def _wake_outbox(self) -> None:
        """The use case queued a card edit or a notice: have it sent now, not at the next poll."""
        if self.outbox is not None:
            self.outbox.wake()

    def _t(self, i18n: I18n) -> Translate:
        return translator(i18n, self.locale)

    async def _refuse_presser(self, callback: CallbackQuery, bot: Bot, _: Translate) -> bool:
        """Answer and return True when this press may not act on work orders."""
        message = callback.message
        if message is None or not await self.chats.contains(message.chat.id):
            await answer(callback, _("These buttons work only in the staff group."), alert=True)
            return True
        if callback.from_user.id == ANONYMOUS_ADMIN_ID:
            await answer(callback, anonymous_hint(_), alert=True)
            return True
        if not await self.access.allowed(bot, message.chat.id, callback.from_user.id):
            await answer(callback, _("Only the staff can handle work orders."), alert=True)
            return True
        return False

    # --- the card's buttons ------------------------------------------------------------------
    async def on_work_order(
        self,
        callback: CallbackQuery,
        callback_data: WorkOrderCD,
        bot: Bot,
        i18n: I18n,
        fsm_storage: BaseStorage,
    ) -> None:
        _ = self._t(i18n)
        if await self._refuse_presser(callback, bot, _):
            return
        user = callback.from_user
        staff = StaffMember(user_id=user.id, name=display_name(user))
        number = callback_data.number
        if callback_data.action is WorkOrderAction.TAKE:
            try:
                await self.work_orders.take(number, staff)
            except (WorkOrderError, ApplicationNotFound) as exc:
                await answer(callback, refusal(exc, _), alert=True)
                return
            self._wake_outbox()
            logger.info("work order %s taken by %s", number, user.id)
            await answer(callback, _("You took work order No. {number}.").format(number=number))
            if self.planner is not None and isinstance(callback.message, Message):
                await self.planner.ask(bot, callback.message, number, user, _)
            return
        target = (
            ApplicationStatus.DONE
            if callback_data.action is WorkOrderAction.DONE
            else ApplicationStatus.REJECTED
        )
        try:
            await self.work_orders.check(number, target, staff)
        except (WorkOrderError, ApplicationNotFound) as exc:
            await answer(callback, refusal(exc, _), alert=True)
            return
        card = callback.message
        if card is None:  # _refuse_presser has answered such a press
            return
        prompt = Prompt(
            number=number,
            action=callback_data.action.value,
            user_id=user.id,
            user_name=staff.name,
        )
        try:
            await self._ask(bot, fsm_storage, card.chat.id, card.message_id, prompt, user, _)
        except TelegramAPIError as exc:
            logger.warning("prompt for work order %s not posted: %s", number, exc)
            await answer(
                callback, _("Telegram is busy; please press again in a minute."), alert=True
            )
            return
        await answer(
            callback,
            _("Reply to my message with the result note.")
            if target is ApplicationStatus.DONE
            else _("Reply to my message with the reason."),
        )

    async def _ask(
        self,
        bot: Bot,
        fsm_storage: BaseStorage,
        chat_id: int,
        reply_to: int | None,
        prompt: Prompt,
        user: User,
        _: Translate,
        *,
        problem: str | None = None,
    ) -> None:
        """Post a ForceReply prompt for ``prompt`` and remember it."""
        if prompt.action == WorkOrderAction.DONE.value:
            text = _(
                "✍️ {name}, reply to this message with the result note for work order "
                "No. {number}: what was done (up to {limit} characters)."
            )
            placeholder = _("Result note")
            if self.done_photo == "required":
                text += "\n" + _(
                    "📷 Send it as a photo (the valve, the seal) with the note as its caption."
                )
            elif self.done_photo == "optional":
                text += "\n" + _(
                    "📷 You may send a photo (the valve, the seal) with the note as its caption."
                )
        else:
            text = _(
                "✍️ {name}, reply to this message with the reason for rejecting work order "
                "No. {number} (up to {limit} characters)."
            )
            placeholder = _("Reason for rejection")
        text = text.format(name=mention(user), number=prompt.number, limit=NOTE_MAX_LENGTH)
        if problem:
            text = f"⚠️ {problem}\n\n{text}"
        sent = await bot.send_message(
            chat_id,
            text,
            reply_parameters=ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if reply_to
            else None,
            reply_markup=ForceReply(
                force_reply=True, selective=True, input_field_placeholder=placeholder[:64]
            ),
        )
        await PromptBook(fsm_storage, bot.id).put(chat_id, sent.message_id, prompt)
        # A message carries one markup: ForceReply when sent; the Cancel button is added
        # by an edit (best effort: without it the prompt still works).
        cancel = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("✖️ Cancel"),
                        callback_data=PromptCD(
                            action=PromptAction.CANCEL, number=prompt.number
                        ).pack(),
                    )
                ]
            ]
        )
        await best_effort(
            bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=sent.message_id, reply_markup=cancel
            ),
            "adding the prompt's Cancel button",
            chat_id,
        )

    # --- the prompt's Cancel button ----------------------------------------------------------
    async def on_prompt_cancel(
        self,
        callback: CallbackQuery,
        callback_data: PromptCD,
        bot: Bot,
        i18n: I18n,
        fsm_storage: BaseStorage,
    ) -> None:
        _ = self._t(i18n)
        # _refuse_presser answers a refused press, and a press whose message is gone.
        if await self._refuse_presser(callback, bot, _) or callback.message is None:
            return
        message = callback.message
        book = PromptBook(fsm_storage, bot.id)
        prompt = await book.get(message.chat.id, message.message_id)
        if prompt is None:
            await answer(callback, _("This request is no longer active."))
            await self._close_prompt(bot, message.chat.id, message.message_id, None)
            return
        if prompt.user_id != callback.from_user.id:
            await answer(
                callback,
                _("Only {name} can answer or cancel this request.").format(name=prompt.user_name),
                alert=True,
            )
            return
        await book.drop(message.chat.id, message.message_id)
        await self._close_prompt(
            bot,
            message.chat.id,
            message.message_id,
            _("Cancelled: work order No. {number} was not changed.").format(number=prompt.number),
        )
        await answer(callback, _("Cancelled."))

    async def _close_prompt(
        self, bot: Bot, chat_id: int, message_id: int, text: str | None
    ) -> None:
        if text is None:
            edit = bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            )
        else:
            edit = bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id)
        await best_effort(edit, "closing a prompt", chat_id)

    # --- the note: a reply to the prompt -----------------------------------------------------
    async def on_prompt_reply(
        self,
        message: Message,
        prompt: Prompt,
        bot: Bot,
        i18n: I18n,
        fsm_storage: BaseStorage,
    ) -> None:
        _ = self._t(i18n)
        user = message.from_user
        original = message.reply_to_message
        if original is None:  # PromptFilter matches replies only
            return
        if user is None or user.id == ANONYMOUS_ADMIN_ID or message.sender_chat is not None:
            await message.reply(anonymous_hint(_))
            return
        if user.id != prompt.user_id:
            await message.reply(
                _(
                    "This request is for {name}: only they can answer it. To close the order "
                    "yourself, press the button on its card."
                ).format(name=html.escape(prompt.user_name))
            )
            return
        if not await self.access.allowed(bot, message.chat.id, user.id):
            await message.reply(_("Only the staff can handle work orders."))
            return
        book = PromptBook(fsm_storage, bot.id)
        problem: str | None = None
        note: str | None = None
        done = prompt.action == WorkOrderAction.DONE.value
        raw, photo = message.text, None
        if message.photo and done and self.done_photo != "off":
            raw, photo = message.caption or "", message.photo[-1].file_id
        if raw is None:
            problem = _("Please answer with text.")
        elif done and self.done_photo == "required" and photo is None:
            problem = _("Please send a photo with the result note as its caption.")
        else:
            try:
                note = parse_text(raw, max_length=NOTE_MAX_LENGTH)
            except InvalidText as exc:
                if exc.code == "too_long":
                    problem = _(
                        "That is {length} characters; the limit is {limit}. Please shorten it "
                        "and send again."
                    ).format(length=exc.length, limit=exc.limit)
                else:
                    problem = _("This field is required. Please type a few words.")
        if note is None:
            # Ask again, as a reply to the staff member's message: one tap to answer.
            try:
                await self._ask(
                    bot,
                    fsm_storage,
                    message.chat.id,
                    message.message_id,
                    prompt,
                    user,
                    _,
                    problem=problem,
                )
            except TelegramAPIError as exc:
                logger.warning("prompt for work order %s not posted: %s", prompt.number, exc)
            return
        staff = StaffMember(user_id=user.id, name=display_name(user))
        try:
            if prompt.action == WorkOrderAction.DONE.value:
                await self.work_orders.complete(prompt.number, staff, note, photo)
            else:
                await self.work_orders.reject(prompt.number, staff, note)
        except (WorkOrderError, ApplicationNotFound) as exc:
            await book.drop(message.chat.id, original.message_id)
            await message.reply(refusal(exc, _))
            await self._close_prompt(bot, message.chat.id, original.message_id, None)
            return
        await book.drop(message.chat.id, original.message_id)
        self._wake_outbox()
        logger.info("work order %s %s by %s", prompt.number, prompt.action, user.id)
        if prompt.action == WorkOrderAction.DONE.value:
            done = _("✅ Work order No. {number} is done; the result is recorded.")
        else:
            done = _("❌ Work order No. {number} is rejected; the reason is recorded.")
        # The prompt keeps its text (only its Cancel button goes); the answer comes below
        # the note, as a reply to it.
        await best_effort(
            message.reply(done.format(number=prompt.number)),
            "confirming a note",
            message.chat.id,
        )
        await self._close_prompt(bot, message.chat.id, original.message_id, None)

    # --- the group became a supergroup -------------------------------------------------------
    async def on_migrate_to(self, message: Message) -> None:
        """Service message in the old group: it is now ``migrate_to_chat_id``."""
        if message.migrate_to_chat_id is not None:
            await self.chats.learn(message.chat.id, message.migrate_to_chat_id, self.clock.now())

    async def on_migrate_from(self, message: Message) -> None:
        """Service message in the new supergroup: it was ``migrate_from_chat_id``."""
        old = message.migrate_from_chat_id
        if old is not None and await self.chats.contains(old):
            await self.chats.learn(old, message.chat.id, self.clock.now())
