"""Texts and keyboards of the staff group, rendered in STAFF_LOCALE.

The card shows the applicant's FIN masked (``7KQ•••X``: no staff action needs it whole) and
how the applicant was identified (typed, registry phone, e-gov login).

Every function takes the translation function as ``_`` (so the msgids are extracted by
``pybabel`` as usual) and escapes what people typed; the texts that may span lines (the
description, the notes, the result or the reason for rejection) stand in a quoted block
under their label, so none of their lines passes for a line of the card. A card stays within
Telegram's 4,096 characters however long those texts are: the longest of them is cut,
visibly, until the whole card fits.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.staff.callback_data import WithdrawAction, WithdrawCD, WorkOrderAction, WorkOrderCD
from bot.staff.plan_texts import planned_line
from dialogs.wording import (
    KIND_LABELS,
    STATUS_ICONS,
    STATUS_LABELS,
    Translate,
    blockquote,
    esc,
    fit,
    fmt_day,
    fmt_dt,
    fmt_phone,
    identified_label,
    tg_len,
)
from workflows.models import Application, ApplicationStatus, EventKind
from workflows.values import mask_fin

# Telegram allows 4,096 characters after entity parsing; the HTML source is longer than
# that, so measuring the source (in UTF-16 units, as Telegram counts) leaves a margin.
CARD_LIMIT = 4000


def staff_name(name: str | None) -> str:
    return esc(name or "?")


def _shortened(full: str, shown: str, _: Translate) -> str:
    """The quoted block of a text people typed, with a note when it had to be cut."""
    if shown == full:
        return blockquote(esc(full))
    note = _("(shortened: {shown} of {total} characters)").format(
        shown=len(shown), total=len(full)
    )
    return blockquote(f"{esc(shown.rstrip())}… <i>{note}</i>")


def _card(
    app: Application, reason: str, shown: dict[str, str], _: Translate, locale: str = "az"
) -> str:
    full = {
        "description": app.description,
        "notes": app.notes or "",
        "result": app.result_note or "",
    }
    status = f"{STATUS_ICONS[app.status]} {_(STATUS_LABELS[app.status])}"
    lines = [
        f"{STATUS_ICONS[app.status]} <b>"
        + _("Work order No. {number}").format(number=app.number)
        + f"</b> · {esc(_(KIND_LABELS[app.kind]))}",
        _("Status: {status}").format(status=status),
        "",
        _("Subscriber code: {code}").format(code=f"<code>{esc(app.subscriber_code)}</code>"),
        _("Address: {address}").format(address=esc(app.address)),
        _("Reason: {reason}").format(reason=esc(reason)),
        *_until_line(app, _, locale),
        _("FIN: {fin} · {identified}").format(
            fin=esc(mask_fin(app.fin)), identified=esc(_(identified_label(app.identified_by)))
        ),
        _("Phone: {phone}").format(phone=esc(fmt_phone(app.phone))),
        _("E-mail: {email}").format(email=esc(app.email)),
        _("Description:"),
        _shortened(full["description"], shown["description"], _),
    ]
    if full["notes"]:
        lines += [_("Additional notes:"), _shortened(full["notes"], shown["notes"], _)]
    lines.append(_("Registered: {time}").format(time=fmt_dt(app.created_at, _)))
    if app.due_at is not None:
        lines.append(_("Due by: {time}").format(time=fmt_dt(app.due_at, _)))
    if app.taken_at is not None and app.taken_by_name:
        lines.append(
            _("Taken by {name}, {time}").format(
                name=staff_name(app.taken_by_name), time=fmt_dt(app.taken_at, _)
            )
        )
    planned = planned_line(app.planned_date, app.planned_window, _, locale)
    if planned is not None and app.status is ApplicationStatus.TAKEN:
        lines.append(f"🗓 <b>{esc(planned)}</b>")
    elif planned is not None:
        lines.append(esc(planned))
    closed = app.closed_at
    if app.status is ApplicationStatus.DONE and closed is not None:
        lines.append(
            _("Done by {name}, {time}").format(
                name=staff_name(app.taken_by_name), time=fmt_dt(closed, _)
            )
        )
        lines += [_("Result:"), _shortened(full["result"], shown["result"], _)]
    elif app.status is ApplicationStatus.REJECTED and closed is not None:
        lines.append(
            _("Rejected by {name}, {time}").format(
                name=staff_name(app.taken_by_name), time=fmt_dt(closed, _)
            )
        )
        lines += [_("Reason for rejection:"), _shortened(full["result"], shown["result"], _)]
    lines += _withdrawal_lines(app, _)
    lines += citizen_lines(app, _)
    return "\n".join(lines)


def _until_line(app: Application, _: Translate, locale: str) -> list[str]:
    """A suspension's "until" date (issue 19, item 6), when the subscriber gave one."""
    until = fmt_day(app.suspend_until, locale)
    return [_("Until: {until}").format(until=esc(until))] if until else []


