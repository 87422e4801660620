"""What ``/status N`` shows an agent: the application (FIN masked), how its applicant was
identified, the accounts verified for its FIN, and its history with the deliveries, in the
agent's locale, user fields escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from aiogram.utils.i18n import gettext

from bot.staff.plan_texts import planned_line
from bot.support.paging import Piece, paginate
from bot.support.texts import (
    ERROR_LIMIT,
    NAME_LIMIT,
    field_piece,
    quoted_piece,
    short,
    status_text,
)
from dialogs.wording import (
    IDENTIFIED_LABELS,
    KIND_LABELS,
    LANGUAGES,
    N_,
    esc,
    fmt_day,
    fmt_dt,
    fmt_phone,
    identified_label,
    reason_label,
)
from workflows.identity import Verification
from workflows.models import Event, EventKind, Reason
from workflows.outbox.records import Channel, OutboxKind, OutboxStatus
from workflows.ports import ApplicationFile, Delivery
from workflows.support import describe_actor
from workflows.values import mask_fin

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
FIELD_IDENTIFIED = N_("Identified")
FIELD_UNTIL = N_("Until")
NO_NOTES = N_("none")
VERIFICATIONS_TITLE = N_("<b>Accounts verified for this FIN</b>")
NO_VERIFICATIONS = N_("None: no account has proved this FIN.")
VERIFICATION_LINE = N_("Account {account} · {method} · {time}")

EVENT_REGISTERED = N_("Registered by the subscriber")
EVENT_TAKEN = N_("Taken by {name}")
EVENT_DONE = N_("Completed by {name}")
EVENT_REJECTED = N_("Rejected by {name}")
EVENT_REMINDED = N_("Reminder: the order is overdue")
EVENT_TAKEN_ANON = N_("Taken by the staff")
EVENT_DONE_ANON = N_("Completed")
EVENT_REJECTED_ANON = N_("Rejected")
EVENT_WITHDRAW_REQUESTED = N_("The subscriber asked to withdraw it")
EVENT_WITHDRAWN = N_("Withdrawn: accepted by {name}")
EVENT_WITHDRAWN_ANON = N_("Withdrawn by the subscriber")
EVENT_WITHDRAW_DECLINED = N_("Withdrawal declined by {name}")
EVENT_WITHDRAW_DECLINED_ANON = N_("Withdrawal declined")
EVENT_PLANNED = N_("Date planned by {name}")
EVENT_PLANNED_ANON = N_("Date planned")
EVENT_CONFIRMED = N_("The subscriber confirmed the work")
EVENT_REOPENED = N_("Reopened: the subscriber says the work was not done")
EVENT_RATED = N_("Rated by the subscriber")
EVENT_PHOTO = N_("📷 with a photo (sent below)")
CITIZEN_EVENTS = {
    EventKind.CONFIRMED: ("👍", EVENT_CONFIRMED),
    EventKind.REOPENED: ("🔁", EVENT_REOPENED),
    EventKind.RATED: ("⭐", EVENT_RATED),
}
EVENT_ICONS = {
    EventKind.REGISTERED: "🆕",
    EventKind.TAKEN: "🛠",
    EventKind.DONE: "✅",
    EventKind.REJECTED: "❌",
    EventKind.REMINDED: "⏰",
    EventKind.WITHDRAW_REQUESTED: "↩️",
    EventKind.WITHDRAWN: "↩️",
    EventKind.WITHDRAW_DECLINED: "🚫",
    EventKind.PLANNED: "🗓",
}
EVENT_WITH_NAME = {
    EventKind.TAKEN: (EVENT_TAKEN, EVENT_TAKEN_ANON),
    EventKind.DONE: (EVENT_DONE, EVENT_DONE_ANON),
    EventKind.REJECTED: (EVENT_REJECTED, EVENT_REJECTED_ANON),
    EventKind.WITHDRAWN: (EVENT_WITHDRAWN, EVENT_WITHDRAWN_ANON),
    EventKind.WITHDRAW_DECLINED: (EVENT_WITHDRAW_DECLINED, EVENT_WITHDRAW_DECLINED_ANON),
    EventKind.PLANNED: (EVENT_PLANNED, EVENT_PLANNED_ANON),
}

DELIVERY_KINDS = {
    OutboxKind.STAFF_CARD: N_("Card posted to the staff group"),
    OutboxKind.STAFF_CARD_EDIT: N_("Staff card updated"),
    OutboxKind.NOTICE: N_("Telegram message to the subscriber"),
    OutboxKind.EMAIL: N_("E-mail to the subscriber"),
    OutboxKind.REMINDER: N_("Reminder to the staff group"),
    OutboxKind.RESTORE_OFFER: N_("Restoration offer to the subscriber"),
}
DELIVERY_EVENTS = {
    "registered": N_("registered"),
    "taken": N_("taken"),
    "done": N_("completed"),
    "rejected": N_("rejected"),
    "withdraw_declined": N_("withdrawal declined"),
    "planned": N_("date planned"),
}
DELIVERY_SENT = N_("sent {time}")
DELIVERY_QUEUED = N_("waiting to be sent")
DELIVERY_PENDING = N_("waiting to be sent (attempts: {attempts})")
DELIVERY_FAILED = N_("failed (attempts: {attempts})")
DELIVERY_OTHER = N_("{status} (attempts: {attempts})")
DELIVERY_ERROR = N_("last error")


def _event_piece(event: Event, locale: str) -> Piece:
    when = esc(fmt_dt(event.at, gettext))
    icon = EVENT_ICONS.get(event.kind, "•")
    if event.kind in EVENT_WITH_NAME:
        named, anonymous = EVENT_WITH_NAME[event.kind]
        _, name = describe_actor(event.actor)
        if name:
            label = esc(gettext(named)).format(name=f"<b>{esc(short(name, NAME_LIMIT))}</b>")
        else:
            label = esc(gettext(anonymous))
    elif event.kind is EventKind.REGISTERED:
        label = esc(gettext(EVENT_REGISTERED))
    elif event.kind is EventKind.REMINDED:
        label = esc(gettext(EVENT_REMINDED))
    elif event.kind is EventKind.WITHDRAW_REQUESTED:
        label = esc(gettext(EVENT_WITHDRAW_REQUESTED))
    elif event.kind in CITIZEN_EVENTS:
        icon, msgid = CITIZEN_EVENTS[event.kind]
        label = esc(gettext(msgid))
    else:
        label = esc(event.kind.value)
    if event.photo_file_id:
        label += " · " + esc(gettext(EVENT_PHOTO))
    prefix = f"{icon} {when} — {label}"
    if event.kind is EventKind.PLANNED and event.note:  # "2026-12-12 morning": as the card
        day, _sep, window = event.note.partition(" ")
        planned = planned_line(day, window, gettext, locale)
        if planned:
            return Piece(html=f"{prefix}: {esc(planned)}")
    if event.note:
        return Piece(html=prefix + ":", tail=event.note, quoted=True)
    return Piece(html=prefix)


def _delivery_piece(delivery: Delivery, locale: str) -> Piece:
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
            tail=short(delivery.last_error, ERROR_LIMIT),
        )
    return Piece(html=prefix)


def verification_pieces(verifications: tuple[Verification, ...], locale: str) -> list[Piece]:
    """One line per account that proved the FIN: its Telegram id, the method, when."""
    if not verifications:
        return [Piece(html=esc(gettext(NO_VERIFICATIONS)))]
    return [
        Piece(
            html="🔐 "
            + esc(
                gettext(VERIFICATION_LINE).format(
                    account=v.telegram_user_id,
                    method=gettext(IDENTIFIED_LABELS[v.method]),
                    time=fmt_dt(v.at, gettext),
                )
            )
        )
        for v in verifications
    ]


def application_pages(
    file: ApplicationFile, reasons: Mapping[str, Reason], locale: str
) -> list[str]:
    app = file.application
    header = gettext(APPLICATION_TITLE).format(number=app.number)
    until = fmt_day(app.suspend_until, locale)  # a suspension's date, if it has one
    pieces = [
        Piece(html=f"<b>{esc(gettext(FIELD_KIND))}:</b> {esc(gettext(KIND_LABELS[app.kind]))}"),
        Piece(html=f"<b>{esc(gettext(FIELD_STATUS))}:</b> {status_text(app.status)}"),
        field_piece(FIELD_REASON, reason_label(reasons, app.reason_code, locale)),
        *([field_piece(FIELD_UNTIL, until)] if until else []),
        field_piece(FIELD_CODE, app.subscriber_code),
        field_piece(FIELD_ADDRESS, app.address),
        field_piece(FIELD_FIN, mask_fin(app.fin)),
        field_piece(FIELD_IDENTIFIED, gettext(identified_label(app.identified_by))),
        field_piece(FIELD_PHONE, fmt_phone(app.phone)),
        field_piece(FIELD_EMAIL, app.email),
        quoted_piece(FIELD_DESCRIPTION, app.description),
        quoted_piece(FIELD_NOTES, app.notes)
        if app.notes
        else field_piece(FIELD_NOTES, gettext(NO_NOTES)),
        field_piece(FIELD_LANGUAGE, LANGUAGES.get(app.locale, app.locale)),
        Piece(),
        Piece(html=gettext(VERIFICATIONS_TITLE)),
        *verification_pieces(file.verifications, locale),
        Piece(),
        Piece(html=gettext(HISTORY_TITLE)),
    ]
    # Events and deliveries in one timeline; at the same moment the event comes first,
    # because it caused the delivery (both are written in one transaction).
    timeline: list[tuple[datetime, int, int, Piece]] = [
        (event.at, 0, i, _event_piece(event, locale)) for i, event in enumerate(app.events)
    ]
    timeline += [
        (delivery.created_at, 1, i, _delivery_piece(delivery, locale))
        for i, delivery in enumerate(file.deliveries)
    ]
    timeline.sort(key=lambda item: item[:3])
    pieces += [piece for *_, piece in timeline]
    return paginate(header, pieces)
