from __future__ import annotations

from aiogram_dialog import Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Column, Row, Start, SwitchTo

from dialogs.common import on_use_buttons
from dialogs.main_menu import getters, handlers
from dialogs.states import MainSG, PrivacySG
from dialogs.widgets import ERROR, I18nConst, I18nFormat, choice, typed_answer
from workflows.values import parse_fin

FIN_INPUT = "fin"
LANGUAGE_SELECT = "lang"


def privacy_button() -> Start:
    """The privacy notice, over the window it was opened from."""
    return Start(I18nConst("🔒 Privacy"), id="privacy", state=PrivacySG.notice)


fin_window = Window(
    I18nConst("👋 Welcome to the Azərsu e-service!", when="first_time"),
    I18nConst(
        "Here you can apply for a temporary suspension of your water supply and wastewater "
        "service, or for its restoration, and follow your applications.",
        when="first_time",
    ),
    I18nConst(
        "🔒 The FIN is asked to check that the subscription is yours; it is used only to "
        "handle your applications."
    ),
    I18nConst("Please type the FIN of your identity card (7 characters, for example 5ABC12D)."),
    ERROR,
    *typed_answer(FIN_INPUT, parse_fin, handlers.on_fin_entered, handlers.on_fin_invalid),
    Row(
        SwitchTo(I18nConst("🌐 Language"), id="to_lang", state=MainSG.language),
        privacy_button(),
        SwitchTo(I18nConst("✖️ Cancel"), id="fin_cancel", state=MainSG.menu, when="has_fin"),
    ),
    state=MainSG.fin,
    getter=getters.fin_getter,
)

menu_window = Window(
    I18nFormat("FIN: <b>{fin}</b>"),
    I18nConst("Choose what you want to do:"),
    ERROR,
    Column(
        Button(
            I18nConst("Create a new application"),
            id="new_app",
            on_click=handlers.on_new_application,
        ),
        Button(
            I18nConst("Check the application's status"),
            id="status",
            on_click=handlers.on_check_status,
        ),
    ),
    Row(
        SwitchTo(I18nConst("🌐 Language"), id="to_lang", state=MainSG.language),
        Button(I18nConst("🪪 Change FIN"), id="change_fin", on_click=handlers.on_change_fin),
    ),
    privacy_button(),
    MessageInput(on_use_buttons),
    state=MainSG.menu,
    getter=getters.menu_getter,
)

language_window = Window(
    I18nConst("Choose the language:"),
    ERROR,
    Column(choice(LANGUAGE_SELECT, "languages", handlers.on_language_selected)),
    Button(I18nConst("⬅️ Back"), id="lang_back", on_click=handlers.on_language_back),
    MessageInput(on_use_buttons),
    state=MainSG.language,
    getter=getters.language_getter,
)


# The main menu's windows; :func:`dialogs.setup` makes a Dialog of them per dispatcher.
WINDOWS = (fin_window, menu_window, language_window)
