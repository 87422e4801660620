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
    # Not a step of the form: the proof a code with no owner FIN on record asks for.
    prove = State()
    # Not a step either: a suspension's optional "until when?", opened from the summary.
    until = State()


# Steps of the application form, for the "Step N of M" line: the group's states in their
# order, from the subscriber code to the summary.
FORM_STEPS = ApplicationSG.__states__[: ApplicationSG.__states__.index(ApplicationSG.summary) + 1]


class StatusSG(StatesGroup):
    listing = State()
    lookup = State()
    detail = State()
    prove = State()
    withdraw = State()  # "Withdraw application No. N?" (issue 19)


class PrivacySG(StatesGroup):
    notice = State()
    mydata = State()
    forget_confirm = State()
    forgotten = State()
