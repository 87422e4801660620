"""The widgets the subscriber's windows share: translated texts, the error line, a typed
answer, a choice among the getter's items, pages of buttons.

``I18nFormat`` works like aiogram-dialog's ``Format`` but translates the template first;
values are substituted afterwards, so user text must be escaped by the getter.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext
from aiogram_dialog.api.protocols import DialogManager, DialogProtocol
from aiogram_dialog.widgets.common import WhenCondition
from aiogram_dialog.widgets.input import BaseInput, MessageInput, TextInput
from aiogram_dialog.widgets.input.text import OnError, OnSuccess, TypeFactory
from aiogram_dialog.widgets.kbd import CopyText, ScrollingGroup, Select
from aiogram_dialog.widgets.kbd.select import OnItemClick
from aiogram_dialog.widgets.style import Style
from aiogram_dialog.widgets.text import Format, Text

from dialogs.common import ErrorId, on_not_text, set_error


class I18nFormat(Text):
    def __init__(self, text: str, when: WhenCondition = None) -> None:
        super().__init__(when=when)
        self.text = text

    async def _render_text(self, data: dict[str, Any], manager: DialogManager) -> str:
        return gettext(self.text).format_map(data)


class I18nConst(Text):
    def __init__(self, text: str, when: WhenCondition = None) -> None:
        super().__init__(when=when)
        self.text = text

    async def _render_text(self, data: dict[str, Any], manager: DialogManager) -> str:
        return gettext(self.text)


# The line that tells what was wrong with the last answer (the getters' ``error``).
ERROR = Format("\n{error}", when="error")


def typed_answer(
    widget_id: str,
    parse: TypeFactory[Any],
    on_success: OnSuccess[Any],
    on_error: OnError | None = None,
    *also: BaseInput,
) -> tuple[BaseInput, ...]:
    """The inputs of a window that waits for typed text: the text parsed by ``parse``, then
    ``also`` (say, a shared contact), and any other message refused as not text."""
    text = TextInput(id=widget_id, type_factory=parse, on_success=on_success, on_error=on_error)
    return (text, *also, MessageInput(on_not_text))


def choice(widget_id: str, items: str, on_click: OnItemClick[Any, Any]) -> Select[Any]:
    """A button per ``(id, label)`` pair of the getter's ``items``; ``on_click`` gets the id."""
    return Select(
        Format("{item[1]}"),
        id=widget_id,
        item_id_getter=itemgetter(0),
        items=items,
        on_click=on_click,
    )


# The pager's buttons carry a page index as str(int); no list of ours has a million pages.
_PAGE_DIGITS = 6


class Pages(ScrollingGroup):
    """aiogram-dialog's ``ScrollingGroup``, taking only a page index it can have sent: the
    library's ``int()`` raises on a forged ``abc`` and takes ``-1``, which shows no page."""

    async def _process_item_callback(
        self, callback: CallbackQuery, data: str, dialog: DialogProtocol, manager: DialogManager
    ) -> bool:
        canonical = data.isascii() and data.isdigit() and data == str(int(data))
        if not (canonical and len(data) <= _PAGE_DIGITS):
            set_error(manager, ErrorId.USE_BUTTONS)
            return True  # refused, and said so: the window is shown again
        return await super()._process_item_callback(callback, data, dialog, manager)


# --- Bot API 10.1 buttons: a style, and a button that copies a text ---------------------------
PRIMARY = Style("primary")
SUCCESS = Style("success")
DANGER = Style("danger")


def copy_number(key: str = "number", when: WhenCondition = None) -> CopyText:
    """ "📋 Copy the number": copies the getter's ``key`` (the application number) with one
    tap, no message sent (``copy_text``)."""
    return CopyText(I18nConst("📋 Copy the number"), Format("{" + key + "}"), when=when)
