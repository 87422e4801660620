"""What every subscriber dialog shares: dependencies, profile, errors, formatting, buttons."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.enums import ChatType
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import I18n, get_i18n, gettext
from aiogram_dialog import DialogManager
from babel.dates import format_date, format_time
from babel.numbers import format_currency

from workflows.journey import Journey
from workflows.models import Application, ApplicationKind, ApplicationStatus, Reason
from workflows.ports import UserProfile
from workflows.values import SubscriberCodeParser

BAKU = ZoneInfo("Asia/Baku")
PROFILE_KEY = "profile"
ERROR_KEY = "error"


async def in_private_chat(event: Message) -> bool:
    """A coroutine filter: aiogram runs a plain callable filter (a magic filter included)
    through ``asyncio.to_thread``, so under load every message would queue for a worker
    thread just to compare the chat type."""
    return event.chat.type == ChatType.PRIVATE


async def is_contact(event: Message) -> bool:
    """A coroutine filter for a shared contact; ``MessageInput(content_types=...)`` would
    build a magic filter, and so a thread hop per message, for the same comparison."""
    return event.contact is not None


def N_(message: str) -> str:  # noqa: N802 - the gettext marker convention
    """Mark a string for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True, slots=True)
class DialogDeps:
    """What the dialogs need, given by the composition root as ``dialog_deps``."""

    journey: Journey
    code_parser: SubscriberCodeParser
    pay_url_template: str
    default_locale: str = "az"


def deps_of(manager: DialogManager) -> DialogDeps:
    return manager.middleware_data["dialog_deps"]


def profile_of(manager: DialogManager) -> UserProfile:
    profile: UserProfile | None = manager.middleware_data.get(PROFILE_KEY)
    if profile is None:
        user = manager.event.from_user
        profile = UserProfile(telegram_user_id=user.id if user else 0)
    return profile


def current_locale() -> str:
    return get_i18n().current_locale


async def remember_profile(manager: DialogManager, profile: UserProfile) -> None:
    """Store the profile in the database and in this user's FSM data (the per-user cache)."""
    await deps_of(manager).journey.save_profile(profile)
    manager.middleware_data[PROFILE_KEY] = profile
    state: FSMContext | None = manager.middleware_data.get("state")
    if state is not None:
        await state.update_data({PROFILE_KEY: {"locale": profile.locale, "fin": profile.fin}})


async def set_locale(manager: DialogManager, locale: str) -> None:
    profile = replace(profile_of(manager), locale=locale)
    await remember_profile(manager, profile)
    i18n: I18n = manager.middleware_data["i18n"]
    i18n.current_locale = locale


