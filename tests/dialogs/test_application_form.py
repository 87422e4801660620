"""The manual's "Yeni müraciət yarat": a whole application through the real dispatcher.

Scenarios (manual, items 6-8; DESIGN.md, "The subscriber's journey"): the form's seven
steps, each refusal of the registry told at the first step (unknown code, metered, another
owner, an open application, a debt), the reasons filtered by the service state, the phone
shared or typed, edits from the summary, and on "Davam et" either the debt warning with
"Borcu ödə" or the confirmation with the application number.
"""

from __future__ import annotations

import asyncio
import html

import pytest
from aiogram.types import Message

from dialogs.wording import fmt_phone
from tests.dialogs.helpers import (
    DEBT_WARNING,
    FIN,
    FIN_PROMPT,
    FORM,
    MENU_PROMPT,
    OTHER_FIN,
    REGISTERED,
    STATES,
    World,
    applications,
    contact_buttons,
    current,
    fill_to,
    hint,
    open_menu,
    press,
    register,
    set_debt,
    state_of,
    step_line,
    tr,
    url_buttons,
    widget_ids,
)
from tests.support import seed_subscribers, subscriber_row

SUSPEND_REASONS = {"absence", "renovation", "vacant", "seasonal", "suspend_other"}
RESTORE_REASONS = {"returned", "renovation_done", "new_occupant", "restore_other"}
PAY_URL = "https://pay.example/az?code=100003"
LABELS = {
    "az": "Müvəqqəti olmama (səfər, ezamiyyət)",
    "ru": "Временное отсутствие (поездка, командировка)",
    "en": "Temporary absence (travel, posting)",
}


def reasons_offered(message: Message) -> set[str]:
    return {d.split(":", 1)[1] for d in widget_ids(message) if d.startswith("reason:")}


async def test_registered_with_a_number(world: World) -> None:
    user = world.subscriber(100001)
    summary = await fill_to(user, "summary", notes="Key at the neighbours'")
    assert step_line(7) in summary.text

    done = await press(user, "confirm")

    assert await state_of(user) == STATES["registered"]
    assert done.text == tr(REGISTERED, number=1)
    [row] = await applications(world.engine)
    assert (row.number, row.kind, row.status, row.fin) == (1, "suspend", "registered", "5ABC12D")
    assert (row.subscriber_code, row.reason_code) == ("100001", "absence")
    assert (row.phone, row.email) == ("+994501234567", "user@example.com")
    assert (row.description, row.notes) == (
        "Going abroad for two months.",
        "Key at the neighbours'",
    )
    assert (row.locale, row.telegram_user_id, row.chat_id) == ("az", 100001, 100001)
    # the window offers the status of that application and the way home
    detail = await press(user, "to_status")
    assert await state_of(user) == STATES["detail"]
    assert tr("<b>Application No. {number}</b>", number=1) in detail.text
    await press(user, "__cancel__")
    assert await state_of(user) == STATES["menu"]


@pytest.mark.parametrize("locale", ["az", "ru", "en"])
async def test_main_path_in_each_language(world: World, locale: str) -> None:
    user = world.subscriber(100001, language_code=locale)
    first = await user.send("/start")
    assert tr(FIN_PROMPT, locale) in first.text
    menu = await user.send("5abc12d")
    assert tr(MENU_PROMPT, locale) in menu.text
    assert tr("FIN: <b>{fin}</b>", locale, fin="5ABC12D") in menu.text

    code = await press(user, "new_app")
    assert step_line(1, locale) in code.text
    assert tr("Type the <b>subscriber code</b> (the digits on your water bill).", locale) in (
        code.text
    )
    reason = await user.send("100001")
    assert step_line(2, locale) in reason.text
    assert tr("Temporary suspension", locale) in reason.text
    assert LABELS[locale] in [b.text for row in reason.reply_markup.inline_keyboard for b in row]
    phone = await press(user, "reason:absence")
    assert step_line(3, locale) in phone.text
    email = await user.send_contact("+994501234567")
    assert step_line(4, locale) in email.text
    description = await user.send("user@example.com")
    assert step_line(5, locale) in description.text
    notes = await user.send("Going abroad.")
    assert step_line(6, locale) in notes.text
    summary = await press(user, "skip_notes")
    assert step_line(7, locale) in summary.text
    assert tr("Reason: {reason}", locale, reason=html.escape(LABELS[locale])) in summary.text
    # the shared +994501234567 shown as it is said, in every language
    assert tr("Phone: {phone}", locale, phone="+994 50 123 45 67") in summary.text

    done = await press(user, "confirm")

    assert done.text == tr(REGISTERED, locale, number=1)
    [row] = await applications(world.engine)
    assert row.locale == locale  # the staff and the e-mail answer in the user's language


