"""The summary's "📅 Until when? (optional)" of a suspension (issue 19, item 6), through the
real dispatcher: a quick choice, a typed date, the refusals (not a date, today or the past,
past the limit), "Remove the date", Back; the summary names the date in the reader's
language and the filed application keeps it. The form's steps stay seven."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.dialogs.helpers import (
    FORM,
    STATES,
    World,
    applications,
    current,
    fill_to,
    hint,
    open_menu,
    press,
    state_of,
    step_line,
    tr,
    widget_ids,
)
from workflows.clock import FixedClock

UNTIL_STATE = "ApplicationSG:until"
# The clock is 27.11.2026, 13:00 in Baku.
RANGE = {"first": "28 noyabr 2026", "last": "27 noyabr 2027", "days": 365}


async def until_window(world: World, user_id: int = 100001):
    user = world.subscriber(user_id)
    summary = await fill_to(user, "summary")
    assert "ed_until" in widget_ids(summary)
    window = await press(user, "ed_until")
    assert await state_of(user) == UNTIL_STATE
    return user, window


async def test_a_quick_choice_sets_the_date_and_the_summary_shows_it(world: World) -> None:
    user, window = await until_window(world)
    assert tr("📅 <b>Until when should the water supply stay suspended?</b>") in window.text
    prompt = "Any date from {first} to {last}: choose one below or type it as DD.MM.YYYY."
    assert tr(prompt, first=RANGE["first"], last=RANGE["last"]) in window.text
    assert [d for d in widget_ids(window) if d.startswith("until:")] == [
        "until:1w",
        "until:1m",
        "until:3m",
        "until:6m",
    ]
    assert "until_remove" not in widget_ids(window)  # nothing to remove yet

    summary = await press(user, "until:1w")

    assert await state_of(user) == STATES["summary"]
    assert tr("Until: {until}", until="4 dekabr 2026") in summary.text
    assert summary.text.startswith(step_line(len(FORM)))  # still step 7 of 7
    _, data = await current(user)
    assert data["until"] == "2026-12-04"


async def test_a_typed_date_is_filed_with_the_application(world: World) -> None:
    user, _window = await until_window(world)

    summary = await user.send("12/3/27")

    assert await state_of(user) == STATES["summary"]
    assert tr("Until: {until}", until="12 mart 2027") in summary.text
    await press(user, "confirm")
    assert await state_of(user) == STATES["registered"]
    [row] = await applications(world.engine)
    assert (row.kind, row.suspend_until) == ("suspend", "2027-03-12")
    _, data = await current(user)
    assert "until" not in data  # the draft goes the moment it is filed


@pytest.mark.parametrize("typed", ["27.11.2026", "01.11.2026", "28.11.2027", "31.12.2030"])
async def test_today_the_past_and_past_the_limit_are_refused_with_the_range(
    world: World, typed: str
) -> None:
    user, _window = await until_window(world)

    refused = await user.send(typed)

    assert await state_of(user) == UNTIL_STATE
    assert hint("until.range", **RANGE) in refused.text
    _, data = await current(user)
    assert "until" not in data


async def test_what_is_no_date_is_refused_with_an_example(world: World) -> None:
    user, _window = await until_window(world)

    refused = await user.send("next spring")

    assert await state_of(user) == UNTIL_STATE
    assert hint("until.format", example="27.12.2026") in refused.text
    refused = await user.send_sticker()
    assert hint("not_text") in refused.text


async def test_remove_the_date_and_back(world: World) -> None:
    user, _window = await until_window(world)
    await user.send("12.03.2027")
    window = await press(user, "ed_until")
    assert tr("Chosen now: <b>{until}</b>", until="12 mart 2027") in window.text

    summary = await press(user, "until_remove")

    assert await state_of(user) == STATES["summary"]
    assert tr("Until: {until}", until="12 mart 2027") not in summary.text
    await press(user, "ed_until")
    back = await press(user, "until_back")
    assert await state_of(user) == STATES["summary"]
    assert tr("Until: {until}", until="12 mart 2027") not in back.text
    await press(user, "confirm")
    [row] = await applications(world.engine)
    assert row.suspend_until is None


@pytest.mark.parametrize(
    ("locale", "shown"),
    [("az", "12 mart 2027"), ("ru", "12 марта 2027"), ("en", "12 March 2027")],
)
async def test_the_date_reads_in_the_reader_language(
    world: World, locale: str, shown: str
) -> None:
    user = world.subscriber(100001, language_code=locale)
    await fill_to(user, "summary")
    await press(user, "ed_until")

    summary = await user.send("12.03.2027")

    assert tr("Until: {until}", locale, until=shown) in summary.text


async def test_a_restoration_has_no_date_button(world: World) -> None:
    user = world.subscriber(100001)

    summary = await fill_to(user, "summary", code="100002")

    assert "ed_until" not in widget_ids(summary)


async def test_a_new_code_of_a_suspended_subscriber_drops_the_date(world: World) -> None:
    user, _window = await until_window(world)
    await user.send("12.03.2027")
    await press(user, "ed_code")
    await user.send("100002")  # suspended: a restoration, whose reasons differ
    await press(user, "reason:returned")

    _, data = await current(user)
    assert "until" not in data
    await press(user, "confirm")
    [row] = await applications(world.engine)
    assert (row.kind, row.suspend_until) == ("restore", None)


async def test_the_date_is_shown_in_the_status_view_and_in_mydata(world: World) -> None:
    user, _window = await until_window(world)
    await user.send("12.03.2027")
    await press(user, "confirm")
    await open_menu(user)
    await press(user, "status")
    await press(user, "to_lookup")

    detail = await user.send("1")

    shown = tr("Until: {until}", until="12 mart 2027")
    assert await state_of(user) == STATES["detail"]
    assert shown in detail.text
    assert shown in (await user.send("/mydata")).text


async def test_a_date_that_passed_while_the_draft_waited_is_asked_again(
    world: World, clock: FixedClock
) -> None:
    user, _window = await until_window(world)
    await user.send("28.11.2026")  # tomorrow
    clock.advance(timedelta(days=2))

    refused = await press(user, "confirm")

    assert await state_of(user) == UNTIL_STATE
    assert hint("until.range", first="30 noyabr 2026", last="29 noyabr 2027", days=365) in (
        refused.text
    )
    assert await applications(world.engine) == []
    summary = await press(user, "until:1w")
    assert tr("Until: {until}", until="6 dekabr 2026") in summary.text
    await press(user, "confirm")
    [row] = await applications(world.engine)
    assert row.suspend_until == "2026-12-06"


HOSTILE = {
    "blank": " \n\t ",
    "5000 chars": "1" * 5000,
    "emoji": "💧🚰🙂",
    "html": "<b>12.03.2027</b>",
    "heart": "I <3 water & co",
    "sql": "'; DROP TABLE applications; --",
    "cyrillic look-alikes": "І2.О3.2О27",  # Cyrillic І and О for 1 and 0
    "two dates": "12.03.2027 13.03.2027",
}


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_odd_input_in_the_date_window_is_refused_and_nothing_is_lost(
    world: World, name: str
) -> None:
    user, _window = await until_window(world)
    _, before = await current(user)

    refused = await user.send(HOSTILE[name])

    assert await state_of(user) == UNTIL_STATE
    assert hint("until.format", example="27.12.2026") in refused.text, refused.text
    _, after = await current(user)
    assert {k: v for k, v in after.items() if k != "error"} == {
        k: v for k, v in before.items() if k != "error"
    }
    for photo_or_sticker in (user.send_photo, user.send_sticker):
        refused = await photo_or_sticker()
        assert hint("not_text") in refused.text
    summary = await user.send("12.03.2027")  # the window still works
    assert tr("Until: {until}", until="12 mart 2027") in summary.text


async def test_a_date_between_bidi_marks_is_read(world: World) -> None:
    user, _window = await until_window(world)

    summary = await user.send("\u200f12.03.2027\u200e")

    assert tr("Until: {until}", until="12 mart 2027") in summary.text
