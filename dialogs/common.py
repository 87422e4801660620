"""What every subscriber dialog shares: dependencies, profile, errors, formatting, buttons."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from aiogram.enums import ChatType
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import I18n, get_i18n, gettext
from aiogram_dialog import DialogManager

from dialogs.wording import KIND_LABELS, N_, STATUS_ICONS, fmt_dt, numbered
from workflows.journey import Journey
from workflows.models import Application
from workflows.ports import UserProfile
from workflows.probing import Probing
from workflows.proofs import Proofs
from workflows.values import (
    InvalidEmail,
    InvalidFin,
    InvalidPhone,
    InvalidSubscriberCode,
    InvalidText,
    InvalidValue,
    SubscriberCodeParser,
    parse_phone,
)
from workflows.withdrawal import Withdrawals

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


@dataclass(frozen=True, slots=True)
class DialogDeps:
    """What the dialogs need, given by the composition root as ``dialog_deps``."""

    journey: Journey
    proofs: Proofs
    code_parser: SubscriberCodeParser
    pay_url_template: str
    default_locale: str = "az"
    # The limits against probing (None: no limits, for tests that build the deps by hand).
    probing: Probing | None = None
    # The "Log in with e-gov" link for (account, chat), None when the login is not configured.
    egov_link: Callable[[int, int], str | None] | None = None
    # The subscriber's withdrawal (None: the status view offers no "Withdraw").
    withdrawals: Withdrawals | None = None


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
class ErrorId(StrEnum):
    """Why a window refused the input; each has its message in :data:`ERRORS`."""

    FIN_EMPTY = "fin.empty"
    FIN_CYRILLIC = "fin.cyrillic"
    FIN_IO = "fin.io"
    FIN_LENGTH = "fin.length"
    FIN_CHARS = "fin.chars"
    CODE_EMPTY = "code.empty"
    CODE_NOT_DIGITS = "code.not_digits"
    CODE_FORMAT = "code.format"
    CODE_NOT_FOUND = "code.not_found"
    CODE_METERED = "code.metered"
    CODE_OWNER = "code.owner"
    CODE_OPEN = "code.open"
    CODE_OPEN_HIDDEN = "code.open_hidden"
    CODE_OWNER_UNKNOWN = "code.owner_unknown"
    IDENTITY_REQUIRED = "identity.required"
    PHONE_NO_MATCH = "phone.no_match"
    FIN_NOT_PROVED = "fin.not_proved"
    CODE_DEBT = "code.debt"
    REGISTRY_DOWN = "registry.down"
    PHONE_EMPTY = "phone.empty"
    PHONE_INVALID = "phone.invalid"
    PHONE_TOO_LONG = "phone.too_long"
    PHONE_FOREIGN = "phone.foreign"
    PHONE_NOT_OWN = "phone.not_own"
    EMAIL_EMPTY = "email.empty"
    EMAIL_INVALID = "email.invalid"
    EMAIL_TOO_LONG = "email.too_long"
    TEXT_EMPTY = "text.empty"
    TEXT_TOO_LONG = "text.too_long"
    NUMBER_INVALID = "number.invalid"
    NUMBER_NOT_FOUND = "number.not_found"
    NOT_TEXT = "not_text"
    USE_BUTTONS = "use_buttons"
    REASON_STALE = "reason.stale"
    PROBE_CODES = "probe.codes"
    PROBE_FINS = "probe.fins"
    UNTIL_FORMAT = "until.format"
    UNTIL_RANGE = "until.range"

    @classmethod
    def of(cls, exc: InvalidValue) -> ErrorId:
        """The message for a value the parsers of ``workflows.values`` refused."""
        return cls(f"{_FIELD_OF[type(exc)]}.{exc.code}")


_FIELD_OF: Mapping[type[InvalidValue], str] = {
    InvalidFin: "fin",
    InvalidSubscriberCode: "code",
    InvalidPhone: "phone",
    InvalidEmail: "email",
    InvalidText: "text",
}

ERRORS: Mapping[ErrorId, str] = {
    ErrorId.FIN_EMPTY: N_("Please type your FIN: the 7 characters from your identity card."),
    ErrorId.FIN_CYRILLIC: N_(
        "The FIN contains Cyrillic letters. Switch the keyboard to Latin and type it again."
    ),
    ErrorId.FIN_IO: N_(
        "The letters I and O are never used in a FIN: you probably mean the digits 1 and 0."
    ),
    ErrorId.FIN_LENGTH: N_("A FIN has exactly 7 characters, Latin letters and digits."),
    ErrorId.FIN_CHARS: N_("A FIN contains only Latin capital letters and digits."),
    ErrorId.CODE_EMPTY: N_("Please type the subscriber code: the digits from your bill."),
    ErrorId.CODE_NOT_DIGITS: N_("A subscriber code contains digits only."),
    ErrorId.CODE_FORMAT: N_(
        "This does not look like a subscriber code. Check it on your bill and type it again."
    ),
    ErrorId.CODE_NOT_FOUND: N_(
        "No subscriber with the code {code} was found. Check the code on your bill."
    ),
    ErrorId.CODE_METERED: N_(
        "Subscriber {code} has a water meter. Only subscribers without a meter can apply "
        "through this service; subscribers with a meter apply at an Azərsu customer service "
        "centre or by calling 195."
    ),
    ErrorId.CODE_OWNER: N_(
        "Subscriber {code} is registered to another FIN. Only the owner of the subscription "
        "can apply."
    ),
    ErrorId.CODE_OPEN: N_(
        "Subscriber {code} already has an open application, No. {number}. You can follow it "
        "in “Check the application's status”."
    ),
    ErrorId.CODE_OPEN_HIDDEN: N_(
        "Subscriber {code} already has an open application. If you filed it, you can follow "
        "it in “Check the application's status”."
    ),
    ErrorId.CODE_OWNER_UNKNOWN: N_(
        "The registry has no owner's FIN for subscriber {code}, so we must make sure the "
        "subscription is yours: share your phone number with the button below. If it is the "
        "phone on record for this subscriber, you can go on; if not, please apply at an "
        "Azersu customer service centre or call 195."
    ),
    ErrorId.IDENTITY_REQUIRED: N_(
        "To apply you need to confirm that the FIN is yours: share your phone number with the "
        "button below (it must be the phone on record for subscriber {code}) or log in with "
        "e-gov in “Check the application's status”."
    ),
    ErrorId.PHONE_NO_MATCH: N_(
        "This phone number is not the one on record for this subscriber. Please apply at an "
        "Azersu customer service centre or call 195; they can update the phone on record."
    ),
    ErrorId.FIN_NOT_PROVED: N_(
        "This phone number is not on record for the subscriber codes of this FIN's "
        "applications. You can log in with e-gov instead, or ask an Azersu customer service "
        "centre (195) to update the phone on record."
    ),
    ErrorId.CODE_DEBT: N_(
        "This subscriber currently has an outstanding debt. Pay the debt and try again to "
        "carry out the operation."
    ),
    ErrorId.REGISTRY_DOWN: N_(
        "The billing system is not answering. Please try again in a few minutes; what you "
        "typed is kept."
    ),
    ErrorId.PHONE_EMPTY: N_(
        "Type your phone number, for example 050 123 45 67, or press the button."
    ),
    ErrorId.PHONE_INVALID: N_(
        "This is not a valid phone number. Type it like 050 123 45 67 or +994 50 123 45 67."
    ),
    ErrorId.PHONE_TOO_LONG: N_(
        "This is not a valid phone number. Type it like 050 123 45 67 or +994 50 123 45 67."
    ),
    ErrorId.PHONE_FOREIGN: N_("Please give an Azerbaijani number (+994)."),
    ErrorId.PHONE_NOT_OWN: N_("Please share your own number, not someone else's contact."),
    ErrorId.EMAIL_EMPTY: N_("Type your e-mail address, for example name@example.com."),
    ErrorId.EMAIL_INVALID: N_("This is not a valid e-mail address. Example: name@example.com."),
    ErrorId.EMAIL_TOO_LONG: N_("This e-mail address is too long."),
    ErrorId.TEXT_EMPTY: N_("This field is required. Please type a few words."),
    ErrorId.TEXT_TOO_LONG: N_(
        "That is {length} characters; the limit is {limit}. Please shorten it and send again."
    ),
    ErrorId.NUMBER_INVALID: N_("Type the application number: digits only."),
    ErrorId.NUMBER_NOT_FOUND: N_("Application No. {number} was not found."),
    ErrorId.NOT_TEXT: N_(
        "Please send text here. Stickers, photos, voice messages and files are not accepted."
    ),
    ErrorId.USE_BUTTONS: N_("Please choose one of the buttons below."),
    ErrorId.REASON_STALE: N_(
        "This reason does not fit the subscriber any more; please choose again."
    ),
    ErrorId.PROBE_CODES: N_(
        "You have checked many different subscriber codes today. For your security, please "
        "try again tomorrow or call 195."
    ),
    ErrorId.PROBE_FINS: N_(
        "You have entered many different FINs today. For your security, please try again "
        "tomorrow or call 195."
    ),
    ErrorId.UNTIL_FORMAT: N_("Type the date as DD.MM.YYYY, for example {example}."),
    ErrorId.UNTIL_RANGE: N_(
        "Choose a date from {first} to {last}: after today and at most {days} days ahead."
    ),
}


def set_error(manager: DialogManager, error: ErrorId, /, **params: Any) -> None:
    # params apart from the error id: messages have a {code} (the subscriber code) too
    manager.dialog_data[ERROR_KEY] = {"id": error, "params": params}


def clear_error(manager: DialogManager) -> None:
    manager.dialog_data.pop(ERROR_KEY, None)


def render_error(manager: DialogManager) -> str:
    error = manager.dialog_data.get(ERROR_KEY)
    if not error:
        return ""
    params = {k: html.escape(str(v)) for k, v in error["params"].items()}
    return "⚠️ " + gettext(ERRORS[ErrorId(error["id"])]).format_map(params)


def own_phone(message: Message, manager: DialogManager) -> str | None:
    """The phone of a contact the sender shared of itself (Telegram verified it), normalised;
    None, with the refusal shown, for somebody else's contact or a number we cannot take."""
    contact = message.contact
    if contact is None or message.from_user is None:
        return None
    if contact.user_id != message.from_user.id:
        set_error(manager, ErrorId.PHONE_NOT_OWN)
        return None
    try:
        return parse_phone(contact.phone_number)
    except InvalidValue as exc:
        set_error(manager, ErrorId.of(exc))
        return None


async def on_not_text(message: Message, widget: object, manager: DialogManager) -> None:
    """A sticker, photo, voice message or file where text is expected."""
    set_error(manager, ErrorId.NOT_TEXT)


async def on_use_buttons(message: Message, widget: object, manager: DialogManager) -> None:
    """Anything typed where only the buttons answer."""
    set_error(manager, ErrorId.USE_BUTTONS)


# --- formatting -------------------------------------------------------------------------
def application_line(app: Application) -> str:
    return (
        f"{STATUS_ICONS[app.status]} {numbered(app.number)} · {gettext(KIND_LABELS[app.kind])} · "
        f"{fmt_dt(app.created_at, gettext)}"
    )