async def test_step_line_on_every_step(world: World) -> None:
    for number, step in enumerate(FORM, start=1):
        message = await fill_to(world.subscriber(200000 + number), step)
        assert message.text.startswith(step_line(number)), (step, message.text)
        assert message.text.count(step_line(number)) == 1
    # the windows after the form (debt, registered) have no step line
    user = world.subscriber(100001)
    await set_debt(world.engine, "100003", "0")
    await fill_to(user, "summary", code="100003")
    await set_debt(world.engine, "100003", "5")
    debt = await press(user, "confirm")
    await set_debt(world.engine, "100003", "0")
    done = await press(user, "recheck")
    for window in (debt, done):
        assert not any(step_line(n) in window.text for n in range(1, len(FORM) + 1))


async def test_stopped_by_debt_with_the_pay_button(world: World) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "code")

    refused = await user.send("100003")

    assert await state_of(user) == STATES["code"]
    assert "⚠️ " + tr(DEBT_WARNING) in refused.text
    # the amount only to an account that proved the owner FIN (tests/dialogs/test_identity.py)
    assert "12,50" not in refused.text
    assert url_buttons(refused) == {tr("Pay the debt"): PAY_URL}
    assert "recheck_code" in widget_ids(refused)
    assert await applications(world.engine) == []

    # "I have paid, check again" while the debt is still there: the same warning
    again = await press(user, "recheck_code")
    assert await state_of(user) == STATES["code"]
    assert tr(DEBT_WARNING) in again.text

    await set_debt(world.engine, "100003", "0")
    paid = await press(user, "recheck_code")
    assert await state_of(user) == STATES["reason"]
    assert tr(DEBT_WARNING) not in paid.text
    assert url_buttons(paid) == {}


async def test_debt_that_appeared_after_step_1_stops_continue(world: World) -> None:
    user = world.subscriber(100001)
    await set_debt(world.engine, "100003", "0")
    await fill_to(user, "summary", code="100003", notes="after the first step")
    await set_debt(world.engine, "100003", "12.50")

    debt = await press(user, "confirm")

    assert await state_of(user) == STATES["debt"]
    assert tr(DEBT_WARNING) in debt.text
    assert url_buttons(debt) == {tr("Pay the debt"): PAY_URL}
    assert "recheck" in widget_ids(debt)
    assert await applications(world.engine) == []
    _, data = await current(user)
    assert data["notes"] == "after the first step"  # the draft is kept

    still = await press(user, "recheck")
    assert await state_of(user) == STATES["debt"]
    assert tr("⚠️ The debt is still recorded. Payments may take a while to arrive.") in still.text
    assert await applications(world.engine) == []

    await set_debt(world.engine, "100003", "0")
    done = await press(user, "recheck")

    assert done.text == tr(REGISTERED, number=1)
    [row] = await applications(world.engine)
    assert (row.subscriber_code, row.notes) == ("100003", "after the first step")


async def test_debt_window_back_returns_to_the_summary(world: World) -> None:
    user = world.subscriber(100001)
    await set_debt(world.engine, "100003", "0")
    await fill_to(user, "summary", code="100003")
    await set_debt(world.engine, "100003", "1")
    await press(user, "confirm")

    summary = await press(user, "debt_back")

    assert await state_of(user) == STATES["summary"]
    assert tr("Subscriber code: {code}", code="100003") in summary.text
    assert url_buttons(summary) == {}


