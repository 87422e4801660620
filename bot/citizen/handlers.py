"""The subscriber's answer after Done: Yes/No, a rating, and an optional short comment.

The question is an outbox row (``confirm_ask``); its buttons come here. Yes turns the
question into the 1..5 rating; a rating, or No, asks for an optional comment in the next
message, with a Skip button. The comment awaited is kept in the FSM storage (destiny
``cz_wait``, :data:`WAIT_FOR`), so the next text message of that chat is taken as the
comment before any dialog sees it: a reply to the question always, any other text only while
no dialog window that takes typing is open (:func:`takes_comment`: a form's field keeps its
text). Skip works without it, whenever it is pressed.
No reopens the order only when the comment (or Skip) comes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiogram import Bot
from aiogram.filters import Filter
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from bot.best_effort import best_effort
from bot.citizen.callback_data import CitizenAction, CitizenCD
from bot.citizen.texts import rating_keyboard, skip_keyboard, stars
from dialogs.states import ApplicationSG, MainSG, StatusSG
from dialogs.wording import Translate, translator
from workflows.citizen import COMMENT_MAX_LENGTH, Answer, Citizen, Outcome
from workflows.ports import Clock
from workflows.values import InvalidText, parse_text

logger = logging.getLogger(__name__)

DESTINY = "cz_wait"
# How long the next text message is taken as the comment; Skip works later too.
WAIT_FOR = timedelta(hours=24)


class Waker(Protocol):
    def wake(self) -> None:
        """Look at the outbox now."""


@dataclass(frozen=True, slots=True)
class Waiting:
    """A comment the bot waits for: after No (``no``) or after a rating (``rating``)."""

    what: str
    number: int
    round: int
    message_id: int
    at: datetime


class WaitBook:
    def __init__(self, storage: BaseStorage, bot_id: int) -> None:
        self.storage = storage
        self.bot_id = bot_id

    def _key(self, chat_id: int) -> StorageKey:
        return StorageKey(bot_id=self.bot_id, chat_id=chat_id, user_id=chat_id, destiny=DESTINY)

    async def put(self, chat_id: int, waiting: Waiting) -> None:
        data = {
            "what": waiting.what,
            "number": waiting.number,
            "round": waiting.round,
            "message_id": waiting.message_id,
            "at": waiting.at.isoformat(),
        }
        await self.storage.set_data(self._key(chat_id), data)

    async def get(self, chat_id: int) -> Waiting | None:
        data: dict[str, Any] = await self.storage.get_data(self._key(chat_id))
        if not data or "number" not in data:
            return None
        return Waiting(
            what=str(data["what"]),
            number=int(data["number"]),
            round=int(data["round"]),
            message_id=int(data["message_id"]),
            at=datetime.fromisoformat(str(data["at"])),
        )

    async def drop(self, chat_id: int) -> None:
        await self.storage.set_data(self._key(chat_id), {})


# Windows of the subscriber's dialogs that take no typed text: a text sent while one of them
# is open may be the comment. In any other (a form's field, a look-up) the text is the
# dialog's, unless it is a reply to the question itself.
NO_TYPING = frozenset(
    {MainSG.menu, MainSG.language, StatusSG.listing, StatusSG.detail, ApplicationSG.registered}
)


def takes_comment(state: str | None, replies_to_question: bool) -> bool:
    """Whether a text is the awaited comment, given the open dialog's ``state`` (None: no
    dialog) and whether it replies to the question's message."""
    if replies_to_question or state is None:
        return True
    return any(state == s.state for s in NO_TYPING)


