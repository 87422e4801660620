"""The manual's item 2 (enter the FIN to use the e-service) and the bot's languages.

Scenarios: a wrong FIN is explained (length, the letters I and O, Cyrillic look-alikes) and
the user stays on the step; the FIN is remembered per Telegram user, so a second /start goes
straight to the menu, and "Change FIN" replaces it. The language follows Telegram's
language_code (ru, en; anything else is az) until the user picks one, and the stored choice
wins from then on, also through /language.
"""

from __future__ import annotations

import pytest

from tests.dialogs.conftest import World
from tests.dialogs.helpers import (
    FIN,
    FIN_PROMPT,
    MENU_PROMPT,
    OTHER_FIN,
    STATES,
    fill_to,
    hint,
    open_menu,
    press,
    state_of,
    stored_profile,
    tr,
    widget_ids,
)
from tests.support import Subscriber

WELCOME = "👋 Welcome to the Azərsu e-service!"
REASON_ABSENCE = {
    "az": "Müvəqqəti olmama (səfər, ezamiyyət)",
    "ru": "Временное отсутствие (поездка, командировка)",
    "en": "Temporary absence (travel, posting)",
}


async def locale_in_use(user: Subscriber) -> str:
    """The locale the bot speaks to ``user``: the ticked entry of the language window."""
    window = await user.send("/language")
    assert await state_of(user) == STATES["language"]
    ticked = [
        b.callback_data.rsplit(":", 1)[1]
        for row in window.reply_markup.inline_keyboard
        for b in row
        if b.text.startswith("✓ ")
    ]
    assert len(ticked) == 1, window.reply_markup
    return ticked[0]


# --- FIN ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("5ABC12", "fin.length"),
        ("5ABC12DE", "fin.length"),
        ("5OBC12D", "fin.io"),
        ("5IBC12D", "fin.io"),
        ("5АВС12D", "fin.cyrillic"),  # Cyrillic А В С from a Russian keyboard
        ("5ABC12Д", "fin.cyrillic"),
        ("5AB_12D", "fin.chars"),
        ("   ", "fin.empty"),
    ],
)
async def test_fin_hints_keep_the_user_on_the_step(world: World, typed: str, error: str) -> None:
    user = world.subscriber(100001)
    first = await user.send("/start")
    assert tr(WELCOME) in first.text
    assert tr(FIN_PROMPT) in first.text

    reply = await user.send(typed)

    assert await state_of(user) == STATES["fin"]
    assert hint(error) in reply.text
    assert tr(FIN_PROMPT) in reply.text
    assert await stored_profile(world.engine, 100001) == (None, None)

    menu = await user.send("5abc 12d")  # spaces and lower case are fine
    assert await state_of(user) == STATES["menu"]
    assert tr("FIN: <b>{fin}</b>", fin=FIN) in menu.text
    assert hint(error) not in menu.text


@pytest.mark.parametrize("locale", ["az", "ru", "en"])
async def test_sql_typed_as_a_fin_is_told_its_length(world: World, locale: str) -> None:
    """Issue 15: the real problem of this text is its length, not the O in DROP."""
    user = world.subscriber(100001, language_code=locale)
    await user.send("/start")

    reply = await user.send("1'; DROP TABLE applications;--")

    assert await state_of(user) == STATES["fin"]
    assert reply.text.endswith(tr(FIN_PROMPT, locale) + "\n\n" + hint("fin.length", locale))
    assert hint("fin.io", locale) not in reply.text


async def test_fin_remembered_second_start_goes_to_the_menu(world: World) -> None:
    user = world.subscriber(100001)
    await user.send("/start")
    await user.send(FIN)
    assert (await stored_profile(world.engine, 100001))[1] == FIN

    again = await user.send("/start")

    assert await state_of(user) == STATES["menu"]
    assert tr(MENU_PROMPT) in again.text
    assert tr("FIN: <b>{fin}</b>", fin=FIN) in again.text
    # per Telegram user: somebody else is asked
    stranger = world.subscriber(100002)
    await stranger.send("/start")
    assert await state_of(stranger) == STATES["fin"]


async def test_change_fin(world: World) -> None:
    user = world.subscriber(100001)
    await open_menu(user)

    asked = await press(user, "change_fin")
    assert await state_of(user) == STATES["fin"]
    assert tr(FIN_PROMPT) in asked.text
    assert tr(WELCOME) not in asked.text  # not the first time any more
    assert "fin_cancel" in widget_ids(asked)
    refused = await user.send("7XYZ89")
    assert hint("fin.length") in refused.text
    menu = await user.send(OTHER_FIN)

    assert await state_of(user) == STATES["menu"]
    assert tr("FIN: <b>{fin}</b>", fin=OTHER_FIN) in menu.text
    assert (await stored_profile(world.engine, 100001))[1] == OTHER_FIN
    # the new FIN is the applicant's: 100005 belongs to 7XYZ89K
    await press(user, "new_app")
    await user.send("100005")
    assert await state_of(user) == STATES["reason"]


