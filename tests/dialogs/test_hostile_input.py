"""Whatever a user sends, each text step answers with a clear hint and keeps what was typed.

Scenario: on every text step of the form (and at the FIN and the number lookup) the user
sends empty or blank text, 5,000 characters, emoji, HTML (``<b>``, ``<3``), SQL, a sticker
or a photo. The bot never goes silent and never breaks its own HTML: a refused value gets a
hint in the same window, the step stays, and nothing typed before is lost; free text that is
acceptable (description, notes) is stored as typed and shown escaped.
"""

from __future__ import annotations

import html
from typing import Any

import pytest

from tests.dialogs.helpers import (
    FIN_PROMPT,
    FORM,
    STATES,
    World,
    current,
    fill_to,
    hint,
    open_menu,
    press,
    state_of,
    step_line,
    tr,
)
from tests.support import Subscriber

INPUTS: dict[str, str | None] = {
    "empty": "",
    "blank": " \n\t ",
    "5000 chars": "x" * 5000,
    "emoji": "💧🚰🙂",
    "html": "<b>bold</b>",
    "heart": "I <3 water & co",
    "sql": "'; DROP TABLE applications; --",
    "sticker": None,
    "photo": None,
}
FREE_TEXT = {"emoji", "html", "heart", "sql"}

# (step, input) -> the hint; None means "accepted" (free text only)
EXPECTED: dict[str, dict[str, tuple[str, dict[str, Any]] | None]] = {
    "code": {
        "blank": ("code.empty", {}),
        "5000 chars": ("code.format", {}),
        # Too short or too long for a code: the length is named before the characters.
        "emoji": ("code.format", {}),
        "sql": ("code.format", {}),
        "html": ("code.not_digits", {}),
        "heart": ("code.not_digits", {}),
    },
    "phone": {
        "blank": ("phone.empty", {}),
        "5000 chars": ("phone.too_long", {}),
        **{name: ("phone.invalid", {}) for name in FREE_TEXT},
    },
    "email": {
        "blank": ("email.empty", {}),
        "5000 chars": ("email.too_long", {}),
        **{name: ("email.invalid", {}) for name in FREE_TEXT},
    },
    "description": {
        "blank": ("text.empty", {}),
        "5000 chars": ("text.too_long", {"length": 5000, "limit": 1000}),
        **{name: None for name in FREE_TEXT},
    },
    "notes": {
        "blank": ("text.empty", {}),
        "5000 chars": ("text.too_long", {"length": 5000, "limit": 1000}),
        **{name: None for name in FREE_TEXT},
    },
}
for _step in EXPECTED.values():
    _step["sticker"] = _step["photo"] = ("not_text", {})
    _step["empty"] = ("not_text", {})  # Telegram sends no empty text; it is no text at all

VALID = {
    "code": "100001",
    "phone": "050 123 45 67",
    "email": "user@example.com",
    "description": "Going abroad for two months.",
    "notes": "Key at the neighbours'",
}
FIELD = {"code": "code", **{s: s for s in ("phone", "email", "description", "notes")}}


async def send(user: Subscriber, name: str) -> Any:
    if name == "sticker":
        return await user.send_sticker()
    if name == "photo":
        return await user.send_photo()
    text = INPUTS[name]
    assert text is not None
    return await user.send(text)


def without_error(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "error"}


@pytest.mark.parametrize("step", list(EXPECTED))
async def test_each_step_survives_odd_input(world: World, step: str) -> None:
    user = world.subscriber(100001)
    await fill_to(user, step)
    _, before = await current(user)
    number = FORM.index(step) + 1

    for name, expected in EXPECTED[step].items():
        if expected is None:
            continue  # accepted: see the next test
        reply = await send(user, name)

        state, after = await current(user)
        error, params = expected
        assert state == STATES[step], (name, reply.text)
        assert reply.text.startswith(step_line(number)), name
        assert hint(error, "az", **params) in reply.text, (name, reply.text)
        assert without_error(after) == without_error(before), name  # nothing typed is lost

    # the step still works
    await user.send(VALID[step])
    state, final = await current(user)
    assert state == STATES[FORM[number]]
    assert "error" not in final


@pytest.mark.parametrize("step", ["description", "notes"])
async def test_free_text_is_stored_as_typed_and_shown_escaped(world: World, step: str) -> None:
    for user_id, name in enumerate(sorted(FREE_TEXT), start=200001):
        user = world.subscriber(user_id)
        await fill_to(user, step)
        _, before = await current(user)

        reply = await send(user, name)

        state, after = await current(user)
        assert state == STATES[FORM[FORM.index(step) + 1]], name
        assert without_error(after) == {**without_error(before), FIELD[step]: INPUTS[name]}
        summary = await press(user, "skip_notes") if step == "description" else reply
        assert await state_of(user) == STATES["summary"]
        assert html.escape(INPUTS[name] or "", quote=False) in summary.text, name


async def test_fin_step_survives_odd_input(world: World) -> None:
    user = world.subscriber(100001)
    await user.send("/start")

    for name in INPUTS:
        reply = await send(user, name)

        assert await state_of(user) == STATES["fin"], name
        assert tr(FIN_PROMPT) in reply.text, name
        assert "⚠️" in reply.text, name

    await user.send("5ABC12D")
    assert await state_of(user) == STATES["menu"]


async def test_number_lookup_survives_odd_input(world: World) -> None:
    user = world.subscriber(100001)
    await open_menu(user)
    await press(user, "status")
    await press(user, "to_lookup")

    for name in INPUTS:
        reply = await send(user, name)

        assert await state_of(user) == STATES["lookup"], name
        expected = "not_text" if name in ("empty", "sticker", "photo") else "number.invalid"
        assert hint(expected) in reply.text, name


@pytest.mark.parametrize("step", ["reason", "summary"])
async def test_button_steps_ask_for_a_button(world: World, step: str) -> None:
    user = world.subscriber(100001)
    await fill_to(user, step)
    _, before = await current(user)

    for name in ("sticker", "photo", "sql", "5000 chars"):
        reply = await send(user, name)

        state, after = await current(user)
        assert state == STATES[step], name
        assert hint("use_buttons") in reply.text, name
        assert without_error(after) == without_error(before), name
