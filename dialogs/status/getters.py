from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext
from aiogram_dialog import DialogManager

from dialogs.common import application_line, current_locale, deps_of, profile_of, render_error
from dialogs.wording import KIND_LABELS, N_, STATUS_ICONS, STATUS_LABELS, esc, fmt_dt, reason_label
from workflows.errors import ApplicationNotFound
from workflows.models import EventKind

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
    for event in app.events:
        if event.kind not in EVENT_LABELS:
            continue
        line = f"• {fmt_dt(event.at, locale)} — {gettext(EVENT_LABELS[event.kind])}"
        if event.note:
            line += f": {esc(event.note)}"
        lines.append(line)
    card = "\n".join(lines)
    if len(card) > 3900:
        card = card[:3900] + "…"
    return {"found": True, "missing": "", "card": card}
