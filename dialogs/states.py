"""Every StatesGroup of the subscriber's dialogs."""

from aiogram.fsm.state import State, StatesGroup


class MainSG(StatesGroup):
    fin = State()
    menu = State()
    language = State()


class ApplicationSG(StatesGroup):
    subscriber_code = State()
    reason = State()
    phone = State()
    email = State()
    description = State()
    notes = State()
    summary = State()
    debt = State()
    registered = State()


class StatusSG(StatesGroup):
    listing = State()
    lookup = State()
    detail = State()


# Steps of the application form, for the "Step N of M" line.
FORM_STEPS = (
    ApplicationSG.subscriber_code,
    ApplicationSG.reason,
    ApplicationSG.phone,
    ApplicationSG.email,
    ApplicationSG.description,
    ApplicationSG.notes,
    ApplicationSG.summary,
)
