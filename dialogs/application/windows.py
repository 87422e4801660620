"""The application form, one window per step (the manual's fields, in its order)."""

from __future__ import annotations

from functools import partial
from operator import itemgetter

from aiogram.fsm.state import State
from aiogram_dialog import Dialog, Window
from aiogram_dialog.widgets.input import MessageInput, TextInput
from aiogram_dialog.widgets.kbd import (
    Button,
    Cancel,
    Column,
    RequestContact,
    Row,
    Select,
    Url,
)
from aiogram_dialog.widgets.markup.reply_keyboard import ReplyKeyboardFactory
from aiogram_dialog.widgets.text import Format

from dialogs.application import getters, handlers
from dialogs.application.fields import Field
from dialogs.common import is_contact, on_not_text, on_use_buttons
from dialogs.states import ApplicationSG
from dialogs.widgets import I18nConst, I18nFormat
from workflows.values import parse_email, parse_phone, parse_text

TEXT_LIMIT = 1000
# An input's id is the field it fills (handlers.on_text_entered relies on it).
CODE_INPUT = Field.CODE.value
PHONE_INPUT = Field.PHONE.value
EMAIL_INPUT = Field.EMAIL.value
DESCRIPTION_INPUT = Field.DESCRIPTION.value
NOTES_INPUT = Field.NOTES.value
REASON_SELECT = "reason"

STEP = I18nFormat("<i>Step {step} of {total}</i>", when="step")
ERROR = Format("\n{error}", when="error")


def nav() -> Row:
    return Row(
        Button(I18nConst("⬅️ Back"), id="back", on_click=handlers.on_back),
        Cancel(I18nConst("✖️ Cancel")),
    )


def edit(label: I18nConst, widget_id: str, state: State) -> Button:
    """A summary button that opens one step and comes back to the summary."""
    return Button(label, id=widget_id, on_click=handlers.edit_handler(state))


def not_text() -> MessageInput:
    return MessageInput(on_not_text)


code_window = Window(
    STEP,
    I18nConst("Type the <b>subscriber code</b> (the digits on your water bill)."),
    ERROR,
    I18nFormat("Debt: <b>{debt_amount}</b>", when="debt_due"),
    TextInput(id=CODE_INPUT, on_success=handlers.on_code_entered),
    not_text(),
    Url(I18nConst("Pay the debt"), Format("{pay_url}"), id="pay", when="debt_due"),
    Button(
        I18nConst("🔄 I have paid, check again"),
        id="recheck_code",
        on_click=handlers.on_code_recheck,
        when="debt_due",
    ),
    nav(),
    state=ApplicationSG.subscriber_code,
    getter=getters.step_getter,
)

reason_window = Window(
    STEP,
    I18nFormat("{kind_label}"),
    I18nConst("Choose the <b>reason</b> of the application:"),
    ERROR,
    Column(
        Select(
            Format("{item[1]}"),
            id=REASON_SELECT,
            item_id_getter=itemgetter(0),
            items="reasons",
            on_click=handlers.on_reason_selected,
        ),
    ),
    MessageInput(on_use_buttons),
    nav(),
    state=ApplicationSG.reason,
    getter=getters.reason_getter,
)

phone_window = Window(
    STEP,
    I18nConst(
        "Your <b>phone number</b>: press “Share my number” below, or type it "
        "(for example 050 123 45 67)."
    ),
    ERROR,
    TextInput(
        id=PHONE_INPUT,
        type_factory=parse_phone,
        on_success=handlers.on_phone_entered,
        on_error=handlers.on_invalid,
    ),
    MessageInput(handlers.on_contact, filter=is_contact),
    not_text(),
    RequestContact(I18nConst("📱 Share my number")),
    nav(),
    markup_factory=ReplyKeyboardFactory(resize_keyboard=True, one_time_keyboard=False),
    state=ApplicationSG.phone,
    getter=getters.step_getter,
)

email_window = Window(
    STEP,
    I18nConst("Your <b>e-mail address</b>: we send the result of the application there."),
    ERROR,
    TextInput(
        id=EMAIL_INPUT,
        type_factory=parse_email,
        on_success=handlers.on_text_entered,
        on_error=handlers.on_invalid,
    ),
    not_text(),
    nav(),
    state=ApplicationSG.email,
    getter=getters.step_getter,
)