class WaitingFilter(Filter):
    """Passes a private text message that is the comment awaited in its chat."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def __call__(
        self,
        message: Message,
        bot: Bot,
        fsm_storage: BaseStorage | None = None,
        aiogd_context: Any = None,
    ) -> bool | dict[str, Any]:
        if fsm_storage is None or message.chat.type != "private" or message.text is None:
            return False
        if message.text.startswith("/"):
            return False
        waiting = await WaitBook(fsm_storage, bot.id).get(message.chat.id)
        if waiting is None:
            return False
        if self.clock.now() - waiting.at > WAIT_FOR:
            await WaitBook(fsm_storage, bot.id).drop(message.chat.id)
            return False
        original = message.reply_to_message
        replies = original is not None and original.message_id == waiting.message_id
        state = getattr(aiogd_context, "state", None)  # an aiogram State, or its name
        name = getattr(state, "state", state)
        if not takes_comment(None if name is None else str(name), replies):
            return False
        return {"waiting": waiting}


def asks(message: Any) -> bool:
    """The message is one of the questions (its buttons are all the citizen's word's): only
    such a message loses its buttons when its question is over; a forged press on another
    message of the chat leaves that message alone."""
    markup = getattr(message, "reply_markup", None)
    rows = getattr(markup, "inline_keyboard", None) or []
    data = [button.callback_data or "" for row in rows for button in row]
    return bool(data) and all(d.startswith(f"{CitizenCD.__prefix__}:") for d in data)


def refusal(outcome: Outcome, _: Translate) -> str:
    if outcome is Outcome.EXPIRED:
        return _("Thank you! This question has expired; the application stays completed.")
    if outcome is Outcome.NOT_FOUND:
        return _("This application was not found.")
    return _("Thank you, your answer is already recorded.")


@dataclass
class CitizenHandlers:
    citizen: Citizen
    clock: Clock
    default_locale: str = field(kw_only=True)
    outbox: Waker | None = field(default=None, kw_only=True)

    def _wake(self) -> None:
        if self.outbox is not None:
            self.outbox.wake()

    def _t(self, i18n: I18n, answer: Answer | None = None) -> Translate:
        locale = answer.app.locale if answer and answer.app else i18n.current_locale
        return translator(i18n, locale or self.default_locale)

    async def on_press(
        self,
        callback: CallbackQuery,
        callback_data: CitizenCD,
        bot: Bot,
        i18n: I18n,
        fsm_storage: BaseStorage,
    ) -> None:
        message = callback.message
        chat_id = message.chat.id if message is not None else callback.from_user.id
        n, round_ = callback_data.number, callback_data.round
        action = callback_data.action
        book = WaitBook(fsm_storage, bot.id)
        if action is CitizenAction.YES:
            result = await self.citizen.confirm(n, chat_id, round_)
        elif action is CitizenAction.NO:
            result = await self.citizen.may_answer(n, chat_id, round_)
        elif action is CitizenAction.RATE:
            result = await self.citizen.rate(n, chat_id, round_, callback_data.stars)
        elif action is CitizenAction.SKIP_NO:
            result = await self.citizen.reopen(n, chat_id, round_, None)
        else:  # SKIP_RATING: nothing to record
            result = Answer(Outcome.OK)
        _ = self._t(i18n, result)
        if not result.ok:
            await callback.answer(refusal(result.outcome, _), show_alert=True)
            if message is not None and asks(message):  # a question that is over loses them
                await best_effort(
                    bot.edit_message_reply_markup(
                        chat_id=chat_id, message_id=message.message_id, reply_markup=None
                    ),
                    "closing a question",
                    chat_id,
                )
            return
        self._wake()
        logger.info("citizen answer %s on %s in chat %s", action.value, n, chat_id)
        if action is CitizenAction.YES:
            text = _("Thank you! Please rate the work from 1 to 5:")
            markup = rating_keyboard(n, round_)
        elif action is CitizenAction.RATE:
            text = _(
                "Thank you for your rating: {stars}. If you wish, send a short comment "
                "(up to {limit} characters), or press Skip."
            ).format(stars=stars(callback_data.stars), limit=COMMENT_MAX_LENGTH)
            markup = skip_keyboard(n, round_, CitizenAction.SKIP_RATING, _)
        elif action is CitizenAction.NO:
            text = _(
                "We are sorry. Please tell us in one short message what is wrong (up to "
                "{limit} characters), or press Skip: the application will be reopened."
            ).format(limit=COMMENT_MAX_LENGTH)
            markup = skip_keyboard(n, round_, CitizenAction.SKIP_NO, _)
        elif action is CitizenAction.SKIP_NO:
            await book.drop(chat_id)
            text = reopened_text(n, _)
            markup = None
        else:
            await book.drop(chat_id)
            text = _("Thank you for your feedback!")
            markup = None
        if action in (CitizenAction.RATE, CitizenAction.NO) and message is not None:
            what = "no" if action is CitizenAction.NO else "rating"
            waiting = Waiting(what, n, round_, message.message_id, self.clock.now())
            await book.put(chat_id, waiting)
        await callback.answer()
        if message is not None:
            await best_effort(
                bot.edit_message_text(
                    text=text, chat_id=chat_id, message_id=message.message_id, reply_markup=markup
                ),
                "answering the citizen",
                chat_id,
            )

    async def on_comment(
        self, message: Message, waiting: Waiting, bot: Bot, i18n: I18n, fsm_storage: BaseStorage
    ) -> None:
        chat_id = message.chat.id
        book = WaitBook(fsm_storage, bot.id)
        try:
            comment = parse_text(message.text or "", max_length=COMMENT_MAX_LENGTH)
        except InvalidText as exc:
            _ = self._t(i18n)
            if exc.code == "too_long":
                await message.answer(
                    _(
                        "That is {length} characters; the limit is {limit}. Please shorten it "
                        "and send again, or press Skip."
                    ).format(length=exc.length, limit=exc.limit)
                )
            else:
                await message.answer(_("Please type a few words, or press Skip."))
            return
        await book.drop(chat_id)
        if waiting.what == "no":
            result = await self.citizen.reopen(waiting.number, chat_id, waiting.round, comment)
        else:
            result = await self.citizen.comment_rating(
                waiting.number, chat_id, waiting.round, comment
            )
        _ = self._t(i18n, result)
        await best_effort(
            bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=waiting.message_id, reply_markup=None
            ),
            "closing a question",
            chat_id,
        )
        if not result.ok:
            await message.answer(refusal(result.outcome, _))
            return
        self._wake()
        logger.info("citizen comment (%s) on %s in chat %s", waiting.what, waiting.number, chat_id)
        if waiting.what == "no":
            await message.answer(reopened_text(waiting.number, _))
        else:
            await message.answer(_("Thank you for your feedback!"))


def reopened_text(number: int, _: Translate) -> str:
    return _(
        "Your application No. {number} has been reopened and returned to the crew. "
        "We will let you know when it is done."
    ).format(number=number)