async def test_change_fin_cancelled_keeps_the_old_one(world: World) -> None:
    user = world.subscriber(100001)
    await open_menu(user)
    await press(user, "change_fin")

    menu = await press(user, "fin_cancel")

    assert await state_of(user) == STATES["menu"]
    assert tr("FIN: <b>{fin}</b>", fin=FIN) in menu.text
    assert (await stored_profile(world.engine, 100001))[1] == FIN


async def test_first_fin_window_has_no_cancel(world: World) -> None:
    user = world.subscriber(100001)
    first = await user.send("/start")
    assert "fin_cancel" not in widget_ids(first)
    assert "to_lang" in widget_ids(first)


# --- language -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("language_code", "locale"),
    [
        ("ru", "ru"),
        ("en", "en"),
        ("az", "az"),
        ("en-GB", "en"),
        ("de", "az"),
        ("tr", "az"),
        (None, "az"),
    ],
)
async def test_language_from_language_code(
    world: World, language_code: str | None, locale: str
) -> None:
    user = world.subscriber(100001, language_code=language_code)
    first = await user.send("/start")
    assert tr(FIN_PROMPT, locale) in first.text

    assert await locale_in_use(user) == locale
    # nothing is stored until the user chooses
    assert (await stored_profile(world.engine, 100001))[0] is None


async def test_language_shows_in_data_texts(world: World) -> None:
    """The reason catalogue is data in three languages: the first place the choice shows."""
    for user_id, code in ((100001, "az"), (100002, "ru"), (100003, "en")):
        user = world.subscriber(user_id, language_code=code)
        reasons = await fill_to(user, "reason")
        labels = [b.text for row in reasons.reply_markup.inline_keyboard for b in row]
        assert REASON_ABSENCE[code] in labels


async def test_stored_choice_wins_over_language_code(world: World) -> None:
    user = world.subscriber(100001, language_code="ru")
    await open_menu(user)

    window = await press(user, "to_lang")
    assert await state_of(user) == STATES["language"]
    assert {"lang:az", "lang:ru", "lang:en"} <= set(widget_ids(window))
    menu = await press(user, "lang:en")

    assert await state_of(user) == STATES["menu"]
    assert tr(MENU_PROMPT, "en") in menu.text
    assert (await stored_profile(world.engine, 100001))[0] == "en"
    assert await locale_in_use(user) == "en"
    reasons = await fill_to(user, "reason")
    labels = [b.text for row in reasons.reply_markup.inline_keyboard for b in row]
    assert REASON_ABSENCE["en"] in labels


async def test_stored_choice_survives_a_restart(world: World) -> None:
    user = world.subscriber(100001, language_code="ru")
    await open_menu(user)
    await press(user, "to_lang")
    await press(user, "lang:az")

    later = world.restart().subscriber(100001, language_code="ru")
    menu = await later.send("/start")

    assert await state_of(later) == STATES["menu"]
    assert tr(MENU_PROMPT, "az") in menu.text
    assert await locale_in_use(later) == "az"


async def test_language_command(world: World) -> None:
    user = world.subscriber(100001, language_code="en")
    await open_menu(user)

    window = await user.send("/language")
    assert await state_of(user) == STATES["language"]
    assert tr("Choose the language:", "en") in window.text
    menu = await press(user, "lang:ru")

    assert await state_of(user) == STATES["menu"]
    assert tr(MENU_PROMPT, "ru") in menu.text
    assert (await stored_profile(world.engine, 100001)) == ("ru", FIN)


async def test_language_before_the_fin_returns_to_the_fin(world: World) -> None:
    user = world.subscriber(100001, language_code="de")
    await user.send("/start")

    await press(user, "to_lang")
    back = await press(user, "lang:ru")

    assert await state_of(user) == STATES["fin"]
    assert tr(FIN_PROMPT, "ru") in back.text
    assert await stored_profile(world.engine, 100001) == ("ru", None)
    # Back without choosing changes nothing
    await press(user, "to_lang")
    await press(user, "lang_back")
    assert await state_of(user) == STATES["fin"]
    assert await locale_in_use(user) == "ru"
