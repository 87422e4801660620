"""What the subscriber sees of the question after Done, and what the staff group is told
when the subscriber says the work was not done. Every function takes ``_``."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.citizen.callback_data import CitizenAction, CitizenCD
from dialogs.wording import Translate, blockquote, esc
from workflows.models import Application, ApplicationKind, EventKind


def _button(text: str, action: CitizenAction, app_number: int, round_: int, stars: int = 0):
    data = CitizenCD(action=action, number=app_number, round=round_, stars=stars).pack()
    return InlineKeyboardButton(text=text, callback_data=data)


def question(app: Application, _: Translate) -> str:
    if app.kind is ApplicationKind.SUSPEND:
        asked = _("Was your water supply actually suspended?")
    else:
        asked = _("Was your water supply actually restored?")
    head = _("Application No. {number}").format(number=app.number)
    return f"<b>{head}</b>\n{asked}"


def question_keyboard(app: Application, round_: int, _: Translate) -> InlineKeyboardMarkup:
    n = app.number
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(_("✅ Yes"), CitizenAction.YES, n, round_),
                _button(_("❌ No"), CitizenAction.NO, n, round_),
            ]
        ]
    )


def stars(count: int) -> str:
    return "★" * count + "☆" * (5 - count)


def rating_keyboard(number: int, round_: int) -> InlineKeyboardMarkup:
    row = [_button(f"{k} ★", CitizenAction.RATE, number, round_, k) for k in range(1, 6)]
    return InlineKeyboardMarkup(inline_keyboard=[row])


def skip_keyboard(
    number: int, round_: int, action: CitizenAction, _: Translate
) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_button(_("⏭ Skip"), action, number, round_)]])


def reopened_for_staff(app: Application, _: Translate) -> str:
    """The staff group's message when the subscriber said No (HTML)."""
    comment = next((e.note for e in reversed(app.events) if e.kind is EventKind.REOPENED), None)
    lines = [
        "🔁 <b>"
        + _(
            "Work order No. {number} is reopened: the subscriber says the work was not done."
        ).format(number=app.number)
        + "</b>",
        _("It is back with {name}; the deadline starts again.").format(
            name=esc(app.taken_by_name or "?")
        ),
    ]
    if comment:
        lines += [_("The subscriber's comment:"), blockquote(esc(comment))]
    else:
        lines.append(_("The subscriber left no comment."))
    return "\n".join(lines)
