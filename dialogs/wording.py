"""One home for wording and languages: what every message uses, whoever it is for.

The subscriber's windows, the staff cards, the notices, the e-mails and the agents' answers
all take from here: the list of languages, the labels of kinds and statuses, and how money,
dates (in Baku time, the zone named), numbers ("№ 12"), phones, HTML (escaping, and quoting
what people typed) and Telegram's lengths are handled. Money, dates, numbers and phones
look the same in every language (``locales/GLOSSARY.md``). A fourth language is its
``locales/<code>/LC_MESSAGES/messages.po``, one line in :data:`LANGUAGES` and its reason
labels in ``storage/seed/reason_labels.csv`` (README, "Catalogues").
"""

from __future__ import annotations

import html
from collections.abc import Callable, KeysView, Mapping
from datetime import date, datetime
from decimal import Decimal

import phonenumbers
from aiogram.utils.i18n import I18n
from babel.dates import format_date
from babel.numbers import format_currency

from workflows.clock import BAKU
from workflows.identity import IdentityMethod
from workflows.models import ApplicationKind, ApplicationStatus, Reason

# code -> the language's own name, as the language switch shows it; the order is the menu's.
LANGUAGES: Mapping[str, str] = {
    "az": "🇦🇿 Azərbaycanca",
    "ru": "🇷🇺 Русский",
    "en": "🇬🇧 English",
}
# The codes, as a view of LANGUAGES rather than a copy, so that the list of languages is that
# one mapping: the settings' check of DEFAULT_LOCALE/STAFF_LOCALE and the command menus see
# any language it has (a test adds one at run time).
LOCALES: KeysView[str] = LANGUAGES.keys()

Translate = Callable[[str], str]


def N_(message: str) -> str:  # noqa: N802 - the gettext marker convention
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def translator(i18n: I18n, locale: str) -> Translate:
    """``_`` for a fixed locale, usable outside an update (the outbox, a background task)."""

    def _(message: str) -> str:
        return i18n.gettext(message, locale=locale)

    return _


KIND_LABELS = {
    ApplicationKind.SUSPEND: N_("Temporary suspension"),
    ApplicationKind.RESTORE: N_("Restoration"),
}
STATUS_LABELS = {
    ApplicationStatus.REGISTERED: N_("Registered"),
    ApplicationStatus.TAKEN: N_("In progress"),
    ApplicationStatus.DONE: N_("Completed"),
    ApplicationStatus.REJECTED: N_("Rejected"),
    ApplicationStatus.WITHDRAWN: N_("Withdrawn"),
}
STATUS_ICONS = {
    ApplicationStatus.REGISTERED: "🆕",
    ApplicationStatus.TAKEN: "🛠",
    ApplicationStatus.DONE: "✅",
    ApplicationStatus.REJECTED: "❌",
    ApplicationStatus.WITHDRAWN: "↩️",
}
# How the applicant was identified (Application.identified_by), for staff and agents;
# PHONE and EGOV also name how an account proved a FIN (a verification).
IDENTIFIED_LABELS = {
    IdentityMethod.TYPED: N_("FIN typed (not proved)"),
    IdentityMethod.PHONE: N_("phone matches the registry"),
    IdentityMethod.EGOV: N_("e-gov login"),
}


def identified_label(value: str | None) -> str:
    """The msgid for an ``identified_by`` value; anything unknown reads as "typed"."""
    try:
        return IDENTIFIED_LABELS[IdentityMethod(value or IdentityMethod.TYPED)]
    except ValueError:
        return IDENTIFIED_LABELS[IdentityMethod.TYPED]


NBSP = "\u00a0"
BAKU_TIME = N_("{time} (Baku time)")
# Babel's pattern and the manat's own country's number symbols: "12,50 ₼", "1.234,50 ₼",
# whatever the reader's language (a non-breaking space keeps the sign with the amount).
MONEY_PATTERN = f"#,##0.00{NBSP}¤"
MONEY_LOCALE = "az"


def fmt_dt(value: datetime, _: Translate) -> str:
    """``07.12.2026, 05:16 (Bakı vaxtı)``: Baku time, the zone named (the reader may be
    abroad); the same in every text, the e-mail's included. ``_`` translates the zone."""
    local = value.astimezone(BAKU)
    return _(BAKU_TIME).format(time=f"{local:%d.%m.%Y, %H:%M}")


def fmt_day(value: date | str | None, locale: str) -> str:
    """A calendar day in the reader's language: ``12 March 2027``, ``12 mart 2027``,
    ``12 марта 2027``; a stored ``YYYY-MM-DD`` too. "" for none (or a broken value)."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return ""
    if value is None:
        return ""
    return format_date(value, "d MMMM y", locale=locale)


def fmt_money(value: Decimal) -> str:
    """``12,50 ₼`` in every language."""
    return format_currency(
        value, "AZN", format=MONEY_PATTERN, locale=MONEY_LOCALE, currency_digits=False
    )


def numbered(number: int | str) -> str:
    """``№ 12``, the sign kept with its number by a non-breaking space."""
    return f"№{NBSP}{number}"


def fmt_phone(value: str | None) -> str:
    """``+994 50 123 45 67`` for a stored ``+994501234567``; anything else as it is."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(number):
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def esc(value: str | None) -> str:
    """User text inside an HTML message (Telegram's parse mode and the e-mail's body)."""
    return html.escape(value or "", quote=False)


def blockquote(markup: str) -> str:
    """Markup in a quoted block, on lines of its own (Telegram's HTML and the e-mail's).

    Text people typed that may hold line breaks (a description, notes, a staff note) is
    shown this way under its label, so that a typed "Status: Done" is visibly inside the
    quote and never passes for a line of the message itself.
    """
    return f"<blockquote>{markup}</blockquote>"


def quote(value: str | None) -> str:
    """User text, escaped, in a quoted block: see :func:`blockquote`."""
    return blockquote(esc(value))


def tg_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def fit(render: Callable[[dict[str, str]], str], texts: Mapping[str, str], limit: int) -> str:
    """``render(texts)``, with the longest of ``texts`` cut until it is within ``limit``.

    ``texts`` are what people typed (raw, unescaped); ``render`` gets them, cut or not, and
    marks a cut one (it can compare with the full text). The longest are cut down to a common
    length, the largest that fits (so each keeps its beginning, and as much of it as the
    message allows, however much escaping makes it grow). The result is measured as Telegram
    counts (UTF-16 units of the HTML, never less than after parsing); if the fixed parts alone
    are too long it stays longer than ``limit``, for the caller to check.
    """
    text = render(dict(texts))
    if tg_len(text) <= limit:
        return text
    low, high = 0, max(map(len, texts.values()), default=0)
    text = render(dict.fromkeys(texts, ""))
    while low < high:  # the largest common length that fits
        middle = (low + high + 1) // 2
        candidate = render({name: value[:middle] for name, value in texts.items()})
        if tg_len(candidate) <= limit:
            low, text = middle, candidate
        else:
            high = middle - 1
    return text


def reason_label(reasons: Mapping[str, Reason], code: str, locale: str) -> str:
    reason = reasons.get(code)
    return reason.label(locale) if reason else code
