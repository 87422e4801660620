"""The floor: a bare aiogram-dialog wizard with the product's steps and nothing else.

Same windows as the product's journey (FIN, menu; then code, reason, phone, e-mail,
description, notes, summary, registered, in a second dialog started from the menu), the
same kinds of input (``TextInput``, a ``Select``, ``Button``\\ s, a reply keyboard with
``RequestContact`` and a ``MessageInput`` for the contact) and the same widget ids, so the
same simulated users drive it. There is no database, no i18n, no validation (``TextInput``
keeps the raw string), no middleware and no router filters of ours: what one update costs here is what
aiogram + aiogram-dialog cost for this journey, the floor the product is compared with.
"""

from __future__ import annotations

import itertools
from operator import itemgetter
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.enums import ContentType
from aiogram.filters import CommandStart
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import Dialog, DialogManager, StartMode, Window, setup_dialogs
from aiogram_dialog.widgets.input import ManagedTextInput, MessageInput, TextInput
from aiogram_dialog.widgets.kbd import (
    Button,
    Cancel,
    Column,
    RequestContact,
    Row,
    Select,
    SwitchTo,
)
from aiogram_dialog.widgets.markup.reply_keyboard import ReplyKeyboardFactory
from aiogram_dialog.widgets.text import Const, Format

_numbers = itertools.count(1)
REASONS = [
    ("absence", "Temporary absence (travel, posting)"),
    ("renovation", "Renovation of the flat"),
    ("vacant", "The property is vacant"),
    ("seasonal", "Seasonal residence"),
    ("suspend_other", "Other"),
]


class FloorMainSG(StatesGroup):
    fin = State()
    menu = State()


class FloorFormSG(StatesGroup):
    code = State()
    reason = State()
    phone = State()
    email = State()
    description = State()
    notes = State()
    summary = State()
    registered = State()


async def _store(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, value: str
) -> None:
    manager.dialog_data[widget.widget.widget_id] = value
    await manager.next()


async def _new_application(
    callback: CallbackQuery, button: Button, manager: DialogManager
) -> None:
    await manager.start(FloorFormSG.code)


async def _reason(callback: CallbackQuery, widget: Any, manager: DialogManager, item: str) -> None:
    manager.dialog_data["reason"] = item
    await manager.next()


async def _contact(message: Message, widget: Any, manager: DialogManager) -> None:
    if message.contact is not None:
        manager.dialog_data["phone"] = message.contact.phone_number
        await manager.next()


async def _skip(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data["notes"] = None
    await manager.next()


async def _confirm(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data["number"] = next(_numbers)
    await manager.switch_to(FloorFormSG.registered)


async def _back(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await manager.back()


async def _reasons(**_: Any) -> dict[str, Any]:
    return {"reasons": REASONS}


async def _data(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    return {"d": dialog_manager.dialog_data}


def _nav() -> Row:
    return Row(Button(Const("⬅️ Back"), id="back", on_click=_back), Cancel(Const("✖️ Cancel")))


def _text_step(prompt: str, widget_id: str, state: State) -> Window:
    return Window(
        Const(prompt),
        TextInput(id=widget_id, on_success=_store),
        _nav(),
        state=state,
    )


def _main_dialog() -> Dialog:
    return Dialog(
        Window(
            Const("👋 Welcome! Please type the FIN of your identity card (7 characters)."),
            TextInput(id="fin", on_success=_store),
            Row(SwitchTo(Const("🌐 Language"), id="to_lang", state=FloorMainSG.menu)),
            state=FloorMainSG.fin,
        ),
        Window(
            Format("FIN: <b>{d[fin]}</b>"),
            Const("Choose what you want to do:"),
            Column(
                Button(Const("Create a new application"), id="new_app", on_click=_new_application),
                Button(Const("Check the application's status"), id="status"),
            ),
            Row(SwitchTo(Const("🌐 Language"), id="to_lang", state=FloorMainSG.menu)),
            state=FloorMainSG.menu,
            getter=_data,
        ),
    )


def _form_dialog() -> Dialog:
    return Dialog(
        _text_step(
            "Type the <b>subscriber code</b> (the digits on your water bill).",
            "code",
            FloorFormSG.code,
        ),
        Window(
            Const("Choose the <b>reason</b> of the application:"),
            Column(
                Select(
                    Format("{item[1]}"),
                    id="reason",
                    item_id_getter=itemgetter(0),
                    items="reasons",
                    on_click=_reason,
                )
            ),
            _nav(),
            state=FloorFormSG.reason,
            getter=_reasons,
        ),
        Window(
            Const("Your <b>phone number</b>: press “Share my number” below, or type it."),
            MessageInput(_contact, content_types=[ContentType.CONTACT]),
            RequestContact(Const("📱 Share my number")),
            _nav(),
            markup_factory=ReplyKeyboardFactory(resize_keyboard=True, one_time_keyboard=False),
            state=FloorFormSG.phone,
        ),
        _text_step("Your <b>e-mail address</b>.", "email", FloorFormSG.email),
        _text_step("<b>Describe the application</b>.", "description", FloorFormSG.description),
        Window(
            Const("<b>Additional notes</b>, if any, or press “Skip”."),
            TextInput(id="notes", on_success=_store),
            Button(Const("⏭ Skip"), id="skip_notes", on_click=_skip),
            _nav(),
            state=FloorFormSG.notes,
        ),
        Window(
            Const("<b>Check your application</b>"),
            Format("Subscriber code: {d[code]}"),
            Format("Reason: {d[reason]}"),
            Format("Phone: {d[phone]}"),
            Format("E-mail: {d[email]}"),
            Format("Description: {d[description]}"),
            Button(Const("Continue"), id="confirm", on_click=_confirm),
            _nav(),
            state=FloorFormSG.summary,
            getter=_data,
        ),
        Window(
            Format("Your application has been registered. Your application number: {d[number]}"),
            Button(Const("Check the application's status"), id="to_status"),
            Cancel(Const("🏠 Main menu")),
            state=FloorFormSG.registered,
            getter=_data,
        ),
    )


def build_floor_dispatcher(storage: BaseStorage | None = None) -> Dispatcher:
    """The floor's dispatcher: MemoryStorage and the real message manager by default."""
    dp = Dispatcher(storage=storage or MemoryStorage(), events_isolation=SimpleEventIsolation())
    commands = Router(name="floor-commands")

    @commands.message(CommandStart())
    async def on_start(message: Message, dialog_manager: DialogManager) -> None:
        await dialog_manager.start(FloorMainSG.fin, mode=StartMode.RESET_STACK)

    dialogs = Router(name="floor-dialogs")
    dialogs.include_routers(_main_dialog(), _form_dialog())
    dp.include_routers(commands, dialogs)
    setup_dialogs(dp)
    return dp
