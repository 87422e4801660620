"""What the agents read: every answer in the agent's locale, user fields escaped, FIN masked.

Text people typed that may span lines (the description, the notes, a staff note) stands in a
quoted block under its label, so none of its lines passes for a line of the answer.

Each renderer returns pages (see ``paging``); the caller picks one and adds the footer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from aiogram.utils.i18n import gettext

from bot.support.paging import Piece, paginate
from dialogs.wording import (
    KIND_LABELS,
    LANGUAGES,
    N_,
    STATUS_ICONS,
    STATUS_LABELS,
    esc,
    fmt_dt,
    fmt_phone,
    numbered,
    reason_label,
)
from workflows.models import Application, ApplicationStatus, Event, EventKind, Reason
from workflows.outbox.records import Channel, OutboxKind, OutboxStatus
from workflows.ports import ApplicationFile, Delivery
from workflows.support import (
    Found,
    OpenOrders,
    Stats,
    describe_actor,
    mask_fin,
)

LIST_PER_PAGE = 20
NAME_LIMIT = 64
ERROR_LIMIT = 300

# --- one-line answers -------------------------------------------------------------------
REFUSAL = N_(
    "Sorry, this command is only for Azərsu support agents. To follow your own applications, "
    "open /menu and choose “Check the application's status”."
)
REFUSAL_SHORT = N_("Sorry, this is only for Azərsu support agents.")
STATUS_USAGE = N_("Usage: /status N, where N is the application number, for example /status 125.")
STATUS_MISSING = N_(
    "There is no application No. {number}. Usage: /status N, for example /status 125."
)
FIND_USAGE = N_(
    "Usage: /find X, where X is a subscriber code (digits) or a FIN (7 characters), "
    "for example /find 100001."
)
FIND_NOTHING = N_("No applications for {term}.")

# --- /status ----------------------------------------------------------------------------
APPLICATION_TITLE = N_("<b>Application No. {number}</b>")
HISTORY_TITLE = N_("<b>History</b>")
FIELD_KIND = N_("Type")
FIELD_STATUS = N_("Status")
FIELD_REASON = N_("Reason")
FIELD_CODE = N_("Subscriber code")
FIELD_ADDRESS = N_("Address")
FIELD_FIN = N_("FIN")
FIELD_PHONE = N_("Phone")
FIELD_EMAIL = N_("E-mail")
FIELD_DESCRIPTION = N_("Description")
FIELD_NOTES = N_("Notes")
FIELD_LANGUAGE = N_("Language")
NO_NOTES = N_("none")

EVENT_REGISTERED = N_("Registered by the subscriber")
EVENT_TAKEN = N_("Taken by {name}")
EVENT_DONE = N_("Completed by {name}")
EVENT_REJECTED = N_("Rejected by {name}")
EVENT_REMINDED = N_("Reminder: the order is overdue")
EVENT_TAKEN_ANON = N_("Taken by the staff")
EVENT_DONE_ANON = N_("Completed")
EVENT_REJECTED_ANON = N_("Rejected")
EVENT_ICONS = {
    EventKind.REGISTERED: "🆕",
    EventKind.TAKEN: "🛠",
    EventKind.DONE: "✅",
    EventKind.REJECTED: "❌",
    EventKind.REMINDED: "⏰",
}
EVENT_WITH_NAME = {
    EventKind.TAKEN: (EVENT_TAKEN, EVENT_TAKEN_ANON),
    EventKind.DONE: (EVENT_DONE, EVENT_DONE_ANON),
    EventKind.REJECTED: (EVENT_REJECTED, EVENT_REJECTED_ANON),
}

DELIVERY_KINDS = {
    OutboxKind.STAFF_CARD: N_("Card posted to the staff group"),
    OutboxKind.STAFF_CARD_EDIT: N_("Staff card updated"),
    OutboxKind.NOTICE: N_("Telegram message to the subscriber"),
    OutboxKind.EMAIL: N_("E-mail to the subscriber"),
    OutboxKind.REMINDER: N_("Reminder to the staff group"),
}
DELIVERY_EVENTS = {
    "registered": N_("registered"),
    "taken": N_("taken"),
    "done": N_("completed"),
    "rejected": N_("rejected"),
}
DELIVERY_SENT = N_("sent {time}")
DELIVERY_QUEUED = N_("waiting to be sent")
DELIVERY_PENDING = N_("waiting to be sent (attempts: {attempts})")
DELIVERY_FAILED = N_("failed (attempts: {attempts})")
DELIVERY_OTHER = N_("{status} (attempts: {attempts})")
DELIVERY_ERROR = N_("last error")

# --- /find ------------------------------------------------------------------------------
FIND_TITLE = N_("<b>Applications for {term}: {total}</b>")
FIND_NEWEST = N_("The newest {shown} are listed.")

# --- /open ------------------------------------------------------------------------------
OPEN_TITLE = N_("<b>Open work orders: {total}</b>")
OPEN_DEADLINE = N_("Orders open longer than {hours} h are marked ⏰ overdue.")
OPEN_OLDEST = N_("The oldest {shown} are listed.")
OPEN_NONE = N_("There are no open work orders.")
OVERDUE = N_("overdue")

# --- /stats -----------------------------------------------------------------------------
STATS_TITLE = N_("<b>Applications: {total}</b>")
STATS_OPEN = N_("Open now: {count}")
STATS_TODAY = N_("Registered today: {count}")
STATS_WEEK = N_("Registered in the last 7 days: {count}")
STATS_COMPLETION = N_(
    "Time from registration to completion (last {days} days, {count} completed): "
    "median {median}, 90th percentile {p90}."
)
STATS_NO_COMPLETION = N_("Nothing was completed in the last {days} days.")

# --- durations --------------------------------------------------------------------------
DURATION_DAYS = N_("{days} d {hours} h")
DURATION_HOURS = N_("{hours} h {minutes} min")
DURATION_MINUTES = N_("{minutes} min")


def fmt_duration(value: timedelta) -> str:
    minutes = max(int(value.total_seconds()) // 60, 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return gettext(DURATION_DAYS).format(days=days, hours=hours)
    if hours:
        return gettext(DURATION_HOURS).format(hours=hours, minutes=minutes)
    return gettext(DURATION_MINUTES).format(minutes=minutes)


def fmt_hours(value: timedelta) -> str:
    return f"{value.total_seconds() / 3600:g}"


def _field(label: str, value: str | None) -> Piece:
    return Piece(html=f"<b>{esc(gettext(label))}:</b> ", tail=value or "")


def _quoted_field(label: str, value: str) -> Piece:
    return Piece(html=f"<b>{esc(gettext(label))}:</b>", tail=value, quoted=True)


def _short(value: str | None, limit: int) -> str:
    value = value or ""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def status_text(status: ApplicationStatus) -> str:
    return f"{STATUS_ICONS[status]} {esc(gettext(STATUS_LABELS[status]))}"


# --- /status ----------------------------------------------------------------------------
def _event_piece(event: Event) -> Piece:
    when = esc(fmt_dt(event.at, gettext))
    icon = EVENT_ICONS.get(event.kind, "•")
    if event.kind in EVENT_WITH_NAME:
        named, anonymous = EVENT_WITH_NAME[event.kind]
        _, name = describe_actor(event.actor)
        if name:
            label = esc(gettext(named)).format(name=f"<b>{esc(_short(name, NAME_LIMIT))}</b>")
        else:
            label = esc(gettext(anonymous))
    elif event.kind is EventKind.REGISTERED:
        label = esc(gettext(EVENT_REGISTERED))
    elif event.kind is EventKind.REMINDED:
        label = esc(gettext(EVENT_REMINDED))
    else:
        label = esc(event.kind.value)
    prefix = f"{icon} {when} — {label}"
    if event.note:
        return Piece(html=prefix + ":", tail=event.note, quoted=True)
    return Piece(html=prefix)


def _delivery_piece(delivery: Delivery) -> Piece:
    icon = "✉️" if delivery.channel == Channel.EMAIL else "💬"
    when = esc(fmt_dt(delivery.created_at, gettext))
    kind = DELIVERY_KINDS.get(delivery.kind)
    label = esc(gettext(kind) if kind else delivery.kind)
    if delivery.event:
        event = DELIVERY_EVENTS.get(delivery.event)
        label += f" ({esc(gettext(event) if event else delivery.event)})"
    if delivery.status == OutboxStatus.SENT:
        sent = fmt_dt(delivery.sent_at, gettext) if delivery.sent_at else ""
        state = gettext(DELIVERY_SENT).format(time=sent).strip()
    elif delivery.status == OutboxStatus.PENDING and not delivery.attempts:
        state = gettext(DELIVERY_QUEUED)
    elif delivery.status == OutboxStatus.PENDING:
        state = gettext(DELIVERY_PENDING).format(attempts=delivery.attempts)
    elif delivery.status == OutboxStatus.FAILED:
        state = gettext(DELIVERY_FAILED).format(attempts=delivery.attempts)
    else:
        state = gettext(DELIVERY_OTHER).format(status=delivery.status, attempts=delivery.attempts)
    prefix = f"{icon} {when} — {label}: <i>{esc(state)}</i>"
    if delivery.last_error and delivery.status != OutboxStatus.SENT:
        return Piece(
            html=f"{prefix}; {esc(gettext(DELIVERY_ERROR))}: ",
            tail=_short(delivery.last_error, ERROR_LIMIT),
        )
    return Piece(html=prefix)


def application_pages(
    file: ApplicationFile, reasons: Mapping[str, Reason], locale: str
) -> list[str]:
    app = file.application
    header = gettext(APPLICATION_TITLE).format(number=app.number)
    pieces = [
        Piece(html=f"<b>{esc(gettext(FIELD_KIND))}:</b> {esc(gettext(KIND_LABELS[app.kind]))}"),
        Piece(html=f"<b>{esc(gettext(FIELD_STATUS))}:</b> {status_text(app.status)}"),
        _field(FIELD_REASON, reason_label(reasons, app.reason_code, locale)),
        _field(FIELD_CODE, app.subscriber_code),
        _field(FIELD_ADDRESS, app.address),
        _field(FIELD_FIN, mask_fin(app.fin)),
        _field(FIELD_PHONE, fmt_phone(app.phone)),
        _field(FIELD_EMAIL, app.email),
        _quoted_field(FIELD_DESCRIPTION, app.description),
        _quoted_field(FIELD_NOTES, app.notes)
        if app.notes
        else _field(FIELD_NOTES, gettext(NO_NOTES)),
        _field(FIELD_LANGUAGE, LANGUAGES.get(app.locale, app.locale)),
        Piece(),
        Piece(html=gettext(HISTORY_TITLE)),
    ]
    # Events and deliveries in one timeline; at the same moment the event comes first,
    # because it caused the delivery (both are written in one transaction).
    timeline: list[tuple[datetime, int, int, Piece]] = [
        (event.at, 0, i, _event_piece(event)) for i, event in enumerate(app.events)
    ]
    timeline += [
        (delivery.created_at, 1, i, _delivery_piece(delivery))
        for i, delivery in enumerate(file.deliveries)
    ]
    timeline.sort(key=lambda item: item[:3])
    pieces += [piece for *_, piece in timeline]
    return paginate(header, pieces)


# --- /find ------------------------------------------------------------------------------
def _application_line(app: Application) -> str:
    return (
        f"{STATUS_ICONS[app.status]} {numbered(app.number)} · "
        f"{esc(gettext(KIND_LABELS[app.kind]))} · {esc(app.subscriber_code)} · "
        f"{esc(fmt_dt(app.created_at, gettext))} · "
        f"{esc(gettext(STATUS_LABELS[app.status]))}"
    )


def found_pages(found: Found) -> list[str]:
    term = esc(found.term.shown)
    if not found.applications:
        return [gettext(FIND_NOTHING).format(term=term)]
    header = gettext(FIND_TITLE).format(term=term, total=found.total)
    if found.total > len(found.applications):
        header += "\n" + esc(gettext(FIND_NEWEST).format(shown=len(found.applications)))
    pieces = [Piece(html=_application_line(app)) for app in found.applications]
    return paginate(header, pieces, per_page=LIST_PER_PAGE)


# --- /open ------------------------------------------------------------------------------
def open_pages(orders: OpenOrders) -> list[str]:
    if not orders.orders:
        return [esc(gettext(OPEN_NONE))]
    header = gettext(OPEN_TITLE).format(total=orders.total)
    header += "\n" + esc(gettext(OPEN_DEADLINE).format(hours=fmt_hours(orders.deadline)))
    if orders.total > len(orders.orders):
        header += "\n" + esc(gettext(OPEN_OLDEST).format(shown=len(orders.orders)))
    pieces = []
    for order in orders.orders:
        app = order.application
        line = (
            f"{STATUS_ICONS[app.status]} {numbered(app.number)} · "
            f"{esc(gettext(KIND_LABELS[app.kind]))} · {esc(app.subscriber_code)} · "
            f"{esc(fmt_duration(order.age))}"
        )
        if app.status is ApplicationStatus.TAKEN and app.taken_by_name:
            line += f" · {esc(_short(app.taken_by_name, NAME_LIMIT))}"
        if order.overdue:
            line = f"⏰ {line} · <b>{esc(gettext(OVERDUE))}</b>"
        pieces.append(Piece(html=line))
    return paginate(header, pieces, per_page=LIST_PER_PAGE)


# --- /stats -----------------------------------------------------------------------------
def stats_pages(stats: Stats) -> list[str]:
    header = gettext(STATS_TITLE).format(total=stats.total)
    pieces = [
        Piece(html=f"{status_text(status)}: {stats.by_status.get(status, 0)}")
        for status in ApplicationStatus
    ]
    pieces += [
        Piece(html=esc(gettext(STATS_OPEN).format(count=stats.open))),
        Piece(),
        Piece(html=esc(gettext(STATS_TODAY).format(count=stats.registered_today))),
        Piece(html=esc(gettext(STATS_WEEK).format(count=stats.registered_last_7_days))),
        Piece(),
    ]
    days = round(stats.completion_window.total_seconds() / 86400)
    if stats.median_completion is None or stats.p90_completion is None:
        pieces.append(Piece(html=esc(gettext(STATS_NO_COMPLETION).format(days=days))))
    else:
        text = gettext(STATS_COMPLETION).format(
            days=days,
            count=stats.completed_in_window,
            median=fmt_duration(stats.median_completion),
            p90=fmt_duration(stats.p90_completion),
        )
        pieces.append(Piece(html=esc(text)))
    return paginate(header, pieces)