# --- errors -----------------------------------------------------------------------------
# code -> message; each is shown inside the window that refused the input.
ERRORS: Mapping[str, str] = {
    "fin.empty": N_("Please type your FIN: the 7 characters from your identity card."),
    "fin.cyrillic": N_(
        "The FIN contains Cyrillic letters. Switch the keyboard to Latin and type it again."
    ),
    "fin.io": N_(
        "The letters I and O are never used in a FIN: you probably mean the digits 1 and 0."
    ),
    "fin.length": N_("A FIN has exactly 7 characters, Latin letters and digits."),
    "fin.chars": N_("A FIN contains only Latin capital letters and digits."),
    "code.empty": N_("Please type the subscriber code: the digits from your bill."),
    "code.not_digits": N_("A subscriber code contains digits only."),
    "code.format": N_(
        "This does not look like a subscriber code. Check it on your bill and type it again."
    ),
    "code.not_found": N_(
        "No subscriber with the code {code} was found. Check the code on your bill."
    ),
    "code.metered": N_(
        "Subscriber {code} has a water meter. Only subscribers without a meter can apply "
        "through this service; subscribers with a meter apply at an Azərsu customer service "
        "centre or by calling 922."
    ),
    "code.owner": N_(
        "Subscriber {code} is registered to another FIN. Only the owner of the subscription "
        "can apply."
    ),
    "code.open": N_(
        "Subscriber {code} already has an open application, No. {number}. You can follow it "
        "in “Check the application's status”."
    ),
    "code.debt": N_(
        "This subscriber currently has an outstanding debt. Pay the debt and try again to "
        "carry out the operation."
    ),
    "registry.down": N_(
        "The billing system is not answering. Please try again in a few minutes; what you "
        "typed is kept."
    ),
    "phone.empty": N_("Type your phone number, for example 050 123 45 67, or press the button."),
    "phone.invalid": N_(
        "This is not a valid phone number. Type it like 050 123 45 67 or +994 50 123 45 67."
    ),
    "phone.too_long": N_(
        "This is not a valid phone number. Type it like 050 123 45 67 or +994 50 123 45 67."
    ),
    "phone.foreign": N_("Please give an Azerbaijani number (+994)."),
    "phone.not_own": N_("Please share your own number, not someone else's contact."),
    "email.empty": N_("Type your e-mail address, for example name@example.com."),
    "email.invalid": N_("This is not a valid e-mail address. Example: name@example.com."),
    "email.too_long": N_("This e-mail address is too long."),
    "text.empty": N_("This field is required. Please type a few words."),
    "text.too_long": N_(
        "That is {length} characters; the limit is {limit}. Please shorten it and send again."
    ),
    "number.invalid": N_("Type the application number: digits only."),
    "number.not_found": N_("Application No. {number} was not found."),
    "not_text": N_(
        "Please send text here. Stickers, photos, voice messages and files are not accepted."
    ),
    "use_buttons": N_("Please choose one of the buttons below."),
    "reason.stale": N_("This reason does not fit the subscriber any more; please choose again."),
}


def set_error(manager: DialogManager, error: str, /, **params: Any) -> None:
    # params apart from the error id: messages have a {code} (the subscriber code) too
    manager.dialog_data[ERROR_KEY] = {"id": error, "params": params}


def clear_error(manager: DialogManager) -> None:
    manager.dialog_data.pop(ERROR_KEY, None)


def render_error(manager: DialogManager) -> str:
    error = manager.dialog_data.get(ERROR_KEY)
    if not error:
        return ""
    params = {k: html.escape(str(v)) for k, v in error["params"].items()}
    return "⚠️ " + gettext(ERRORS[error["id"]]).format_map(params)


async def on_not_text(message: Message, widget: object, manager: DialogManager) -> None:
    """A sticker, photo, voice message or file where text is expected."""
    set_error(manager, "not_text")


async def on_use_buttons(message: Message, widget: object, manager: DialogManager) -> None:
    """Anything typed where only the buttons answer."""
    set_error(manager, "use_buttons")


# --- formatting -------------------------------------------------------------------------
KIND_LABELS = {
    ApplicationKind.SUSPEND: N_("Temporary suspension"),
    ApplicationKind.RESTORE: N_("Restoration"),
}
STATUS_LABELS = {
    ApplicationStatus.REGISTERED: N_("Registered"),
    ApplicationStatus.TAKEN: N_("In progress"),
    ApplicationStatus.DONE: N_("Completed"),
    ApplicationStatus.REJECTED: N_("Rejected"),
}
STATUS_ICONS = {
    ApplicationStatus.REGISTERED: "🆕",
    ApplicationStatus.TAKEN: "🛠",
    ApplicationStatus.DONE: "✅",
    ApplicationStatus.REJECTED: "❌",
}


def fmt_dt(value: datetime, locale: str) -> str:
    local = value.astimezone(BAKU)
    return f"{format_date(local, 'medium', locale=locale)}, {format_time(local, 'HH:mm')}"


def fmt_money(value: Decimal, locale: str) -> str:
    return format_currency(value, "AZN", locale=locale)


def esc(value: str | None) -> str:
    return html.escape(value or "", quote=False)


def reason_label(reasons: Mapping[str, Reason], code: str, locale: str) -> str:
    reason = reasons.get(code)
    return reason.label(locale) if reason else code


def application_line(app: Application, locale: str) -> str:
    return (
        f"{STATUS_ICONS[app.status]} №{app.number} · {gettext(KIND_LABELS[app.kind])} · "
        f"{fmt_dt(app.created_at, locale)}"
    )
