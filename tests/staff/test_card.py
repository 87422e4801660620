"""The card itself: it fits Telegram's 4,096 characters whatever people typed, follows the
group when it becomes a supergroup, and overdue orders are prompted again under it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from aiogram.types import Chat, Message, User

from bot.staff.render import CARD_LIMIT, render_card
from dialogs.wording import tg_len, translator
from sandbox.tghtml import parse_html
from storage.models import ChatMigrationRow
from tests.dialogs.helpers import I18N
from tests.inert import assert_inert_telegram
from tests.outbox.fake_telegram import visible
from tests.outbox.harness import STAFF_A, Harness
from tests.support import draft
from workflows.models import Application, ApplicationKind, ApplicationStatus, StaffMember


def _app(**changes: object) -> Application:
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    base = {
        **dataclasses.asdict(draft("100001", chat_id=1)),
        "number": 7,
        "kind": ApplicationKind.SUSPEND,
        "status": ApplicationStatus.DONE,
        "address": "Bakı",
        "created_at": now,
        "updated_at": now,
        "taken_by_id": 5,
        "taken_by_name": "Elvin",
        "taken_at": now,
        "closed_at": now,
        "result_note": "r",
    }
    return Application(**{**base, **changes})  # type: ignore[arg-type]


def _same(text: str) -> str:
    return text


@pytest.mark.parametrize(
    ("locale", "line"),
    [("az", "Nə vaxtadək: 12 mart 2027"), ("en", "Until: 12 March 2027")],
)
def test_the_card_names_the_until_date_of_a_suspension(locale: str, line: str) -> None:
    _ = translator(I18N, locale)

    assert line in render_card(_app(suspend_until="2027-03-12"), "r", _, locale=locale)
    label = line.split(":")[0]
    assert f"{label}:" not in render_card(_app(), "r", _, locale=locale)  # none: no line


def test_card_fits_however_long_the_texts() -> None:
    worst = "<&>" * 1400  # 4,200 characters that escaping makes five times longer
    for description, notes, result in [
        ("a" * 4000, "b" * 4000, "c" * 4000),
        (worst, worst, worst),
        ("a" * 4000, None, "short"),
        ("🙂" * 4000, "ü" * 4000, "—" * 1000),  # emoji count twice in UTF-16
    ]:
        app = _app(description=description, notes=notes, result_note=result)
        card = render_card(app, "Temporary absence", _same)
        assert tg_len(card) <= CARD_LIMIT < 4096
        assert tg_len(card) > CARD_LIMIT - 100  # cut no more than needed, escaped or not
        assert_inert_telegram(card)  # Telegram parses it: every cut quote is closed
        assert "(shortened:" in card and "…" in card
        assert "Work order No. 7" in card and "Result:" in card


def test_short_card_is_not_shortened() -> None:
    card = render_card(_app(notes="qeyd"), "Temporary absence", _same)
    assert "shortened" not in card and "Additional notes:\n<blockquote>qeyd</blockquote>" in card


@pytest.mark.parametrize(
    ("identified_by", "label"),
    [
        ("typed", "FIN typed (not proved)"),
        ("phone", "phone matches the registry"),
        ("egov", "e-gov login"),
        ("", "FIN typed (not proved)"),  # rows from before the identity migration
    ],
)
def test_the_card_shows_the_fin_masked_and_how_the_applicant_was_identified(
    identified_by: str, label: str
) -> None:
    card = render_card(
        _app(fin="7KQ2M9X", identified_by=identified_by), "Temporary absence", _same
    )

    assert f"FIN: 7KQ•••X · {label}" in card
    assert "7KQ2M9X" not in card


@pytest.mark.parametrize("locale", ["az", "ru"])
def test_the_identification_is_in_the_staff_locale(locale: str) -> None:
    _ = translator(I18N, locale)

    card = render_card(_app(identified_by="egov"), "Temporary absence", _)

    assert (
        _("FIN: {fin} · {identified}").format(fin="5AB•••D", identified=_("e-gov login")) in card
    )
    assert "e-gov login" not in card and "FIN:" not in card


async def test_four_thousand_character_notes_reach_the_group(h: Harness) -> None:
    number = await h.register(chat_id=1001, description="D" * 4000, notes="N" * 4000)
    await h.deliver()
    chat_id, card_id = await h.card_ref(number)
    text = h.card_text(chat_id, card_id)
    assert len(visible(text)) <= 4096
    assert "(shortened:" in text
    assert text.count("D") > 1000 and text.count("N") > 1000  # both kept in part
    await h.press_button(number, "Take", STAFF_A)
    await h.deliver()
    await h.press_button(number, "Done", STAFF_A)
    await h.reply(h.last_prompt(), STAFF_A, "R" * 1000)
    await h.deliver()
    text = h.card_text(chat_id, card_id)
    assert len(visible(text)) <= 4096 and "Done by" in text
    assert all(r.ok for r in h.tg.log if r.chat_id == chat_id)


async def test_group_upgraded_to_supergroup(h: Harness) -> None:
    old = h.staff_chat_id
    new = -1002000000042
    first = await h.register(chat_id=1001)
    await h.deliver()
    assert (await h.card_ref(first))[0] == old

    h.tg.migrate(old, new)
    # The service message in the old group is noticed too ...
    await h.feed(
        message=Message(
            message_id=99,
            date=datetime.now(UTC),
            chat=Chat(id=old, type="group"),
            from_user=STAFF_A,
            migrate_to_chat_id=new,
        )
    )
    async with h.services.transactions.session_factory() as session:
        row = await session.get(ChatMigrationRow, old)
    assert row is not None and row.new_chat_id == new

    # ... but the outbox learns it on its own as well: forget it and let Telegram say it.
    async with h.services.transactions.session_factory() as session:
        await session.delete(row)
        await session.commit()
    second = await h.register(chat_id=1002)
    await h.deliver()
    assert (await h.card_ref(second))[0] == new
    refused = [r for r in h.tg.log if r.chat_id == old and not r.ok]
    assert len(refused) == 1 and "upgraded" in refused[0].error

    # From now on the new id is used at once, and the first card moves along on its edit.
    third = await h.register(chat_id=1003)
    await h.services.work_orders.take(first, StaffMember(STAFF_A.id, "Elvin"))
    await h.deliver()
    assert (await h.card_ref(third))[0] == new
    assert (await h.card_ref(first))[0] == new
    assert len([r for r in h.tg.log if r.chat_id == old and not r.ok]) == 1
    # Presses in the supergroup work.
    card = await h.card(second)
    answer = await h.press(card, f"wo:take:{second}", STAFF_A)
    assert answer.text == f"You took work order No. {second}."


async def test_overdue_orders_are_reminded_under_their_cards(h: Harness) -> None:
    number = await h.register(chat_id=1001)
    await h.deliver()
    _chat, card_id = await h.card_ref(number)

    h.clock.advance(timedelta(hours=71))
    fresh = await h.register(chat_id=1002)
    assert await h.runner.remind_overdue() == []
    h.clock.advance(timedelta(hours=1, minutes=1))  # 72 h and a minute after registration
    assert await h.runner.remind_overdue() == [number]
    await h.deliver()
    reminders = [r for r in h.tg.sent(h.staff_chat_id) if "still open" in r.text]
    assert len(reminders) == 1
    assert reminders[0].method.reply_parameters.message_id == card_id
    assert f"Work order No. {number} is still open after 72 hours." in reminders[0].text

    h.clock.advance(timedelta(hours=23))
    assert await h.runner.remind_overdue() == []  # at most once per 24 hours
    h.clock.advance(timedelta(hours=1))
    assert await h.runner.remind_overdue() == [number]  # the fresh one is 25 hours old
    await h.deliver()
    assert len([r for r in h.tg.sent(h.staff_chat_id) if "still open" in r.text]) == 2

    await h.press_button(number, "Reject", STAFF_A)
    await h.reply(h.last_prompt(), STAFF_A, "Təkrar müraciət.")
    h.clock.advance(timedelta(hours=50))
    assert await h.runner.remind_overdue() == [fresh]  # closed orders are left alone
    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None
    assert [e.kind.value for e in app.events].count("reminded") == 2


async def test_a_staff_members_name_is_shown_as_typed_never_as_markup(h: Harness) -> None:
    """Names are whatever people typed in Telegram: ``<b>``, ``&`` and a stray ``<`` are
    text on the card, the prompt and the reminder (Telegram would refuse, or render, HTML)."""
    rude = User(id=503, is_bot=False, first_name="<b>Rəşad</b>", last_name="& <Co")
    shown = "<b>Rəşad</b> & <Co"
    escaped = "&lt;b&gt;Rəşad&lt;/b&gt; &amp; &lt;Co"
    h.tg.members.add(rude.id)
    number = await h.register(chat_id=1001)
    await h.deliver()
    chat_id, card_id = await h.card_ref(number)

    def seen(html_text: str, line: str) -> None:
        assert f"{line} {escaped}" in html_text
        assert f"{line} {shown}" in parse_html(html_text).text  # as Telegram would show it

    await h.press_button(number, "Take", rude)
    await h.deliver()
    seen(h.card_text(chat_id, card_id), "Taken by")

    h.clock.advance(timedelta(hours=73))
    assert await h.runner.remind_overdue() == [number]
    await h.deliver()
    [reminder] = [r for r in h.tg.sent(chat_id) if "still open" in r.text]
    seen(reminder.text, "Taken by")

    await h.press_button(number, "Done", rude)
    prompt = h.last_prompt()
    prompt_html = h.card_text(chat_id, prompt.message_id)
    assert escaped in prompt_html and shown in parse_html(prompt_html).text
    await h.reply(prompt, rude, "Bağlandı.")
    await h.deliver()
    seen(h.card_text(chat_id, card_id), "Done by")
