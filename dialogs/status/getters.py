from __future__ import annotations

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
    fmt_dt,
    reason_label,
)
from workflows.errors import ApplicationNotFound
from workflows.models import Application, EventKind, Reason

# The card's HTML, measured as Telegram counts; a staff note is cut to fit (the other parts
# are bounded: an address holds 500 characters, a name 160).
CARD_LIMIT = 3900
EVENT_LABELS = {
    EventKind.REGISTERED: N_("Registered"),
    EventKind.TAKEN: N_("Taken by the staff"),
    EventKind.DONE: N_("Completed"),
    EventKind.REJECTED: N_("Rejected"),
}


async def listing_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    fin = profile_of(dialog_manager).fin or ""
    apps = await deps_of(dialog_manager).journey.applications_of(fin, limit=50)
    locale = current_locale()
    return {
        "error": render_error(dialog_manager),
        "applications": [(str(a.number), application_line(a, locale)) for a in apps],
        "has_applications": bool(apps),
        "no_applications": not apps,
    }


async def lookup_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    return {"error": render_error(dialog_manager)}


async def detail_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    fin = profile_of(dialog_manager).fin or ""
    number = int(dialog_manager.dialog_data.get("number") or 0)
    journey = deps_of(dialog_manager).journey
    locale = current_locale()
    try:
        app = await journey.application_of(fin, number)
    except ApplicationNotFound:
        return {
            "found": False,
            "missing": gettext("Application No. {number} was not found.").format(number=number),
            "card": "",
        }
    reasons = {r.code: r for r in await journey.all_reasons()}
    notes = {str(i): event.note for i, event in enumerate(app.events) if event.note}
    card = fit(lambda shown: _card(app, reasons, shown, locale), notes, CARD_LIMIT)
    return {"found": True, "missing": "", "card": card}


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
        "",
        gettext("<b>History</b>"),
    ]
    for i, event in enumerate(app.events):
        if event.kind not in EVENT_LABELS:
            continue
        line = f"• {fmt_dt(event.at, locale)} — {gettext(EVENT_LABELS[event.kind])}"
        if not event.note:
            lines.append(line)
            continue
        note = notes[str(i)]
        lines += [f"{line}:", blockquote(esc(note) + ("…" if note != event.note else ""))]
    return "\n".join(lines)
