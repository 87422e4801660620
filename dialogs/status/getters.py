from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiogram.utils.i18n import gettext
from aiogram_dialog import DialogManager

from dialogs.common import application_line, current_locale, deps_of, profile_of, render_error
from dialogs.wording import (
    KIND_LABELS,
    N_,
    STATUS_ICONS,
    STATUS_LABELS,
    blockquote,
    esc,
    fit,
    fmt_day,
    fmt_dt,
    reason_label,
)
from workflows.errors import ApplicationNotFound
from workflows.identity import address_area
from workflows.models import Application, EventKind, Reason
from workflows.withdrawal import may_withdraw

PROVED = "proved"  # the FIN was just proved: the listing says so once

# The card's HTML, measured as Telegram counts; a staff note is cut to fit (the other parts
# are bounded: an address holds 500 characters, a name 160).
CARD_LIMIT = 3900
EVENT_LABELS = {
    EventKind.REGISTERED: N_("Registered"),
    EventKind.TAKEN: N_("Taken by the staff"),
    EventKind.DONE: N_("Completed"),
    EventKind.REJECTED: N_("Rejected"),
    EventKind.WITHDRAW_REQUESTED: N_("You asked to withdraw it"),
    EventKind.WITHDRAW_DECLINED: N_("The staff declined the withdrawal"),
    EventKind.WITHDRAWN: N_("Withdrawn"),
}
# What the last press of "Withdraw" did (``WithdrawOutcome`` values; dialog_data[WITHDRAWN]).
WITHDRAW_NOTE = "withdraw_note"
WITHDRAW_NOTES = {
    "withdrawn": N_("↩️ Your application is withdrawn."),
    "requested": N_(
        "↩️ The work has already started: the staff are asked to accept your withdrawal. "
        "You will see their answer here."
    ),
    "already_requested": N_("Your withdrawal request is already with the staff."),
    "declined_before": N_("The staff declined the withdrawal: the work goes on."),
    "closed": N_("This application is closed: there is nothing to withdraw."),
}


async def listing_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    """The account's own filings and, once it proved its FIN, every application of that FIN;
    the offer to prove it (phone or e-gov) while it has not."""
    profile = profile_of(dialog_manager)
    deps = deps_of(dialog_manager)
    viewer = await deps.journey.viewer(profile.telegram_user_id)
    apps = await deps.journey.applications_of(profile.telegram_user_id, limit=50)
    unproved = bool(profile.fin) and not viewer.owns(profile.fin)
    return {
        "error": render_error(dialog_manager),
        "applications": [(str(a.number), application_line(a)) for a in apps],
        "has_applications": bool(apps),
        "no_applications": not apps,
        "unproved": unproved,
        "proved": bool(dialog_manager.dialog_data.get(PROVED)),
        "egov_url": _egov_url(dialog_manager) if unproved else "",
    }


def _egov_url(manager: DialogManager) -> str:
    link = deps_of(manager).egov_link
    user = manager.event.from_user
    chat = manager.middleware_data.get("event_chat")
    if link is None or user is None:
        return ""
    return link(user.id, chat.id if chat else user.id) or ""


async def lookup_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    return {"error": render_error(dialog_manager)}


async def prove_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    url = _egov_url(dialog_manager)
    return {
        "error": render_error(dialog_manager),
        "fin": esc(profile_of(dialog_manager).fin),
        "egov_link": f'<a href="{esc(url)}">' if url else "",
        "egov_url": url,
    }


async def detail_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    account = profile_of(dialog_manager).telegram_user_id
    number = int(dialog_manager.dialog_data.get("number") or 0)
    journey = deps_of(dialog_manager).journey
    locale = current_locale()
    try:
        seen = await journey.application_of(account, number)
    except ApplicationNotFound:
        return {
            "found": False,
            "missing": gettext("Application No. {number} was not found.").format(number=number),
            "card": "",
            "number": "",
            "can_withdraw": False,
            "withdraw_note": "",
            "error": render_error(dialog_manager),
        }
    app = seen.application
    if not seen.disclosed:  # filed by this account, but the FIN is not proved
        app = replace(app, address=address_area(app.address))
    reasons = {r.code: r for r in await journey.all_reasons()}
    notes = {str(i): event.note for i, event in enumerate(app.events) if event.note}
    card = fit(lambda shown: _card(app, reasons, shown, locale), notes, CARD_LIMIT)
    note = WITHDRAW_NOTES.get(str(dialog_manager.dialog_data.get(WITHDRAW_NOTE) or ""))
    return {
        "found": True,
        "missing": "",
        "card": card,
        "number": str(app.number),
        "can_withdraw": deps_of(dialog_manager).withdrawals is not None and may_withdraw(app),
        "withdraw_note": gettext(note) if note else "",
        "error": render_error(dialog_manager),
    }


async def withdraw_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    return {"number": str(int(dialog_manager.dialog_data.get("number") or 0))}


def _card(app: Application, reasons: dict[str, Reason], notes: dict[str, str], locale: str) -> str:
    """The application with its history; a staff note stands in a quoted block under its
    event (``notes`` holds them by event index, cut to fit: a cut one ends in "…")."""
    lines = [
        gettext("<b>Application No. {number}</b>").format(number=app.number),
        gettext("Type: {kind}").format(kind=gettext(KIND_LABELS[app.kind])),
        gettext("Status: {status}").format(
            status=f"{STATUS_ICONS[app.status]} {gettext(STATUS_LABELS[app.status])}"
        ),
        gettext("Subscriber code: {code}").format(code=esc(app.subscriber_code)),
        gettext("Address: {address}").format(address=esc(app.address)),
        gettext("Reason: {reason}").format(
            reason=esc(reason_label(reasons, app.reason_code, locale))
        ),
    ]
    if until := fmt_day(app.suspend_until, locale):
        lines.append(gettext("Until: {until}").format(until=esc(until)))
    lines += [
        "",
        gettext("<b>History</b>"),
    ]
    for i, event in enumerate(app.events):
        if event.kind not in EVENT_LABELS:
            continue
        line = f"• {fmt_dt(event.at, gettext)} — {gettext(EVENT_LABELS[event.kind])}"
        if not event.note:
            lines.append(line)
            continue
        note = notes[str(i)]
        lines += [f"{line}:", blockquote(esc(note) + ("…" if note != event.note else ""))]
    return "\n".join(lines)
