"""The summary's handlers: an edit button per field, "Davam et" (registration, or the debt
window with "Borcu ödə"), and what follows the confirmation."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.widgets.kbd import Button

from dialogs.application.fields import DRAFT, Field
from dialogs.application.handlers import debt_value, refusal
from dialogs.application.until import refuse_range
from dialogs.common import ErrorId, clear_error, current_locale, deps_of, profile_of, set_error
from dialogs.states import ApplicationSG, StatusSG
from workflows.errors import DebtOutstanding, DomainError, ReasonNotAllowed
from workflows.models import ApplicationKind, Draft
from workflows.until import UntilNotAllowed


def edit_handler(state: Any):
    async def on_edit(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
        clear_error(manager)
        manager.dialog_data.pop(Field.DEBT, None)
        manager.dialog_data[Field.EDITING] = True
        await manager.switch_to(state)

    return on_edit


def draft_of(manager: DialogManager) -> Draft:
    data = manager.dialog_data
    user = manager.event.from_user
    chat = manager.middleware_data.get("event_chat")
    user_id = user.id if user else 0
    suspension = data.get(Field.KIND) == ApplicationKind.SUSPEND
    return Draft(
        fin=profile_of(manager).fin or "",
        subscriber_code=data[Field.CODE],
        reason_code=data[Field.REASON],
        phone=data[Field.PHONE],
        email=data[Field.EMAIL],
        description=data[Field.DESCRIPTION],
        notes=data.get(Field.NOTES),
        locale=current_locale(),
        telegram_user_id=user_id,
        chat_id=chat.id if chat else user_id,
        suspend_until=data.get(Field.UNTIL) if suspension else None,
    )


async def on_confirm(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """ "Davam et": the registry is asked again; a debt stops it, the draft is kept."""
    clear_error(manager)
    draft = draft_of(manager)
    try:
        number = await deps_of(manager).journey.submit(draft)
    except DebtOutstanding as exc:
        manager.dialog_data[Field.DEBT] = debt_value(exc)
        if manager.current_context().state == ApplicationSG.debt:
            manager.dialog_data[Field.STILL_DEBT] = True
        await manager.switch_to(ApplicationSG.debt)
        return
    except UntilNotAllowed as exc:  # the day came while the draft waited
        refuse_range(manager, exc)
        await manager.switch_to(ApplicationSG.until)
        return
    except ReasonNotAllowed:
        manager.dialog_data.pop(Field.REASON, None)
        set_error(manager, ErrorId.REASON_STALE)
        manager.dialog_data[Field.RETURN_TO_SUMMARY] = True
        await manager.switch_to(ApplicationSG.reason)
        return
    except DomainError as exc:
        refusal(manager, exc, draft.subscriber_code)
        if manager.current_context().state != ApplicationSG.summary:
            await manager.switch_to(ApplicationSG.summary)
        return
    for field in DRAFT:
        manager.dialog_data.pop(field, None)
    # The text inputs keep each raw answer too: the draft goes the moment it is filed.
    manager.current_context().widget_data.clear()
    manager.dialog_data[Field.NUMBER] = number
    await manager.switch_to(ApplicationSG.registered)


async def on_debt_back(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data.pop(Field.STILL_DEBT, None)
    manager.dialog_data.pop(Field.DEBT, None)
    await manager.switch_to(ApplicationSG.summary)


async def on_open_status(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    number = manager.dialog_data.get(Field.NUMBER)
    # The confirmation keeps its text and number: closing the form shows nothing (the menu
    # under it would be edited in), and the application comes as a new message.
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    await manager.start(StatusSG.detail, data={"number": number}, show_mode=ShowMode.SEND)