async def test_metered_subscriber_refused(world: World) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "code")

    refused = await user.send("100004")

    assert await state_of(user) == STATES["code"]
    assert hint("code.metered", code="100004") in refused.text
    assert url_buttons(refused) == {}


async def test_unknown_code(world: World) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "code")

    refused = await user.send("999 999")

    assert await state_of(user) == STATES["code"]
    assert hint("code.not_found", code="999999") in refused.text


@pytest.mark.parametrize(
    ("text", "code"),
    [("12345", "code.format"), ("12a456", "code.not_digits"), ("   ", "code.empty")],
)
async def test_malformed_code(world: World, text: str, code: str) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "code")

    refused = await user.send(text)

    assert await state_of(user) == STATES["code"]
    assert hint(code) in refused.text


async def test_owner_mismatch(world: World) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "code")  # FIN 5ABC12D; 100005 belongs to 7XYZ89K

    refused = await user.send("100005")

    assert await state_of(user) == STATES["code"]
    assert hint("code.owner", code="100005") in refused.text


async def test_owner_on_record_may_apply(world: World) -> None:
    owner = world.subscriber(100001)
    await fill_to(owner, "code", fin=OTHER_FIN)

    await owner.send("100005")

    assert await state_of(owner) == STATES["reason"]


async def test_duplicate_open_application(world: World) -> None:
    await register(world.subscriber(100001))
    user = world.subscriber(100002)  # another Telegram account with the owner's FIN
    await fill_to(user, "code")

    refused = await user.send("100001")

    assert await state_of(user) == STATES["code"]
    # that account has not proved the FIN: the number is not told (test_identity.py)
    assert hint("code.open_hidden", code="100001") in refused.text
    assert len(await applications(world.engine)) == 1


@pytest.mark.parametrize(
    ("code", "kind", "offered"),
    [
        ("100001", "Temporary suspension", SUSPEND_REASONS),
        ("100002", "Restoration", RESTORE_REASONS),
    ],
)
async def test_reasons_filtered_by_state(
    world: World, code: str, kind: str, offered: set[str]
) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "code")

    reason = await user.send(code)

    assert reasons_offered(reason) == offered
    assert tr(kind) in reason.text
    # a typed reason is not accepted: the reason comes from the list
    typed = await user.send("Digər səbəb")
    assert await state_of(user) == STATES["reason"]
    assert hint("use_buttons") in typed.text

    number = await register(world.subscriber(100009), code=code)
    [row] = await applications(world.engine)
    assert row.number == number
    assert row.kind == ("suspend" if offered is SUSPEND_REASONS else "restore")
    assert row.reason_code in offered


async def test_share_contact(world: World) -> None:
    user = world.subscriber(100001)
    phone = await fill_to(user, "phone")
    assert contact_buttons(phone), "no “share my number” button"
    assert {"back", "__cancel__"} <= set(widget_ids(phone))

    await user.send_contact("994501234567")  # Telegram sends it without the plus

    state, data = await current(user)
    assert state == STATES["email"]
    assert data["phone"] == "+994501234567"


