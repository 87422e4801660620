from __future__ import annotations

from operator import itemgetter

from aiogram.fsm.state import State
from aiogram_dialog import Dialog, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import (
    Button,
    Cancel,
    RequestContact,
    Row,
    Select,
    SwitchTo,
    Url,
)
from aiogram_dialog.widgets.markup.reply_keyboard import ReplyKeyboardFactory
from aiogram_dialog.widgets.text import Format

from dialogs.common import is_contact, on_use_buttons
from dialogs.states import StatusSG
from dialogs.status import getters, handlers
from dialogs.widgets import DANGER, ERROR, I18nConst, I18nFormat, Pages, copy_number, typed_answer
from dialogs.wording import N_

NUMBER_INPUT = "number"
APPLICATION_SELECT = "app"


def clearing_switch(label: str, widget_id: str, state: State) -> SwitchTo:
    """A button to another window of the status dialog that clears the error shown here."""
    return SwitchTo(I18nConst(label), id=widget_id, state=state, on_click=handlers.on_clear)


listing_window = Window(
    I18nConst("<b>Your applications</b>, newest first:", when="has_applications"),
    I18nConst("You have no applications yet.", when="no_applications"),
    I18nConst("✅ Your FIN is confirmed: you see every application of it.", when="proved"),
    I18nConst(
        "\nYou see the applications filed from this Telegram account. To see every "
        "application of your FIN, confirm that it is yours.",
        when="unproved",
    ),
    Format("\n{error}", when="error"),
    Pages(
        Select(
            Format("{item[1]}"),
            id=APPLICATION_SELECT,
            item_id_getter=itemgetter(0),
            items="applications",
            on_click=handlers.on_application_selected,
        ),
        id="apps",
        width=1,
        height=6,
        hide_on_single_page=True,
    ),
    clearing_switch(N_("🔎 Find by number"), "to_lookup", StatusSG.lookup),
    SwitchTo(
        I18nConst("🔐 Confirm my FIN by phone"),
        id="to_prove",
        state=StatusSG.prove,
        on_click=handlers.on_clear,
        when="unproved",
    ),
    Url(I18nConst("🔐 Log in with e-gov"), Format("{egov_url}"), id="egov", when="egov_url"),
    Cancel(I18nConst("🏠 Main menu")),
    MessageInput(on_use_buttons),
    state=StatusSG.listing,
    getter=getters.listing_getter,
)

lookup_window = Window(
    I18nConst("Type the application number:"),
    ERROR,
    *typed_answer(
        NUMBER_INPUT, handlers.parse_number, handlers.on_number_entered, handlers.on_number_invalid
    ),
    Row(
        clearing_switch(N_("⬅️ Back"), "lookup_back", StatusSG.listing),
        Cancel(I18nConst("🏠 Main menu")),
    ),
    state=StatusSG.lookup,
    getter=getters.lookup_getter,
)

detail_window = Window(
    Format("{card}", when="found"),
    Format("{missing}", when="missing"),
    Format("\n{withdraw_note}", when="withdraw_note"),
    ERROR,
    copy_number(when="found"),
    SwitchTo(
        I18nConst("↩️ Withdraw the application"),
        id="to_withdraw",
        state=StatusSG.withdraw,
        when="can_withdraw",
    ),
    Row(
        Button(I18nConst("⬅️ Back"), id="detail_back", on_click=handlers.on_detail_back),
        Cancel(I18nConst("🏠 Main menu")),
    ),
    MessageInput(on_use_buttons),
    state=StatusSG.detail,
    getter=getters.detail_getter,
)


prove_window = Window(
    I18nFormat(
        "To see every application of FIN <b>{fin}</b>, confirm that it is yours: share your "
        "phone number with the button below. If it is the phone on record for a subscriber "
        "code of this FIN, the FIN is confirmed."
    ),
    I18nFormat("Or {egov_link}log in with e-gov</a>.", when="egov_url"),
    ERROR,
    RequestContact(I18nConst("📱 Share my number")),
    clearing_switch(N_("⬅️ Back"), "prove_back", StatusSG.listing),
    MessageInput(handlers.on_prove_contact, filter=is_contact),
    MessageInput(on_use_buttons),
    state=StatusSG.prove,
    getter=getters.prove_getter,
    markup_factory=ReplyKeyboardFactory(resize_keyboard=True, one_time_keyboard=False),
)

withdraw_window = Window(
    I18nFormat(
        "Withdraw application No. {number}?\n\nIf nobody has taken it into work yet, it is "
        "withdrawn at once. Otherwise the staff are asked to accept the withdrawal."
    ),
    copy_number(),
    Row(
        Button(
            I18nConst("↩️ Yes, withdraw"),
            id="withdraw_yes",
            on_click=handlers.on_withdraw_confirmed,
            style=DANGER,
        ),
        SwitchTo(I18nConst("⬅️ No, keep it"), id="withdraw_no", state=StatusSG.detail),
    ),
    MessageInput(on_use_buttons),
    state=StatusSG.withdraw,
    getter=getters.withdraw_getter,
)


def build_status_dialog() -> Dialog:
    """A new Dialog each time: a Dialog is a Router, which can have only one parent."""
    return Dialog(
        listing_window,
        lookup_window,
        detail_window,
        prove_window,
        withdraw_window,
        on_start=handlers.on_status_start,
    )