def _withdrawal_lines(app: Application, _: Translate) -> list[str]:
    """The subscriber's withdrawal: done, asked for (the staff answer with the buttons), or
    declined."""
    if app.status is ApplicationStatus.WITHDRAWN and app.closed_at is not None:
        return [
            "↩️ <b>"
            + _("Withdrawn by the subscriber, {time}").format(time=fmt_dt(app.closed_at, _))
            + "</b>"
        ]
    if app.status.is_open and app.withdraw_requested_at is not None:
        return [
            "↩️ <b>"
            + _("The subscriber asks to withdraw this application ({time}).").format(
                time=fmt_dt(app.withdraw_requested_at, _)
            )
            + "</b>"
        ]
    declined = [e for e in app.events if e.kind is EventKind.WITHDRAW_DECLINED]
    if app.status.is_open and declined:
        return [_("Withdrawal declined, {time}").format(time=fmt_dt(declined[-1].at, _))]
    return []


def citizen_lines(app: Application, _: Translate) -> list[str]:
    """Done's photo, and the subscriber's word on the card: reopened (with the last comment),
    confirmed, rated."""
    lines: list[str] = []
    done = next((e for e in reversed(app.events) if e.kind is EventKind.DONE), None)
    if app.status is ApplicationStatus.DONE and done is not None and done.photo_file_id:
        lines.append("📷 " + _("A photo is attached to the result."))
    if app.reopened_count:
        lines.append(
            "🔁 <b>"
            + _("Reopened by the subscriber ({count}×)").format(count=app.reopened_count)
            + "</b>"
        )
        comment = next(
            (e.note for e in reversed(app.events) if e.kind is EventKind.REOPENED), None
        )
        if comment and app.status is ApplicationStatus.TAKEN:
            lines += [_("The subscriber's comment:"), blockquote(esc(comment[:500]))]
    if app.status is ApplicationStatus.DONE and app.citizen_answer == "yes":
        lines.append("👍 " + _("The subscriber confirmed the work"))
    if app.status is ApplicationStatus.DONE and app.rating is not None:
        stars = "★" * app.rating + "☆" * (5 - app.rating)
        lines.append(_("Rating: {stars} ({rating}/5)").format(stars=stars, rating=app.rating))
        if app.rating_comment:
            lines.append(blockquote(esc(app.rating_comment[:500])))
    return lines


def render_card(
    app: Application, reason: str, _: Translate, *, limit: int = CARD_LIMIT, locale: str = "az"
) -> str:
    """The work-order card (HTML), never longer than ``limit``."""
    texts = {
        "description": app.description,
        "notes": app.notes or "",
        "result": app.result_note or "",
    }
    text = fit(lambda shown: _card(app, reason, shown, _, locale), texts, limit)
    if tg_len(text) > limit:  # only with absurd addresses or names: cut the tail
        text = esc(text[: limit // 2])
    return text


def card_keyboard(app: Application, _: Translate) -> InlineKeyboardMarkup | None:
    """Take and Reject while registered, Done and Reject while taken, nothing once closed;
    Done in the success style, Reject in the danger style (Bot API 10.1). A withdrawal
    request adds its Accept and Decline below."""
    take = InlineKeyboardButton(
        text=_("🛠 Take"),
        callback_data=WorkOrderCD(action=WorkOrderAction.TAKE, number=app.number).pack(),
    )
    done = InlineKeyboardButton(
        text=_("✅ Done"),
        callback_data=WorkOrderCD(action=WorkOrderAction.DONE, number=app.number).pack(),
        style="success",
    )
    reject = InlineKeyboardButton(
        text=_("❌ Reject"),
        callback_data=WorkOrderCD(action=WorkOrderAction.REJECT, number=app.number).pack(),
        style="danger",
    )
    if app.status is ApplicationStatus.REGISTERED:
        rows = [[take, reject]]
    elif app.status is ApplicationStatus.TAKEN:
        rows = [[done, reject]]
    else:
        return None
    if app.withdraw_requested_at is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("↩️ Accept withdrawal"),
                    callback_data=WithdrawCD(
                        action=WithdrawAction.ACCEPT, number=app.number
                    ).pack(),
                ),
                InlineKeyboardButton(
                    text=_("Decline withdrawal"),
                    callback_data=WithdrawCD(
                        action=WithdrawAction.DECLINE, number=app.number
                    ).pack(),
                ),
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def render_reminder(app: Application, hours: float, _: Translate) -> str:
    """The overdue prompt, sent as a reply to the card; ``hours`` is the global deadline, the
    order's own (its reason's) wins."""
    if app.due_at is not None:
        hours = (app.due_at - app.created_at).total_seconds() / 3600
    lines = [
        "⏰ <b>"
        + _("Work order No. {number} is still open after {hours} hours.").format(
            number=app.number, hours=f"{hours:g}"
        )
        + "</b>",
        _("Status: {status}").format(
            status=f"{STATUS_ICONS[app.status]} {_(STATUS_LABELS[app.status])}"
        ),
        _("Registered: {time}").format(time=fmt_dt(app.created_at, _)),
    ]
    if app.status is ApplicationStatus.TAKEN and app.taken_at is not None:
        lines.append(
            _("Taken by {name}, {time}").format(
                name=staff_name(app.taken_by_name), time=fmt_dt(app.taken_at, _)
            )
        )
    return "\n".join(lines)