async def test_shared_contact_and_every_step_need_no_worker_thread(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiogram runs a plain (non-coroutine) filter or handler through ``asyncio.to_thread``:
    a thread hop per message under load. No step of the form may need one."""
    hops: list[str] = []
    original = asyncio.to_thread

    async def counting(func, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        hops.append(repr(func))
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counting)
    user = world.subscriber(100001)
    await fill_to(user, "phone")
    await user.send_contact("+994501234567")
    assert await state_of(user) == STATES["email"]
    await user.send("user@example.com")
    await user.send("Going abroad for two months.")
    await press(user, "skip_notes")
    await press(user, "confirm")
    assert await state_of(user) == STATES["registered"]
    assert hops == []


@pytest.mark.parametrize(
    "typed",
    ["050 123 45 67", "0501234567", "+994 50 123 45 67", "994-50-123-45-67", "(050) 123.45.67"],
)
async def test_typed_phone(world: World, typed: str) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "phone")

    await user.send(typed)

    state, data = await current(user)
    assert state == STATES["email"]
    assert data["phone"] == "+994501234567"


async def test_foreign_contact_is_refused(world: World) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "phone")

    refused = await user.send_contact("+994501234567", own=False)

    state, data = await current(user)
    assert state == STATES["phone"]
    assert "phone" not in data
    assert hint("phone.not_own") in refused.text
    assert step_line(3) in refused.text


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("+7 916 123 45 67", "phone.foreign"),
        ("123", "phone.invalid"),
        ("050 CALL ME", "phone.invalid"),
    ],
)
async def test_wrong_phone_is_explained(world: World, typed: str, code: str) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "phone")

    refused = await user.send(typed)

    assert await state_of(user) == STATES["phone"]
    assert hint(code) in refused.text


async def test_email_is_validated_and_normalised(world: World) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "email")

    refused = await user.send("name@")
    assert await state_of(user) == STATES["email"]
    assert hint("email.invalid") in refused.text

    await user.send("  Name@Example.COM ")
    state, data = await current(user)
    assert state == STATES["description"]
    assert data["email"] == "Name@example.com"


async def test_summary_escapes_html(world: World) -> None:
    user = world.subscriber(100001)
    description = "<b>not bold</b> & I <3 water </i>"
    notes = "<a href='https://evil.example'>x</a> '; DROP TABLE applications; --"

    summary = await fill_to(user, "summary", description=description, notes=notes)

    escape = lambda s: html.escape(s, quote=False)  # noqa: E731
    assert tr("Description: {description}", description=escape(description)) in summary.text
    assert tr("Additional notes: {notes}", notes=escape(notes)) in summary.text
    assert "<b>not bold</b>" not in summary.text
    # (the world's message manager also checks that Telegram would accept the HTML)
    await press(user, "confirm")
    [row] = await applications(world.engine)
    assert (row.description, row.notes) == (description, notes)  # stored as typed


async def test_summary_escapes_the_registry_address(world: World) -> None:
    address = "Bakı ş., <Yasamal> r., Ağa & Co"
    await seed_subscribers(
        world.engine, [subscriber_row("100010", address=address, owner_fin=FIN)]
    )
    user = world.subscriber(100001)

    summary = await fill_to(user, "summary", code="100010")

    # before the FIN is proved, only the city and the district (test_identity.py)
    shown = html.escape("Bakı ş., <Yasamal> r.", quote=False)
    assert tr("Address: {address}", address=shown) in summary.text


async def test_summary_fits_telegram_at_the_longest(world: World) -> None:
    user = world.subscriber(100001)
    longest = "<Ж>" * 333 + "Ж"  # 1000 characters, 3000 once escaped
    await fill_to(user, "summary", description=longest, notes=longest)  # the world checks it

    done = await press(user, "confirm")

    assert done.text == tr(REGISTERED, number=1)


EDITS = [
    ("ed_code", "code", "100006", "Subscriber code: {code}", {"code": "100006"}),
    ("ed_phone", "phone", "0557654321", "Phone: {phone}", {"phone": "+994557654321"}),
    ("ed_email", "email", "new@example.com", "E-mail: {email}", {"email": "new@example.com"}),
    (
        "ed_descr",
        "description",
        "Changed plan",
        "Description: {description}",
        {"description": "Changed plan"},
    ),
    ("ed_notes", "notes", "New notes", "Additional notes: {notes}", {"notes": "New notes"}),
]


@pytest.mark.parametrize(("button", "step", "typed", "line", "params"), EDITS)
async def test_edit_from_the_summary(world: World, button, step, typed, line, params) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "summary", notes="Old notes")
    _, before = await current(user)

    window = await press(user, button)
    assert await state_of(user) == STATES[step]
    assert step_line(FORM.index(step) + 1) in window.text
    summary = await user.send(typed)

    assert await state_of(user) == STATES["summary"]
    shown = {k: fmt_phone(v) if k == "phone" else v for k, v in params.items()}
    assert tr(line, **shown) in summary.text  # a phone as it is said: +994 55 765 43 21
    _, after = await current(user)
    changed = {k for k in before if before[k] != after.get(k)} - {"last_code", "editing"}
    assert changed == set(params), changed  # nothing else moved
    await press(user, "confirm")
    [row] = await applications(world.engine)
    assert getattr(row, "subscriber_code" if step == "code" else step) == next(
        iter(params.values())
    )


async def test_edit_reason_from_the_summary(world: World) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "summary", reason="absence")

    reasons = await press(user, "ed_reason")
    assert reasons_offered(reasons) == SUSPEND_REASONS
    summary = await press(user, "reason:seasonal")

    assert await state_of(user) == STATES["summary"]
    assert tr("Reason: {reason}", reason="Mövsümi istifadə (bağ evi)") in summary.text


async def test_edit_code_to_a_suspended_subscriber_asks_the_reason_again(world: World) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "summary", reason="absence")
    await press(user, "ed_code")

    reasons = await user.send("100002")  # service suspended: a restoration now

    assert await state_of(user) == STATES["reason"]
    assert reasons_offered(reasons) == RESTORE_REASONS
    summary = await press(user, "reason:returned")
    assert await state_of(user) == STATES["summary"]
    assert tr("Type: {kind_label}", kind_label=tr("Restoration")) in summary.text
    await press(user, "confirm")
    [row] = await applications(world.engine)
    assert (row.kind, row.subscriber_code, row.reason_code) == ("restore", "100002", "returned")


async def test_edit_then_back_keeps_the_summary(world: World) -> None:
    user = world.subscriber(100001)
    summary = await fill_to(user, "summary")
    for button in ("ed_code", "ed_reason", "ed_phone", "ed_email", "ed_descr", "ed_notes"):
        await press(user, button)
        back = await press(user, "back")
        assert await state_of(user) == STATES["summary"], button
        assert back.text == summary.text, button


async def test_edit_code_refused_keeps_the_old_code(world: World) -> None:
    user = world.subscriber(100001)
    await fill_to(user, "summary")
    await press(user, "ed_code")

    refused = await user.send("100004")  # metered
    assert hint("code.metered", code="100004") in refused.text
    summary = await press(user, "back")

    assert await state_of(user) == STATES["summary"]
    assert tr("Subscriber code: {code}", code="100001") in summary.text
    assert hint("code.metered", code="100004") not in summary.text


# --- Back and Cancel on every step ----------------------------------------------------------
@pytest.mark.parametrize("step", FORM)
async def test_back_on_every_step(world: World, step: str) -> None:
    user = world.subscriber(100001)
    window = await fill_to(user, step)
    _, before = await current(user)
    assert "back" in widget_ids(window)

    await press(user, "back")

    index = FORM.index(step)
    expected = STATES[FORM[index - 1]] if index else STATES["menu"]
    state, after = await current(user)
    assert state == expected
    if index:
        # what was typed is kept: Back is not Undo
        assert {k: v for k, v in before.items() if k != "error"} == {
            k: v for k, v in after.items() if k != "error"
        }


@pytest.mark.parametrize("step", [*FORM, "debt"])
async def test_cancel_on_every_step(world: World, step: str) -> None:
    user = world.subscriber(100001)
    if step == "debt":
        await set_debt(world.engine, "100003", "0")
        await fill_to(user, "summary", code="100003")
        await set_debt(world.engine, "100003", "3")
        window = await press(user, "confirm")
    else:
        window = await fill_to(user, step)
    assert "__cancel__" in widget_ids(window)

    menu = await press(user, "__cancel__")

    assert await state_of(user) == STATES["menu"]
    assert tr(MENU_PROMPT) in menu.text
    assert await applications(world.engine) == []
    # a new application starts empty
    fresh = await press(user, "new_app")
    state, data = await current(user)
    assert state == STATES["code"]
    assert data == {}
    assert step_line(1) in fresh.text


async def test_registered_window_back_to_the_menu(world: World) -> None:
    user = world.subscriber(100001)
    await register(user)

    menu = await press(user, "__cancel__")

    assert await state_of(user) == STATES["menu"]
    assert tr(MENU_PROMPT) in menu.text


async def test_menu_ignores_typed_text(world: World) -> None:
    user = world.subscriber(100001)
    await open_menu(user)

    reply = await user.send("hello")

    assert await state_of(user) == STATES["menu"]
    assert hint("use_buttons") in reply.text
