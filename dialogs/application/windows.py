"""The application form, one window per step (the manual's fields, in its order)."""

from __future__ import annotations

from functools import partial
from typing import Any

from aiogram.fsm.state import State
from aiogram_dialog import ShowMode, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.input.text import OnSuccess, TypeFactory
from aiogram_dialog.widgets.kbd import Button, Cancel, Column, RequestContact, Row, Url
from aiogram_dialog.widgets.kbd.button import OnClick
from aiogram_dialog.widgets.markup.reply_keyboard import ReplyKeyboardFactory
from aiogram_dialog.widgets.text import Format, Text
from aiogram_dialog.widgets.utils import WidgetSrc

from dialogs.application import getters, handlers, summary, until
from dialogs.application.fields import Field
from dialogs.common import is_contact, on_use_buttons
from dialogs.states import ApplicationSG
from dialogs.widgets import (
    ERROR,
    PRIMARY,
    I18nConst,
    I18nFormat,
    choice,
    copy_number,
    typed_answer,
)
from workflows.until import parse_date
from workflows.values import parse_email, parse_phone, parse_text

TEXT_LIMIT = 1000
REASON_SELECT = "reason"
UNTIL_SELECT = "until"

STEP = I18nFormat("<i>Step {step} of {total}</i>", when="step")


def nav(back_id: str = "back", on_back: OnClick = handlers.on_back) -> Row:
    """Back (to the previous step, unless ``on_back`` says otherwise) and Cancel."""
    return Row(
        Button(I18nConst("⬅️ Back"), id=back_id, on_click=on_back),
        Cancel(I18nConst("✖️ Cancel")),
    )


def edit(label: I18nConst, widget_id: str, state: State) -> Button:
    """A summary button that opens one step and comes back to the summary."""
    return Button(label, id=widget_id, on_click=summary.edit_handler(state))


def form_step(
    state: State,
    prompt: Text | tuple[Text, ...],
    *widgets: WidgetSrc,
    getter: Any = getters.step_getter,
    **options: Any,
) -> Window:
    """A numbered step of the form: "Step N of M", the prompt, the error line, the step's own
    widgets, and Back/Cancel under its buttons."""
    prompts = prompt if isinstance(prompt, tuple) else (prompt,)
    return Window(STEP, *prompts, ERROR, *widgets, nav(), state=state, getter=getter, **options)


def text_step(
    state: State,
    prompt: Text,
    field: Field,
    parse: TypeFactory[Any],
    *widgets: WidgetSrc,
    on_success: OnSuccess[Any] = handlers.on_text_entered,
    also: tuple[MessageInput, ...] = (),
    **options: Any,
) -> Window:
    """A step that waits for typed text filling ``field`` (the input's id is the field, which
    ``handlers.on_text_entered`` relies on); a wrong value is answered by ``on_invalid``."""
    answer = typed_answer(field.value, parse, on_success, handlers.on_invalid, *also)
    return form_step(state, prompt, *answer, *widgets, **options)


code_window = text_step(
    ApplicationSG.subscriber_code,
    I18nConst("Type the <b>subscriber code</b> (the digits on your water bill)."),
    Field.CODE,
    str,  # on_code_entered parses it with the configured code parser (DialogDeps)
    I18nFormat("Debt: <b>{debt_amount}</b>", when="debt_known"),
    Url(I18nConst("Pay the debt"), Format("{pay_url}"), id="pay", when="debt_due"),
    Button(
        I18nConst("🔄 I have paid, check again"),
        id="recheck_code",
        on_click=handlers.on_code_recheck,
        when="debt_due",
    ),
    on_success=handlers.on_code_entered,
)

reason_window = form_step(
    ApplicationSG.reason,
    (I18nFormat("{kind_label}"), I18nConst("Choose the <b>reason</b> of the application:")),
    Column(choice(REASON_SELECT, "reasons", handlers.on_reason_selected)),
    MessageInput(on_use_buttons),
    getter=getters.reason_getter,
)

phone_window = text_step(
    ApplicationSG.phone,
    I18nConst(
        "Your <b>phone number</b>: press “Share my number” below, or type it "
        "(for example 050 123 45 67)."
    ),
    Field.PHONE,
    parse_phone,
    RequestContact(I18nConst("📱 Share my number")),
    on_success=handlers.on_phone_entered,
    also=(MessageInput(handlers.on_contact, filter=is_contact),),
    markup_factory=ReplyKeyboardFactory(resize_keyboard=True, one_time_keyboard=False),
)

email_window = text_step(
    ApplicationSG.email,
    I18nConst("Your <b>e-mail address</b>: we send the result of the application there."),
    Field.EMAIL,
    parse_email,
)

