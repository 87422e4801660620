"""The application form: each handler stores one validated value and moves on.

Values live in ``dialog_data`` (JSON-serialisable, so Redis can hold them); a refusal is
shown in the same window and the user stays on the step with nothing lost.
"""

from __future__ import annotations

import contextlib
from typing import Any

from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.input import ManagedTextInput
from aiogram_dialog.widgets.kbd import Button

from dialogs.application.fields import Field
from dialogs.common import (
    ErrorId,
    clear_error,
    deps_of,
    own_phone,
    profile_of,
    set_error,
)
from dialogs.probing import code_allowed
from dialogs.states import ApplicationSG
from workflows.errors import (
    DebtOutstanding,
    DomainError,
    IdentityRequired,
    MeteredSubscriber,
    OpenApplicationExists,
    OwnerMismatch,
    OwnerUnknown,
    RegistryUnavailable,
    SubscriberNotFound,
)
from workflows.models import ApplicationKind
from workflows.values import InvalidValue


def refusal(manager: DialogManager, exc: DomainError, code: str) -> None:
    """Show a registry refusal on the current window; an open application's number and the
    debt's amount only when the journey told them (the account proved the owner FIN)."""
    if isinstance(exc, SubscriberNotFound):
        set_error(manager, ErrorId.CODE_NOT_FOUND, code=code)
    elif isinstance(exc, MeteredSubscriber):
        set_error(manager, ErrorId.CODE_METERED, code=code)
    elif isinstance(exc, OwnerMismatch):
        set_error(manager, ErrorId.CODE_OWNER, code=code)
    elif isinstance(exc, OpenApplicationExists) and exc.number:
        set_error(manager, ErrorId.CODE_OPEN, code=code, number=exc.number)
    elif isinstance(exc, OpenApplicationExists):
        set_error(manager, ErrorId.CODE_OPEN_HIDDEN, code=code)
    elif isinstance(exc, DebtOutstanding):
        set_error(manager, ErrorId.CODE_DEBT)
        manager.dialog_data[Field.DEBT] = debt_value(exc)
    elif isinstance(exc, OwnerUnknown):
        set_error(manager, ErrorId.CODE_OWNER_UNKNOWN, code=code)
    elif isinstance(exc, IdentityRequired):
        set_error(manager, ErrorId.IDENTITY_REQUIRED, code=code)
    elif isinstance(exc, RegistryUnavailable):
        set_error(manager, ErrorId.REGISTRY_DOWN)
    else:  # pragma: no cover - every DomainError of the journey is listed above
        raise exc


def debt_value(exc: DebtOutstanding) -> str:
    """The debt as stored in the form: the amount, or "" when it is not to be shown."""
    return "" if exc.debt is None else str(exc.debt)


# Refusals a proof of the account's phone can lift: the prove window asks for the contact.
PROVABLE = (OwnerUnknown, IdentityRequired)


async def _advance(manager: DialogManager) -> None:
    """Next step, or back to the summary when the user came from there."""
    clear_error(manager)
    if manager.dialog_data.get(Field.EDITING):
        manager.dialog_data[Field.EDITING] = False
        await manager.switch_to(ApplicationSG.summary)
    elif manager.current_context().state == ApplicationSG.prove:  # the code, proved
        await manager.switch_to(ApplicationSG.reason)
    else:
        await manager.next()


