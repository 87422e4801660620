"""The citizen's own data through the bot (issue 16, items 5, 6): the privacy notice from the
FIN prompt and the menu, /mydata with every stored field, /forget that leaves no FIN, phone
or e-mail of the account in any text column of the database, /logout, and the draft of an
abandoned form expiring from the database storage."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from aiogram.methods import SendMessage
from sqlalchemy import JSON, String, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dialogs.wording import esc
from storage.fsm import SqlStorage
from storage.models import Base, FsmStateRow
from tests.dialogs.helpers import (
    FIN,
    FIN_PROMPT,
    STATES,
    World,
    current,
    make_world,
    press,
    register,
    state_of,
    tr,
    widget_ids,
)
from workflows.clock import FixedClock
from workflows.identity import IdentityMethod
from workflows.models import Draft, StaffMember
from workflows.ports import UserProfile

ACCOUNT = 1001
PHONE = "+994551234567"
EMAIL = "citizen.private@example.org"
CODE = "100006"  # its owner FIN is FIN
STREET = "Azadlıq"
ALI = StaffMember(user_id=501, name="Ali")
NOTICE = "<b>🔒 Privacy</b>"
WHY = (
    "🔒 The FIN is asked to check that the subscription is yours; it is used only to "
    "handle your applications."
)
# The registry is the utility's record of its subscribers, not data an account gave the bot:
# /forget leaves it as it is.
NOT_THE_ACCOUNTS = {"subscribers"}


async def closed_application(
    world: World,
    *,
    description: str = "Going abroad <for> two months & more.",
    notes: str = "",
    reason: str = "absence",
) -> int:
    """An application the account filed, taken and completed with a note (a completed
    suspension suspends the service: the next one is a restoration, ``returned``)."""
    services = world.services
    number = await services.journey.submit(
        Draft(
            fin=FIN,
            subscriber_code=CODE,
            reason_code=reason,
            phone=PHONE,
            email=EMAIL,
            description=description,
            notes=notes or "Call before noon: 055 123 45 67.",
            locale="ru",
            telegram_user_id=ACCOUNT,
            chat_id=ACCOUNT,
        )
    )
    await services.work_orders.take(number, ALI)
    await services.work_orders.complete(number, ALI, "Done; neighbour (055) 123-45-67 has keys.")
    return number


async def stored_profile(world: World) -> None:
    await world.services.journey.save_profile(UserProfile(ACCOUNT, "ru", FIN, PHONE))
    await world.services.proofs.prove(ACCOUNT, FIN, IdentityMethod.EGOV)


def sent_texts(world: World) -> list[str]:
    return [r.text for r in world.session.requests if isinstance(r, SendMessage)]


async def personal_values_in_database(engine: AsyncEngine) -> list[str]:
    """Every ``table.column`` (of the text and JSON columns of every table) holding the FIN,
    the phone in any format, the e-mail or the street."""
    phone_digits = PHONE.removeprefix("+994")
    found = []
    async with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in NOT_THE_ACCOUNTS:
                continue
            columns = [c for c in table.columns if isinstance(c.type, (String, JSON))]
            for row in await conn.execute(select(*columns)) if columns else []:
                for column, value in zip(columns, row, strict=True):
                    text = value if isinstance(value, str) else json.dumps(value)
                    if (
                        FIN in text.upper()
                        or EMAIL in text.lower()
                        or phone_digits in re.sub(r"\D", "", text)
                        or STREET in text
                    ):
                        found.append(f"{table.name}.{column.name}")
    return sorted(set(found))


def database_world(world: World, clock: FixedClock, ttl: timedelta = timedelta(days=7)) -> World:
    """The world with dialog state in the database, as the bot keeps it without Redis."""
    assert world.settings is not None and world.engine is not None
    storage = SqlStorage(world.engine, clock=clock, ttl=ttl)
    return make_world(world.settings, world.engine, clock, storage=storage)


# --- the notice -----------------------------------------------------------------------------
async def test_the_fin_prompt_says_why_and_opens_the_privacy_notice(world: World) -> None:
    user = world.subscriber(ACCOUNT, language_code="ru")
    prompt = await user.send("/start")
    assert tr(FIN_PROMPT, "ru") in prompt.text and tr(WHY, "ru") in prompt.text

    notice = await press(user, "privacy")

    assert tr(NOTICE, "ru") in notice.text
    assert "365" in notice.text  # RETENTION_DAYS
    back = await press(user, "privacy_back")
    assert await state_of(user) == STATES["fin"] and tr(FIN_PROMPT, "ru") in back.text


async def test_the_menu_opens_the_notice_and_back_returns_to_the_menu(world: World) -> None:
    user = world.subscriber(ACCOUNT)
    await user.send("/start")
    await user.send(FIN)
    notice = await press(user, "privacy")
    assert tr(NOTICE) in notice.text
    await press(user, "privacy_back")
    assert await state_of(user) == STATES["menu"]


async def test_every_notice_text_is_translated(world: World) -> None:
    for locale in ("az", "ru", "en"):
        user = world.subscriber(ACCOUNT + {"az": 0, "ru": 1, "en": 2}[locale], locale)
        notice = await user.send("/privacy")
        assert tr(NOTICE, locale) in notice.text
        if locale != "en":
            assert "What the bot keeps" not in notice.text


# --- /mydata --------------------------------------------------------------------------------
async def test_my_data_shows_every_stored_field(world: World) -> None:
    number = await closed_application(world)
    await stored_profile(world)
    user = world.subscriber(ACCOUNT)

    shown = (await user.send("/mydata")).text

    app = (await world.services.privacy.my_data(ACCOUNT)).applications[0]
    assert app.number == number
    for value in (
        FIN,
        PHONE,
        EMAIL,
        app.subscriber_code,
        app.address,
        app.description,
        app.notes,
        app.result_note,
        "Русский",  # the profile's language and the application's
    ):
        assert esc(value) in shown, value
    assert f"№ {number}" in shown or str(number) in shown
    assert tr("e-gov login", "ru") in shown  # the proof of the FIN
    assert tr("FIN typed", "ru") in shown  # how the applicant was identified
    assert "<for>" not in shown  # what people typed is escaped


async def test_my_data_is_paged_when_it_does_not_fit_one_message(world: World) -> None:
    for i in range(8):
        reason = "returned" if i % 2 else "absence"
        await closed_application(
            world, description=f"{i}" + "Long description. " * 55, reason=reason
        )
    user = world.subscriber(ACCOUNT)

    first = await user.send("/mydata")

    assert "data_next" in str(first.reply_markup)
    numbers_seen = set(re.findall(r"№\s?(\d+)", first.text))
    page = first
    while "data_next" in str(page.reply_markup):
        page = await press(user, "data_next")
        numbers_seen |= set(re.findall(r"№\s?(\d+)", page.text))
    assert len(numbers_seen) == 8  # every application, on some page
    assert "data_prev" in str(page.reply_markup)


async def test_my_data_of_a_stranger_is_empty(world: World) -> None:
    shown = (await world.subscriber(4242).send("/mydata")).text
    assert tr("The bot keeps nothing about this account.") in shown


# --- /forget --------------------------------------------------------------------------------
async def test_forget_waits_for_an_open_application(world: World) -> None:
    await stored_profile(world)
    number = await world.services.journey.submit(
        Draft(FIN, CODE, "absence", PHONE, EMAIL, "Away.", None, "az", ACCOUNT, ACCOUNT)
    )
    user = world.subscriber(ACCOUNT)

    refusal = await user.send("/forget")

    assert f"№{number}" in refusal.text
    assert "erase" not in widget_ids(refusal)
    profile = await world.services.journey.profile(ACCOUNT)
    assert profile.fin == FIN


async def test_forget_leaves_no_fin_phone_or_email_of_the_account_in_the_database(
    world: World, clock: FixedClock
) -> None:
    world = database_world(world, clock)
    await closed_application(world)
    await stored_profile(world)
    user = world.subscriber(ACCOUNT, language_code="ru")
    await user.send("/start")  # the profile's copy in the dialog state
    await press(user, "new_app")  # an unfinished form
    before = await personal_values_in_database(world.engine)
    assert {"applications.fin", "users.fin", "verifications.fin", "fsm_state.data"} <= set(
        before
    ), before
    assert {"outbox.recipient", "events.note", "applications.result_note"} <= set(before)

    await user.send("/forget")
    done = await press(user, "erase")

    assert await personal_values_in_database(world.engine) == []
    assert await state_of(user) == "PrivacySG:forgotten"
    assert tr("e-gov login", "ru") not in done.text
    again = await press(user, "start_again")
    assert tr(FIN_PROMPT, "ru") in again.text  # nothing remembered: the FIN is asked again


async def test_forget_erases_only_the_accounts_dialog_state(
    world: World, clock: FixedClock
) -> None:
    world = database_world(world, clock)
    other = world.subscriber(2002)
    await other.send("/start")
    await other.send(FIN)
    user = world.subscriber(ACCOUNT)
    await user.send("/start")
    await user.send(FIN)

    await user.send("/forget")
    await press(user, "erase")

    keys = await fsm_keys(world.engine)
    assert any(":2002:2002:" in k for k in keys)
    assert await state_of(other) == STATES["menu"]


async def fsm_keys(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list(await conn.scalars(select(FsmStateRow.key)))


# --- /logout --------------------------------------------------------------------------------
async def test_logout_drops_the_proof_and_names_the_fin(world: World) -> None:
    await world.services.proofs.prove(ACCOUNT, FIN, IdentityMethod.EGOV)
    user = world.subscriber(ACCOUNT)

    await user.send("/logout")

    [said] = sent_texts(world)
    assert (
        tr(
            "You are logged out: this account no longer sees the applications of FIN {fins}, "
            "only those it filed itself."
        ).format(fins=f"<b>{FIN}</b>")
        == said
    )
    assert await world.services.proofs.verifications(ACCOUNT) == []
    world.session.requests.clear()
    await user.send("/logout")
    assert sent_texts(world) == [
        tr("This account has not proved any FIN, so there is nothing to log out of.")
    ]


# --- the draft of an abandoned form ---------------------------------------------------------
async def test_an_abandoned_form_expires_from_the_database_storage(
    world: World, clock: FixedClock
) -> None:
    ttl = timedelta(days=7)
    world = database_world(world, clock, ttl)
    user = world.subscriber(ACCOUNT)
    await user.send("/start")
    await user.send(FIN)
    await press(user, "new_app")
    assert any(f":{ACCOUNT}:{ACCOUNT}:" in key for key in await fsm_keys(world.engine))

    clock.advance(ttl + timedelta(hours=2))
    await world.subscriber(2002).send("/start")  # any write purges what expired

    assert not any(f":{ACCOUNT}:{ACCOUNT}:" in key for key in await fsm_keys(world.engine))
    assert await state_of(user) is None


# --- the draft of a filed form --------------------------------------------------------------
async def test_the_draft_is_cleared_the_moment_the_application_is_filed(world: World) -> None:
    user = world.subscriber(ACCOUNT)
    typed = {"phone": "050 987 65 43", "email": EMAIL, "description": "Away; keys at №7."}

    await register(user, code=CODE, **typed)

    # aiogram-dialog's TextInput keeps each raw answer in the context's widget_data, beside
    # the values the handlers keep in dialog_data: both must go.
    records = world.dp.storage.storage  # JsonMemoryStorage: every key's state and JSON data
    dumped = " ".join(str(record.data) for record in records.values())
    assert "9876543" not in re.sub(r"\D", "", dumped)
    assert EMAIL not in dumped and "keys at" not in dumped
    _state, data = await current(user)
    assert not {"phone", "email", "description", "notes", "address"} & set(data)