description_window = text_step(
    ApplicationSG.description,
    I18nConst(
        "<b>Describe the application</b>: what should be done and when (up to 1000 characters)."
    ),
    Field.DESCRIPTION,
    partial(parse_text, max_length=TEXT_LIMIT),
)

notes_window = text_step(
    ApplicationSG.notes,
    I18nConst("<b>Additional notes</b>, if any (up to 1000 characters), or press “Skip”."),
    Field.NOTES,
    partial(parse_text, max_length=TEXT_LIMIT),
    Button(I18nConst("⏭ Skip"), id="skip_notes", on_click=handlers.on_notes_skipped),
)

summary_window = form_step(
    ApplicationSG.summary,
    (
        I18nConst("<b>Check your application</b>"),
        I18nFormat("Type: {kind_label}"),
        I18nFormat("Subscriber code: {code}"),
        I18nFormat("Address: {address}"),
        I18nFormat("Reason: {reason}"),
        I18nFormat("Phone: {phone}"),
        I18nFormat("E-mail: {email}"),
        I18nFormat("Description: {description}"),
        I18nFormat("Additional notes: {notes}"),
        I18nFormat("Until: {until}", when="until"),
    ),
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
    # A suspension's optional date: on the summary, so the steps stay as they are.
    Button(
        I18nConst("📅 Until when? (optional)"),
        id="ed_until",
        on_click=until.on_edit_until,
        when="is_suspend",
    ),
    # "Davam et": the form's one primary action (Bot API 10.1 button style).
    Button(I18nConst("Continue"), id="confirm", on_click=summary.on_confirm, style=PRIMARY),
    MessageInput(on_use_buttons),
    getter=getters.summary_getter,
)

debt_window = Window(
    I18nConst(
        "This subscriber currently has an outstanding debt. Pay the debt and try again to "
        "carry out the operation."
    ),
    I18nFormat("Debt: <b>{debt_amount}</b>", when="debt_known"),
    I18nConst("Your application is kept: after paying, press “I have paid, check again”."),
    I18nConst(
        "⚠️ The debt is still recorded. Payments may take a while to arrive.", when="still_debt"
    ),
    Url(I18nConst("Pay the debt"), Format("{pay_url}"), id="pay"),
    Button(I18nConst("🔄 I have paid, check again"), id="recheck", on_click=summary.on_confirm),
    nav("debt_back", summary.on_debt_back),
    MessageInput(on_use_buttons),
    state=ApplicationSG.debt,
    getter=getters.debt_getter,
)

# The confirmation stays on the screen with its number: what follows it is a new message
# (ShowMode.SEND; handlers.on_open_status does the same).
registered_window = Window(
    I18nFormat(
        "Your application has been registered. Thank you for using our service. "
        "Your application number: {number}"
    ),
    copy_number(),
    Button(
        I18nConst("Check the application's status"),
        id="to_status",
        on_click=summary.on_open_status,
    ),
    Cancel(I18nConst("🏠 Main menu"), show_mode=ShowMode.SEND),
    MessageInput(on_use_buttons),
    state=ApplicationSG.registered,
    getter=getters.registered_getter,
)


prove_window = Window(
    I18nConst("<b>Confirm that the subscription is yours</b>"),
    ERROR,
    RequestContact(I18nConst("📱 Share my number")),
    Row(
        Button(I18nConst("⬅️ Back"), id="prove_back", on_click=handlers.on_prove_back),
        Cancel(I18nConst("✖️ Cancel")),
    ),
    MessageInput(handlers.on_prove_contact, filter=is_contact),
    MessageInput(on_use_buttons),
    state=ApplicationSG.prove,
    getter=getters.step_getter,
    markup_factory=ReplyKeyboardFactory(resize_keyboard=True, one_time_keyboard=False),
)


until_window = Window(
    I18nConst("📅 <b>Until when should the water supply stay suspended?</b>"),
    I18nConst(
        "This is optional. Three days before that date we will offer you an application "
        "for restoration, already filled in: you only check it and send it."
    ),
    I18nFormat("Any date from {first} to {last}: choose one below or type it as DD.MM.YYYY."),
    I18nFormat("Chosen now: <b>{until}</b>", when="until_set"),
    ERROR,
    Column(choice(UNTIL_SELECT, "choices", until.on_quick)),
    Button(
        I18nConst("🗑 Remove the date"),
        id="until_remove",
        on_click=until.on_remove,
        when="until_set",
    ),
    nav("until_back", until.on_back),
    *typed_answer("until_date", parse_date, until.on_typed, until.on_typed_invalid),
    state=ApplicationSG.until,
    getter=until.until_getter,
)


# The form's windows in order; :func:`dialogs.setup` makes a Dialog of them per dispatcher.
WINDOWS = (
    code_window,
    reason_window,
    phone_window,
    email_window,
    description_window,
    notes_window,
    summary_window,
    debt_window,
    registered_window,
    prove_window,
    until_window,
)
