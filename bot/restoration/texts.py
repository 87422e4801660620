"""The restoration offer as the subscriber reads it (HTML), and its one button. Every
function takes ``_``."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.restoration.callback_data import RestoreOfferCD
from dialogs.wording import Translate, esc, fmt_day
from workflows.identity import address_area
from workflows.models import Application


def offer_text(app: Application, _: Translate, locale: str) -> str:
    """``app`` is the suspension: its code, the city and district, the date, the question."""
    head = _("📅 Your water supply is suspended until {date}.").format(
        date=fmt_day(app.suspend_until, locale)
    )
    where = _("Subscriber code {code}, {area} (application No. {number}).").format(
        code=f"<code>{esc(app.subscriber_code)}</code>",
        area=esc(address_area(app.address)),
        number=app.number,
    )
    ask = _(
        "Would you like to apply for its restoration now? The button shows the application "
        "already filled in; nothing is sent until you press “Continue”."
    )
    return f"<b>{head}</b>\n{where}\n\n{ask}"


def offer_keyboard(number: int, _: Translate) -> InlineKeyboardMarkup:
    data = RestoreOfferCD(number=number).pack()
    button = InlineKeyboardButton(text=_("🔄 Apply for restoration"), callback_data=data)
    return InlineKeyboardMarkup(inline_keyboard=[[button]])
