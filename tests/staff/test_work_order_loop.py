"""The whole loop: a subscriber registers, the card appears in the staff group, a staff
member takes the order and closes it with a note, the card follows every step, and the
subscriber hears about it on Telegram and by e-mail (through a real SMTP server)."""

from __future__ import annotations

from email.message import EmailMessage as MimeMessage

from sqlalchemy import select

from storage.models import OutboxRow
from tests.outbox.harness import STAFF_A, Harness
from tests.staff.conftest import Inbox
from workflows.outbox.records import OutboxStatus


def _parts(mail: MimeMessage) -> tuple[str, str]:
    plain = mail.get_body(preferencelist=("plain",))
    rich = mail.get_body(preferencelist=("html",))
    assert plain is not None and rich is not None
    return plain.get_content(), rich.get_content()


async def test_register_take_done_notifies_everyone(h: Harness, smtp: tuple[Inbox, int]) -> None:
    inbox, _port = smtp
    number = await h.register(locale="ru", chat_id=1001)
    await h.deliver()

    # the card, with the user's text escaped, and Take/Reject buttons
    chat_id, card_id = await h.card_ref(number)
    assert chat_id == h.staff_chat_id
    text = h.card_text(chat_id, card_id)
    assert f"Work order No. {number}" in text
    assert "&lt;b&gt;axşam&lt;/b&gt; &amp; sonra" in text
    assert "Reason: Temporary absence (travel, posting)" in text  # STAFF_LOCALE=en
    card = await h.card(number)
    assert [b.text for b in card.reply_markup.inline_keyboard[0]] == ["🛠 Take", "❌ Reject"]

    answer = await h.press_button(number, "Take", STAFF_A)
    assert answer.text == f"You took work order No. {number}."
    await h.deliver()
    text = h.card_text(chat_id, card_id)
    assert "Taken by Elvin Məmmədov" in text
    notices = h.tg.sent(1001)
    assert len(notices) == 1
    assert "принята в работу" in notices[0].text

    answer = await h.press_button(number, "Done", STAFF_A)
    assert "result note" in answer.text
    prompt = h.last_prompt()
    await h.reply(prompt, STAFF_A, "Su bağlandı, plomb vuruldu.")
    await h.deliver()

    text = h.card_text(chat_id, card_id)
    assert "Done by Elvin Məmmədov" in text
    assert "Su bağlandı, plomb vuruldu." in text
    assert (await h.card(number)).reply_markup is None
    notices = h.tg.sent(1001)
    assert len(notices) == 3  # taken, done, and the question whether it was
    assert "Was your water supply actually suspended?" in notices[2].text
    assert "выполнена" in notices[1].text and "Su bağlandı" in notices[1].text
    button = notices[1].method.reply_markup.inline_keyboard[0][0]
    assert button.text == "Проверить статус заявки"
    assert button.url == f"https://t.me/azersu_test_bot?start=status_{number}"

    assert len(inbox.received) == 1
    mail = inbox.received[0]
    assert mail["Subject"] == f"Заявка № {number} выполнена"
    assert mail["X-Envelope-To"] == "abonent@example.com"
    plain, rich = _parts(mail)
    for body in (plain, rich):
        assert "Уважаемый абонент" in body
        assert "Su bağlandı, plomb vuruldu." in body
        assert f"start=status_{number}" in body
        assert "e-gov.az" in body
        # Number, status and result only: not the reason for the application (issue 17).
        assert "Временное отсутствие" not in body and "Temporary absence" not in body
    # The note as the crew typed it, labelled as theirs in the subscriber's language.
    assert "Примечание бригады:\n> Su bağlandı, plomb vuruldu." in plain.replace("\r\n", "\n")
    async with h.services.transactions.session_factory() as session:
        statuses = set(await session.scalars(select(OutboxRow.status)))
    assert statuses == {OutboxStatus.SENT}


async def test_register_reject_sends_the_reason(h: Harness, smtp: tuple[Inbox, int]) -> None:
    inbox, _port = smtp
    number = await h.register(locale="az", chat_id=1002, email="sakin@example.az")
    await h.deliver()
    chat_id, card_id = await h.card_ref(number)

    answer = await h.press_button(number, "Reject", STAFF_A)  # straight from "registered"
    assert "reason" in answer.text
    await h.reply(h.last_prompt(), STAFF_A, "Ünvan <səhvdir> & abonent tapılmadı.")
    await h.deliver()

    text = h.card_text(chat_id, card_id)
    assert "Rejected by Elvin Məmmədov" in text
    assert (
        "Reason for rejection:\n<blockquote>Ünvan &lt;səhvdir&gt; &amp; abonent tapılmadı."
        "</blockquote>" in text
    )
    assert (await h.card(number)).reply_markup is None
    notices = h.tg.sent(1002)
    assert len(notices) == 1  # no "taken" notice: it was never taken
    assert "Ünvan &lt;səhvdir&gt;" in notices[0].method.text
    assert (
        notices[0].method.reply_markup.inline_keyboard[0][0].text == "Müraciətin statusunu yoxla"
    )

    assert len(inbox.received) == 1
    mail = inbox.received[0]
    assert mail["Subject"] == f"Müraciət № {number} rədd edildi"
    plain, rich = _parts(mail)
    assert "Hörmətli abunəçi" in plain and "Hörmətli abunəçi" in rich
    assert "> Ünvan <səhvdir> & abonent tapılmadı." in plain
    assert "Ünvan &lt;səhvdir&gt; &amp; abonent tapılmadı.</blockquote>" in rich
    assert "Müvəqqəti olmama" not in plain  # not the reason for the application (issue 17)
    assert f"start=status_{number}" in rich and "www.e-gov.az" in rich
    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None
    assert [e.kind.value for e in app.events] == ["registered", "rejected"]
    assert app.events[-1].actor.startswith(f"staff:{STAFF_A.id}:")
