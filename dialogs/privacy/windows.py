"""The privacy dialog: the notice, the account's data (/mydata), the erasure (/forget)."""

from __future__ import annotations

from aiogram_dialog import Dialog, Window
from aiogram_dialog.api.internal.widgets import ButtonStyle
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Column, Row, SwitchTo
from aiogram_dialog.widgets.style import Style
from aiogram_dialog.widgets.text import Format, Multi

from dialogs.common import on_use_buttons
from dialogs.privacy import getters, handlers
from dialogs.states import PrivacySG
from dialogs.widgets import ERROR, I18nConst, I18nFormat


def _back() -> Button:
    return Button(I18nConst("⬅️ Back"), id="privacy_back", on_click=handlers.on_leave)


notice_window = Window(
    Multi(
        I18nConst("<b>🔒 Privacy</b>"),
        I18nFormat(
            "<b>What the bot keeps</b>\n"
            "• your FIN, your language and the phone number you shared from Telegram;\n"
            "• your applications: subscriber code, address, reason, phone, e-mail, description "
            "and notes, with their history;\n"
            "• the proofs that a FIN is yours, and an unfinished form (for {draft_days} days)."
        ),
        I18nFormat(
            "<b>For how long</b>\n"
            "An application keeps your data for {days} days after it is closed; then the FIN, "
            "phone, e-mail, texts and the street are removed. Your profile stays until you "
            "erase it."
        ),
        I18nConst(
            "<b>Who sees it</b>\n"
            "The utility's staff, to carry out the work order, and support agents when they help "
            "you (each look-up is logged). Nobody else: another Telegram account sees your "
            "applications only after proving your FIN."
        ),
        I18nConst(
            "<b>Proving your FIN</b>\n"
            "Share your phone number from Telegram (it must be the phone on record for your "
            "subscriber code) or log in with e-gov. Until then you see only the applications you "
            "filed yourself."
        ),
        I18nConst(
            "<b>Your data</b>\n"
            "/mydata shows everything the bot keeps about you; /forget erases it (open "
            "applications must be finished first); /logout ends the proof of your FIN on this "
            "account."
        ),
        sep="\n\n",
    ),
    ERROR,
    Column(
        SwitchTo(I18nConst("📄 My data"), id="to_mydata", state=PrivacySG.mydata),
        SwitchTo(I18nConst("🗑 Erase my data"), id="to_forget", state=PrivacySG.forget_confirm),
        _back(),
    ),
    MessageInput(on_use_buttons),
    state=PrivacySG.notice,
    getter=getters.notice_getter,
)

my_data_window = Window(
    Format("{text}"),
    ERROR,
    Row(
        Button(
            I18nConst("◀ Previous"),
            id="data_prev",
            on_click=handlers.on_previous_page,
            when="has_previous",
        ),
        Button(
            I18nConst("Next ▶"), id="data_next", on_click=handlers.on_next_page, when="has_next"
        ),
    ),
    Row(
        SwitchTo(I18nConst("🔒 Privacy"), id="to_notice", state=PrivacySG.notice),
        _back(),
    ),
    MessageInput(on_use_buttons),
    state=PrivacySG.mydata,
    getter=getters.my_data_getter,
)

forget_window = Window(
    I18nConst(
        "<b>Erase your data?</b>\n"
        "Your remembered FIN, language and phone, the proofs of your FIN and any unfinished "
        "form are deleted; in your closed applications the FIN, phone, e-mail, texts and the "
        "street are removed. This cannot be undone.",
        when="may_erase",
    ),
    I18nFormat(
        "Your applications {numbers} are still open. Your data can be erased once they are "
        "completed or rejected.",
        when="pending",
    ),
    ERROR,
    Row(
        Button(
            I18nConst("🗑 Erase"),
            id="erase",
            on_click=handlers.on_erase,
            when="may_erase",
            style=Style(ButtonStyle.DANGER),
        ),
        Button(I18nConst("✖️ Cancel"), id="erase_cancel", on_click=handlers.on_leave),
    ),
    MessageInput(on_use_buttons),
    state=PrivacySG.forget_confirm,
    getter=getters.forget_getter,
)

forgotten_window = Window(
    I18nFormat(
        "✅ Your data has been erased. Applications anonymised: {anonymised}; proofs of a FIN "
        "removed: {proofs}."
    ),
    Button(I18nConst("▶️ Start again"), id="start_again", on_click=handlers.on_start_again),
    MessageInput(on_use_buttons),
    state=PrivacySG.forgotten,
    getter=getters.forgotten_getter,
)


def build_privacy_dialog() -> Dialog:
    """A new Dialog each time: a Dialog is a Router, which can have only one parent."""
    return Dialog(notice_window, my_data_window, forget_window, forgotten_window)