description_window = Window(
    STEP,
    I18nConst(
        "<b>Describe the application</b>: what should be done and when (up to 1000 characters)."
    ),
    ERROR,
    TextInput(
        id=DESCRIPTION_INPUT,
        type_factory=partial(parse_text, max_length=TEXT_LIMIT),
        on_success=handlers.on_text_entered,
        on_error=handlers.on_invalid,
    ),
    not_text(),
    nav(),
    state=ApplicationSG.description,
    getter=getters.step_getter,
)

notes_window = Window(
    STEP,
    I18nConst("<b>Additional notes</b>, if any (up to 1000 characters), or press “Skip”."),
    ERROR,
    TextInput(
        id=NOTES_INPUT,
        type_factory=partial(parse_text, max_length=TEXT_LIMIT),
        on_success=handlers.on_text_entered,
        on_error=handlers.on_invalid,
    ),
    not_text(),
    Button(I18nConst("⏭ Skip"), id="skip_notes", on_click=handlers.on_notes_skipped),
    nav(),
    state=ApplicationSG.notes,
    getter=getters.step_getter,
)

summary_window = Window(
    STEP,
    I18nConst("<b>Check your application</b>"),
    I18nFormat("Type: {kind_label}"),
    I18nFormat("Subscriber code: {code}"),
    I18nFormat("Address: {address}"),
    I18nFormat("Reason: {reason}"),
    I18nFormat("Phone: {phone}"),
    I18nFormat("E-mail: {email}"),
    I18nFormat("Description: {description}"),
    I18nFormat("Additional notes: {notes}"),
    ERROR,
    Row(
        edit(I18nConst("✏️ Code"), "ed_code", ApplicationSG.subscriber_code),
        edit(I18nConst("✏️ Reason"), "ed_reason", ApplicationSG.reason),
        edit(I18nConst("✏️ Phone"), "ed_phone", ApplicationSG.phone),
    ),
    Row(
        edit(I18nConst("✏️ E-mail"), "ed_email", ApplicationSG.email),
        edit(I18nConst("✏️ Description"), "ed_descr", ApplicationSG.description),
        edit(I18nConst("✏️ Notes"), "ed_notes", ApplicationSG.notes),
    ),
    Button(I18nConst("Continue"), id="confirm", on_click=handlers.on_confirm),
    MessageInput(on_use_buttons),
    nav(),
    state=ApplicationSG.summary,
    getter=getters.summary_getter,
)

debt_window = Window(
    I18nConst(
        "This subscriber currently has an outstanding debt. Pay the debt and try again to "
        "carry out the operation."
    ),
    I18nFormat("Debt: <b>{debt_amount}</b>", when="debt_due"),
    I18nConst("Your application is kept: after paying, press “I have paid, check again”."),
    I18nConst(
        "⚠️ The debt is still recorded. Payments may take a while to arrive.", when="still_debt"
    ),
    Url(I18nConst("Pay the debt"), Format("{pay_url}"), id="pay"),
    Button(I18nConst("🔄 I have paid, check again"), id="recheck", on_click=handlers.on_confirm),
    Row(
        Button(I18nConst("⬅️ Back"), id="debt_back", on_click=handlers.on_debt_back),
        Cancel(I18nConst("✖️ Cancel")),
    ),
    MessageInput(on_use_buttons),
    state=ApplicationSG.debt,
    getter=getters.debt_getter,
)

registered_window = Window(
    I18nFormat(
        "Your application has been registered. Thank you for using our service. "
        "Your application number: {number}"
    ),
    Button(
        I18nConst("Check the application's status"),
        id="to_status",
        on_click=handlers.on_open_status,
    ),
    Cancel(I18nConst("🏠 Main menu")),
    MessageInput(on_use_buttons),
    state=ApplicationSG.registered,
    getter=getters.registered_getter,
)


def build_application_dialog() -> Dialog:
    """A new Dialog each time: a Dialog is a Router, which can have only one parent."""
    return Dialog(
        code_window,
        reason_window,
        phone_window,
        email_window,
        description_window,
        notes_window,
        summary_window,
        debt_window,
        registered_window,
    )
