"""Issue 17: free text cannot forge structure, from every entry point to every surface.

The registry's address comes from a CSV import, the description and notes from the form's
parser, the staff member's name from Telegram, the result and the reason for rejection as
replies in the staff group: each one forged (tests/inert.py). The card, the reminder, the
subscriber's notices and the completion e-mail must show all of it inert, and the e-mail,
which goes to whatever address was typed, must hold nothing personal.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage as MimeMessage
from pathlib import Path

from aiogram.types import User

from bot.staff.access import display_name
from storage.subscribers_import import import_subscribers
from tests.inert import FAKE_LINE, assert_clean, assert_inert_email, assert_inert_telegram, forged
from tests.outbox.harness import FIN, Harness
from tests.staff.conftest import Inbox
from tests.storage.registry_files import HEADER_LINE, write_csv
from workflows.models import Draft
from workflows.values import NAME_MAX_LENGTH, parse_text

CODE = "990001"
PHONE = "+994501234567"
ADDRESS = "Bakı ş., Nəsimi r., Azadlıq pr. 12, m. 5"
SUBSCRIBER = 1001
# A staff member whose Telegram name tries the same tricks.
FORGER = User(id=509, is_bot=False, first_name="Elvin\u202e", last_name=forged("Adı"))


async def _register(h: Harness, tmp_path: Path, *, notes: bool = True) -> int:
    """An application as the bot stores it: the address through the CSV import, the
    description and notes through the form's parser."""
    csv = write_csv(
        tmp_path,
        HEADER_LINE,
        f'{CODE},{FIN},true,0.00,active,"{ADDRESS}\r\n{forged("Ünvan")}"',
        name="forged.csv",
    )
    await import_subscribers(h.services.engine, csv)
    draft = Draft(
        fin=FIN,
        subscriber_code=CODE,
        reason_code="absence",
        phone=PHONE,
        email="abonent@example.com",
        description=parse_text(forged("Təsvir")) or "",
        notes=parse_text(forged("Qeyd"), required=False) if notes else None,
        locale="en",
        telegram_user_id=SUBSCRIBER,
        chat_id=SUBSCRIBER,
    )
    return await h.services.journey.submit(draft)


def _parts(mail: MimeMessage) -> tuple[str, str]:
    plain = mail.get_body(preferencelist=("plain",))
    rich = mail.get_body(preferencelist=("html",))
    assert plain is not None and rich is not None
    # The line ends of the mail's transfer (CRLF) are not the bot's.
    return plain.get_content().replace("\r\n", "\n"), rich.get_content().replace("\r\n", "\n")


def _assert_nothing_personal(plain: str, rich: str) -> None:
    for body in (plain, rich):
        for personal in (FIN, PHONE, "050 123 45 67", "501234567", ADDRESS, "Nəsimi", "Ünvan"):
            assert personal not in body, personal
        assert CODE not in body  # not personal, but of no use to a wrong recipient


def test_staff_names_are_single_line_text() -> None:
    name = display_name(FORGER)
    assert_clean(name)
    assert "\n" not in name and name.startswith("Elvin Adı ") and FAKE_LINE in name
    long = User(id=7, is_bot=False, first_name="Ə" * 64, last_name="\u200b" * 64 + "ə" * 200)
    assert len(display_name(long)) == NAME_MAX_LENGTH and display_name(long).endswith("…")
    nothing = User(id=8, is_bot=False, first_name="\u202e\u2066", last_name="\n\u200b")
    assert display_name(nothing) == "8"


async def test_forged_text_is_inert_from_card_to_email(
    h: Harness, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, _port = smtp
    h.tg.members.add(FORGER.id)
    number = await _register(h, tmp_path)
    await h.deliver()
    chat_id, card_id = await h.card_ref(number)
    card = h.card_text(chat_id, card_id)
    assert_inert_telegram(card, quoted=("Təsvir", "Qeyd"))
    assert "Address: Bakı ş., Nəsimi r., Azadlıq pr. 12, m. 5 Ünvan enoD :sutatS" in card

    await h.press_button(number, "Take", FORGER)
    await h.deliver()
    card = h.card_text(chat_id, card_id)
    assert_inert_telegram(card, quoted=("Təsvir", "Qeyd"))
    assert "Taken by Elvin Adı enoD :sutatS" in card

    await h.press_button(number, "Done", FORGER)
    prompt = h.last_prompt()
    assert_inert_telegram(h.card_text(chat_id, prompt.message_id))  # it names the presser
    await h.reply(prompt, FORGER, forged("Nəticə"))
    await h.deliver()
    card = h.card_text(chat_id, card_id)
    assert_inert_telegram(card, quoted=("Təsvir", "Qeyd", "Nəticə"))
    assert "Done by Elvin Adı" in card

    taken, done, _question = h.tg.sent(SUBSCRIBER)  # then the citizen's question
    assert_inert_telegram(taken.text)
    assert_inert_telegram(done.text, quoted=("Nəticə",))

    [mail] = inbox.received
    plain, rich = _parts(mail)
    assert_inert_email(plain, rich, quoted=("Nəticə",))
    _assert_nothing_personal(plain, rich)
    assert f"No. {number}" in plain and "Status: Completed" in plain
    assert "\n> Status: Done\n" in plain  # the staff's text, quoted


async def test_forged_reason_for_rejection_is_inert(
    h: Harness, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, _port = smtp
    h.tg.members.add(FORGER.id)
    number = await _register(h, tmp_path, notes=False)
    await h.deliver()
    chat_id, card_id = await h.card_ref(number)

    await h.press_button(number, "Reject", FORGER)
    await h.reply(h.last_prompt(), FORGER, forged("Səbəb"))
    await h.deliver()

    card = h.card_text(chat_id, card_id)
    assert_inert_telegram(card, quoted=("Təsvir", "Səbəb"))
    assert "Reason for rejection:\n<blockquote>Səbəb enoD :sutatS" in card
    [notice] = h.tg.sent(SUBSCRIBER)
    assert_inert_telegram(notice.text, quoted=("Səbəb",))
    [mail] = inbox.received
    plain, rich = _parts(mail)
    assert_inert_email(plain, rich, quoted=("Səbəb",))
    _assert_nothing_personal(plain, rich)
    assert "Status: Rejected" in plain


async def test_the_reminder_names_a_forged_staff_member_inertly(
    h: Harness, tmp_path: Path
) -> None:
    h.tg.members.add(FORGER.id)
    number = await _register(h, tmp_path)
    await h.deliver()
    await h.press_button(number, "Take", FORGER)
    await h.deliver()
    h.clock.advance(timedelta(hours=73))
    assert await h.runner.remind_overdue() == [number]
    await h.deliver()
    [reminder] = [r for r in h.tg.sent(h.staff_chat_id) if "still open" in r.text]
    assert_inert_telegram(reminder.text)
    assert "Taken by Elvin Adı enoD :sutatS" in reminder.text
