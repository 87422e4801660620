"""The restoration offer's press (issue 19, item 6): the application form opened at its
summary, filled in as the offer says (``workflows.restoration.RestorationStart``).

The draft is the form's own ``dialog_data``, exactly as a typed form leaves it before the
summary, so every edit button, "Davam et", the debt window and the confirmation work as
they do for a typed form; the description is a generated line the subscriber may edit.
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext
from aiogram_dialog import DialogManager, ShowMode

from dialogs.application.fields import Field
from dialogs.common import profile_of
from dialogs.main_menu.handlers import start_main
from dialogs.states import ApplicationSG
from dialogs.wording import N_
from workflows.models import ApplicationKind
from workflows.restoration import RestorationStart

DESCRIPTION = N_("Restoration after the temporary suspension No. {number}")


def restoration_draft(start: RestorationStart) -> dict[str, object]:
    """The form's fields as the offer fills them, in the current language."""
    return {
        Field.CODE: start.subscriber_code,
        Field.LAST_CODE: start.subscriber_code,
        Field.KIND: ApplicationKind.RESTORE.value,
        Field.ADDRESS: start.address,
        Field.REASON: start.reason_code,
        Field.PHONE: start.phone,
        Field.EMAIL: start.email,
        Field.DESCRIPTION: gettext(DESCRIPTION).format(number=start.suspension),
        Field.NOTES: None,
    }


async def open_restoration(manager: DialogManager, start: RestorationStart) -> None:
    """The menu, and the filled-in form's summary on top of it, as a new message; without
    a FIN yet (the profile was erased since), the FIN question instead."""
    if not profile_of(manager).fin:
        await start_main(manager)
        return
    await start_main(manager, show_mode=ShowMode.NO_UPDATE)
    await manager.start(ApplicationSG.summary, show_mode=ShowMode.NO_UPDATE)
    manager.dialog_data.update(restoration_draft(start))
    manager.show_mode = ShowMode.SEND
    await manager.show()
