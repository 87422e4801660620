"""What the agents read: every answer in the agent's locale, user fields escaped, FIN masked.

Text people typed that may span lines (the description, the notes, a staff note) stands in a
quoted block under its label, so none of its lines passes for a line of the answer.

Each renderer returns pages (see ``paging``); the caller picks one and adds the footer.
``/status`` has its own module, ``status_texts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from aiogram.utils.i18n import get_i18n, gettext

from bot.support.paging import Piece, paginate
from dialogs.wording import (
    KIND_LABELS,
    N_,
    STATUS_ICONS,
    STATUS_LABELS,
    esc,
    fmt_dt,
    numbered,
    reason_label,
)
from workflows.models import Application, ApplicationStatus, Reason
from workflows.support import Found, OpenOrders, Stats

LIST_PER_PAGE = 20
NAME_LIMIT = 64
ERROR_LIMIT = 300

# --- one-line answers -------------------------------------------------------------------
REFUSAL = N_(
    "Sorry, this command is only for Azərsu support agents. To follow your own applications, "
    "open /menu and choose “Check the application's status”."
)
REFUSAL_SHORT = N_("Sorry, this is only for Azərsu support agents.")
ANONYMOUS_REFUSAL = N_(
    "Send the command from your own account, not as the anonymous admin: every look-up is "
    "recorded with the agent who made it. Turn off “Remain anonymous” and try again."
)
STATUS_USAGE = N_("Usage: /status N, where N is the application number, for example /status 125.")
STATUS_MISSING = N_(
    "There is no application No. {number}. Usage: /status N, for example /status 125."
)
FIND_USAGE = N_(
    "Usage: /find X, where X is a subscriber code (digits) or a FIN (7 characters), "
    "for example /find 100001."
)
FIND_NOTHING = N_("No applications for {term}.")

# --- /find ------------------------------------------------------------------------------
FIND_TITLE = N_("<b>Applications for {term}: {total}</b>")
FIND_NEWEST = N_("The newest {shown} are listed.")

# --- /open ------------------------------------------------------------------------------
OPEN_TITLE = N_("<b>Open work orders: {total}</b>")
OPEN_DEADLINE = N_(
    "Orders past their due time (the reason's deadline, else {hours} h) are marked ⏰ overdue."
)
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
STATS_ON_TIME = N_("Done on time, by reason (last {days} days):")
STATS_ON_TIME_LINE = N_("{reason}: {on_time} of {done} ({percent}%)")
STATS_RATINGS_REASON = N_("Subscribers' ratings by reason (last {days} days):")
STATS_RATINGS_STAFF = N_("Subscribers' ratings by staff member (last {days} days):")
STATS_RATING_LINE = N_("{name}: {average} of 5 ({count} rated)")
STATS_NO_RATINGS = N_("No ratings in the last {days} days.")

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


def field_piece(label: str, value: str | None) -> Piece:
    return Piece(html=f"<b>{esc(gettext(label))}:</b> ", tail=value or "")


def quoted_piece(label: str, value: str) -> Piece:
    return Piece(html=f"<b>{esc(gettext(label))}:</b>", tail=value, quoted=True)


def short(value: str | None, limit: int) -> str:
    value = value or ""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def status_text(status: ApplicationStatus) -> str:
    return f"{STATUS_ICONS[status]} {esc(gettext(STATUS_LABELS[status]))}"


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
            line += f" · {esc(short(app.taken_by_name, NAME_LIMIT))}"
        if order.overdue:
            line = f"⏰ {line} · <b>{esc(gettext(OVERDUE))}</b>"
        pieces.append(Piece(html=line))
    return paginate(header, pieces, per_page=LIST_PER_PAGE)


# --- /stats -----------------------------------------------------------------------------
def stats_pages(
    stats: Stats, reasons: Mapping[str, Reason] | None = None, locale: str = "az"
) -> list[str]:
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
    if stats.on_time:
        pieces += [Piece(), Piece(html=esc(gettext(STATS_ON_TIME).format(days=days)))]
        pieces += [
            Piece(
                html="• "
                + esc(
                    gettext(STATS_ON_TIME_LINE).format(
                        reason=reason_label(reasons or {}, line.reason_code, locale),
                        on_time=line.on_time,
                        done=line.done,
                        percent=line.percent,
                    )
                )
            )
            for line in stats.on_time
        ]
    pieces += rating_pieces(stats)
    return paginate(header, pieces)


def rating_pieces(stats: Stats) -> list[Piece]:
    """The subscribers' ratings (issue 19): average by reason and by staff member."""
    days = round(stats.rating_window.total_seconds() / 86400)
    if not stats.ratings_by_reason:
        return [Piece(), Piece(html=esc(gettext(STATS_NO_RATINGS).format(days=days)))]
    locale = get_i18n().current_locale
    pieces = [Piece()]
    for title, averages in (
        (STATS_RATINGS_REASON, stats.ratings_by_reason),
        (STATS_RATINGS_STAFF, stats.ratings_by_staff),
    ):
        pieces.append(Piece(html=esc(gettext(title).format(days=days))))
        for a in averages:
            name = a.reason.label(locale) if a.reason is not None else a.key
            line = gettext(STATS_RATING_LINE).format(
                name=name, average=f"{a.average:.1f}", count=a.count
            )
            pieces.append(Piece(html="⭐ " + esc(line)))
    return pieces
