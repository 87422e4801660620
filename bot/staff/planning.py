"""The planned-date prompt: right after Take, a separate message asks the one who took the
order when the work will be done (issue 19, item 1).

The card is not touched (Done and Reject stay its first buttons). The prompt offers today
and tomorrow, morning or afternoon, at one press, and "Another date" (up to
``PLAN_AHEAD_DAYS`` ahead, then the window). The choice is ``WorkOrders.plan``: only the
staff member who took the order may set it; the outbox edits the card and tells the
subscriber. The prompt then says what was chosen and keeps a button to change it. A prompt
nobody answers changes nothing.

Callback data: ``wpl:<number>:<YYYYMMDD or "" or "more">:<"m", "a" or "">``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    User,
)
from aiogram.utils.i18n import I18n

from bot.best_effort import best_effort
from bot.staff.access import display_name
from bot.staff.callback_data import NumberId
from bot.staff.handlers import StaffHandlers, answer, refusal
from bot.staff.plan_texts import day_button, planned_line
from dialogs.wording import Translate, esc
from workflows.errors import ApplicationNotFound, WorkOrderError
from workflows.models import ApplicationStatus, StaffMember
from workflows.planning import PLAN_AHEAD_DAYS, WINDOWS, PlanNotAllowed, baku_today

logger = logging.getLogger(__name__)

MORE = "more"
WINDOW_CODES = {"m": "morning", "a": "afternoon"}
CODE_OF_WINDOW = {name: code for code, name in WINDOW_CODES.items()}
DATES_PER_ROW = 3


class PlanCD(CallbackData, prefix="wpl"):
    """A button of the planned-date prompt (at most ``wpl:`` + 16 + 9 + 2 bytes)."""

    number: NumberId
    day: str = ""
    win: str = ""


def _day(value: str) -> date | None:
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _cd(number: int, day: date | None = None, window: str = "", *, more: bool = False) -> str:
    value = MORE if more else (day.strftime("%Y%m%d") if day else "")
    return PlanCD(number=number, day=value, win=CODE_OF_WINDOW.get(window, "")).pack()


def _hours(window: str) -> str:
    start, end = WINDOWS[window]
    return f"{start}–{end}"


def first_choice(number: int, today: date, _: Translate) -> InlineKeyboardMarkup:
    """Today and tomorrow, morning or afternoon; another date."""
    tomorrow = today + timedelta(days=1)
    rows = [
        [
            InlineKeyboardButton(
                text=label.format(hours=_hours(window)), callback_data=_cd(number, day, window)
            )
            for window in WINDOWS
        ]
        for day, label in ((today, _("Today, {hours}")), (tomorrow, _("Tomorrow, {hours}")))
    ]
    rows.append(
        [InlineKeyboardButton(text=_("📅 Another date"), callback_data=_cd(number, more=True))]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def date_choice(number: int, today: date, _: Translate, locale: str) -> InlineKeyboardMarkup:
    """The days after tomorrow up to ``PLAN_AHEAD_DAYS`` ahead, and Back."""
    days = [today + timedelta(days=n) for n in range(2, PLAN_AHEAD_DAYS + 1)]
    buttons = [
        InlineKeyboardButton(text=day_button(day, locale), callback_data=_cd(number, day))
        for day in days
    ]
    rows = [buttons[i : i + DATES_PER_ROW] for i in range(0, len(buttons), DATES_PER_ROW)]
    rows.append([InlineKeyboardButton(text=_("« Back"), callback_data=_cd(number))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def window_choice(number: int, day: date, _: Translate) -> InlineKeyboardMarkup:
    labels = {"morning": _("Morning, {hours}"), "afternoon": _("Afternoon, {hours}")}
    row = [
        InlineKeyboardButton(
            text=labels[window].format(hours=_hours(window)),
            callback_data=_cd(number, day, window),
        )
        for window in WINDOWS
    ]
    back = [InlineKeyboardButton(text=_("« Back"), callback_data=_cd(number, more=True))]
    return InlineKeyboardMarkup(inline_keyboard=[row, back])


def change_button(number: int, _: Translate) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("🗓 Change the date"), callback_data=_cd(number))]
        ]
    )


def ask_text(number: int, name: str, _: Translate) -> str:
    return _("🗓 {name}, when will work order No. {number} be done?").format(
        name=name, number=number
    )


@dataclass
class PlanPrompt:
    """The prompt's sending and its buttons; the staff handlers give the group's checks."""

    staff: StaffHandlers

    async def ask(self, bot: Bot, card: Message, number: int, user: User, _: Translate) -> None:
        """Post the prompt as a reply to the card (best effort: Take is done either way)."""
        today = baku_today(self.staff.clock.now())
        try:
            await bot.send_message(
                card.chat.id,
                ask_text(number, esc(display_name(user)), _),
                reply_parameters=ReplyParameters(
                    message_id=card.message_id, allow_sending_without_reply=True
                ),
                reply_markup=first_choice(number, today, _),
            )
        except TelegramAPIError as exc:
            logger.warning("date prompt for work order %s not posted: %s", number, exc)

    async def on_plan(
        self, callback: CallbackQuery, callback_data: PlanCD, bot: Bot, i18n: I18n
    ) -> None:
        staff_handlers = self.staff
        _ = staff_handlers._t(i18n)
        # answers a refused press, and a press whose message is gone
        if await staff_handlers._refuse_presser(callback, bot, _) or callback.message is None:
            return
        if not isinstance(callback.message, Message):  # too old to edit: Telegram hides it
            await callback.answer()
            return
        message = callback.message
        user = callback.from_user
        staff = StaffMember(user_id=user.id, name=display_name(user))
        number = callback_data.number
        locale = staff_handlers.locale
        try:  # only the one who took it, while it is taken
            await staff_handlers.work_orders.check(number, ApplicationStatus.DONE, staff)
        except (WorkOrderError, ApplicationNotFound) as exc:
            await answer(callback, refusal(exc, _), alert=True)
            return
        today = baku_today(staff_handlers.clock.now())
        day = _day(callback_data.day)
        window = WINDOW_CODES.get(callback_data.win)
        if callback_data.day == MORE:
            markup = date_choice(number, today, _, locale)
        elif day is None:
            markup = first_choice(number, today, _)
        elif window is None:
            markup = window_choice(number, day, _)
        else:
            await self._plan(callback, message, staff, number, day, window, _)
            return
        await best_effort(
            bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=message.message_id, reply_markup=markup
            ),
            "showing the date choice",
            message.chat.id,
        )
        await callback.answer()

    async def _plan(
        self,
        callback: CallbackQuery,
        message: Message,
        staff: StaffMember,
        number: int,
        day: date,
        window: str,
        _: Translate,
    ) -> None:
        handlers = self.staff
        try:
            updated = await handlers.work_orders.plan(number, staff, day, window)
        except PlanNotAllowed:
            await answer(
                callback,
                _("Choose a date from today to {days} days ahead.").format(days=PLAN_AHEAD_DAYS),
                alert=True,
            )
            return
        except (WorkOrderError, ApplicationNotFound) as exc:
            await answer(callback, refusal(exc, _), alert=True)
            return
        line = planned_line(day.isoformat(), window, _, handlers.locale) or ""
        if updated is None:
            await answer(callback, _("This is already the planned date."))
            return
        handlers._wake_outbox()
        logger.info("work order %s planned by %s", number, staff.user_id)
        text = _("🗓 Work order No. {number}: {planned} ({name}).").format(
            number=number, planned=esc(line), name=esc(staff.name)
        )
        await best_effort(
            message.edit_text(text, reply_markup=change_button(number, _)),
            "closing the date prompt",
            message.chat.id,
        )
        await answer(callback, _("Saved; the subscriber is told."))