async def on_back(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    clear_error(manager)
    if manager.dialog_data.get(Field.EDITING):
        manager.dialog_data[Field.EDITING] = False
        await manager.switch_to(ApplicationSG.summary)
    elif manager.current_context().state == ApplicationSG.subscriber_code:
        await manager.done()
    else:
        await manager.back()


async def on_invalid(
    message: Message, widget: ManagedTextInput[Any], manager: DialogManager, error: ValueError
) -> None:
    """A text step's parser refused the input (``workflows.values``): say why, stay."""
    if not isinstance(error, InvalidValue):  # pragma: no cover - the parsers raise only these
        raise error
    params: dict[str, Any] = {}
    if error.limit is not None:
        params = {"limit": error.limit, "length": error.length}
    set_error(manager, ErrorId.of(error), **params)


def parse_code(manager: DialogManager, text: str) -> str:
    return deps_of(manager).code_parser(text)


# --- step 1: subscriber code ------------------------------------------------------------
async def on_code_entered(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, text: str
) -> None:
    try:
        code = parse_code(manager, text)
    except InvalidValue as exc:
        set_error(manager, ErrorId.of(exc))
        return
    await check_code(manager, code)


async def check_code(manager: DialogManager, code: str) -> None:
    manager.dialog_data.pop(Field.DEBT, None)
    manager.dialog_data[Field.LAST_CODE] = code
    if not await code_allowed(manager, code):
        return
    profile = profile_of(manager)
    try:
        check = await deps_of(manager).journey.check_subscriber(
            code, profile.fin or "", profile.telegram_user_id
        )
    except DomainError as exc:
        refusal(manager, exc, code)
        if isinstance(exc, PROVABLE):
            await manager.switch_to(ApplicationSG.prove)
        elif manager.current_context().state == ApplicationSG.prove:
            await manager.switch_to(ApplicationSG.subscriber_code)
        return
    subscriber = check.subscriber
    data = manager.dialog_data
    kind = ApplicationKind.for_state(subscriber.state).value
    if data.get(Field.KIND) != kind:
        data.pop(Field.REASON, None)
    if kind != ApplicationKind.SUSPEND:  # only a suspension says until when
        data.pop(Field.UNTIL, None)
    data.update({Field.CODE: code, Field.KIND: kind, Field.ADDRESS: subscriber.address})
    if data.get(Field.EDITING) and not data.get(Field.REASON):
        # A new code with another service state needs a new reason before the summary.
        data[Field.EDITING] = False
        clear_error(manager)
        data[Field.RETURN_TO_SUMMARY] = True
        await manager.switch_to(ApplicationSG.reason)
        return
    await _advance(manager)


async def on_code_recheck(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    code = manager.dialog_data.get(Field.LAST_CODE)
    if code:
        await check_code(manager, code)


# --- step 2: reason ---------------------------------------------------------------------
async def on_reason_selected(
    callback: CallbackQuery, widget: object, manager: DialogManager, reason: str
) -> None:
    kind = ApplicationKind(manager.dialog_data.get(Field.KIND, ApplicationKind.SUSPEND))
    if reason not in {r.code for r in await deps_of(manager).journey.reasons(kind)}:
        # a stale button (the catalogue changed) or a forged one: only the reasons shown
        set_error(manager, ErrorId.REASON_STALE)
        return
    manager.dialog_data[Field.REASON] = reason
    if manager.dialog_data.pop(Field.RETURN_TO_SUMMARY, False):
        manager.dialog_data[Field.EDITING] = True
    await _advance(manager)


# --- step 3: phone ----------------------------------------------------------------------
async def on_contact(message: Message, widget: object, manager: DialogManager) -> None:
    phone = own_phone(message, manager)
    if phone is None:
        return
    manager.dialog_data[Field.PHONE] = phone
    await _prove_phone(manager, phone)
    await _advance(manager)


async def _prove_phone(manager: DialogManager, phone: str) -> None:
    """The account's own phone, as Telegram verified it: remembered, and when it is the
    registry's phone of the code typed, the owner FIN is proved on the way."""
    fin = profile_of(manager).fin or ""
    code = manager.dialog_data.get(Field.CODE) or manager.dialog_data.get(Field.LAST_CODE)
    codes = [code] if code else []
    # A registry outage leaves the proof for another try; the phone itself is taken.
    with contextlib.suppress(RegistryUnavailable):
        await deps_of(manager).proofs.prove_by_phone(
            profile_of(manager).telegram_user_id, fin, phone, codes
        )


# --- the proof a code asks for (no owner FIN on record, or REQUIRE_VERIFIED_IDENTITY) ------
async def on_prove_contact(message: Message, widget: object, manager: DialogManager) -> None:
    """The contact shared on the prove window: remembered, then the code is checked again,
    and the form goes on if the phone is the code's phone on record."""
    phone = own_phone(message, manager)
    if phone is None:
        return
    await _prove_phone(manager, phone)
    code = manager.dialog_data.get(Field.LAST_CODE)
    if not code:
        await manager.switch_to(ApplicationSG.subscriber_code)
        return
    await check_code(manager, code)
    if manager.current_context().state == ApplicationSG.prove:
        set_error(manager, ErrorId.PHONE_NO_MATCH)


async def on_prove_back(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    clear_error(manager)
    await manager.switch_to(ApplicationSG.subscriber_code)


async def on_phone_entered(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, phone: str
) -> None:
    manager.dialog_data[Field.PHONE] = phone
    await _advance(manager)


# --- steps 4-6: e-mail, description, notes ----------------------------------------------
async def on_text_entered(
    message: Message, widget: ManagedTextInput[Any], manager: DialogManager, value: Any
) -> None:
    """E-mail, description, notes: the input widget's id is the field it fills."""
    manager.dialog_data[Field(widget.widget_id)] = value
    await _advance(manager)


async def on_notes_skipped(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    manager.dialog_data[Field.NOTES] = None
    await _advance(manager)
