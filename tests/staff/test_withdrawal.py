"""Issue 19, item 5, through the staff group and the real outbox: the card says "withdrawn"
at once before Take; after Take it carries the request with Accept and Decline; nothing is
sent to the subscriber for a withdrawn order after its withdrawal but the answer to their
request. Item 7: the card's
Done/Reject styles pass the sandbox's Bot API spec check."""

from __future__ import annotations

from sqlalchemy import select

from bot.staff.render import card_keyboard
from dialogs.wording import translator
from storage.models import OutboxRow
from tests.dialogs.helpers import check_markup
from tests.outbox.harness import STAFF_A, STAFF_B, Harness
from workflows.models import ApplicationStatus, StaffMember
from workflows.outbox.records import OutboxKind, OutboxStatus
from workflows.withdrawal import DROPPED_NOTE, Withdrawals, WithdrawOutcome

SUBSCRIBER = 1001


def withdrawals(h: Harness) -> Withdrawals:
    s = h.services
    return Withdrawals(s.journey, s.transactions, s.clock, s.staff_chat_id)


async def rows_of(h: Harness, number: int) -> list[OutboxRow]:
    async with h.services.transactions.session_factory() as session:
        found = await session.scalars(
            select(OutboxRow).where(OutboxRow.application_number == number).order_by(OutboxRow.id)
        )
        return list(found)


async def test_withdrawn_before_take_the_card_says_so_and_loses_its_buttons(h: Harness) -> None:
    number = await h.register(locale="ru", chat_id=SUBSCRIBER)
    await h.deliver()
    chat_id, card_id = await h.card_ref(number)

    assert await withdrawals(h).withdraw(SUBSCRIBER, number) is WithdrawOutcome.WITHDRAWN
    await h.deliver()

    assert "Withdrawn by the subscriber" in h.card_text(chat_id, card_id)
    assert (await h.card(number)).reply_markup is None
    assert h.tg.sent(SUBSCRIBER) == []  # the subscriber saw it in the dialog
    answer = await h.press(await h.card(number), f"wo:take:{number}", STAFF_A)
    assert "withdrawn by the subscriber" in answer.text


async def test_withdrawal_request_after_take_is_accepted_and_nothing_more_is_sent(
    h: Harness,
) -> None:
    number = await h.register(locale="ru", chat_id=SUBSCRIBER)
    await h.deliver()
    chat_id, card_id = await h.card_ref(number)
    await h.press_button(number, "Take", STAFF_A)
    # The request comes before the "taken" notice went out.
    flow = withdrawals(h)
    assert await flow.withdraw(SUBSCRIBER, number) is WithdrawOutcome.REQUESTED
    assert await flow.withdraw(SUBSCRIBER, number) is WithdrawOutcome.ALREADY_REQUESTED

    # Accepted before the outbox ran (the edited card's button sends exactly this).
    answer = await h.press(await h.card(number), f"wdr:accept:{number}", STAFF_B)
    assert answer.text == f"Work order No. {number} is withdrawn."
    await h.deliver()

    assert "Withdrawn by the subscriber" in h.card_text(chat_id, card_id)
    assert (await h.card(number)).reply_markup is None
    # The "taken" notice was dropped; the one message after the withdrawal is its answer.
    [told] = h.tg.sent(SUBSCRIBER)
    assert f"Your application No. {number} has been withdrawn, as you asked." in told.text
    assert "open /menu" in told.text  # what to do if it is needed after all
    rows = await rows_of(h, number)
    notices = [(r.status, r.last_error) for r in rows if r.kind == OutboxKind.NOTICE]
    assert notices == [(OutboxStatus.FAILED, DROPPED_NOTE), (OutboxStatus.SENT, None)]
    assert {r.status for r in rows if r.kind != OutboxKind.NOTICE} == {OutboxStatus.SENT}
    async with h.services.transactions() as uow:
        app = await uow.applications.get(number)
    assert app is not None and app.status is ApplicationStatus.WITHDRAWN
    assert await flow.withdraw(SUBSCRIBER, number) is WithdrawOutcome.CLOSED


async def test_withdrawal_request_shown_on_the_card_and_declined(h: Harness) -> None:
    number = await h.register(locale="ru", chat_id=SUBSCRIBER)
    await h.deliver()
    chat_id, card_id = await h.card_ref(number)
    await h.press_button(number, "Take", STAFF_A)
    await h.deliver()
    await withdrawals(h).withdraw(SUBSCRIBER, number)
    await h.deliver()

    assert "The subscriber asks to withdraw this application" in h.card_text(chat_id, card_id)
    card = await h.card(number)
    assert card.reply_markup is not None
    labels = [[b.text for b in row] for row in card.reply_markup.inline_keyboard]
    assert labels == [["✅ Done", "❌ Reject"], ["↩️ Accept withdrawal", "Decline withdrawal"]]

    answer = await h.press_button(number, "Decline withdrawal", STAFF_A)
    assert "declined" in answer.text
    await h.deliver()

    assert "Withdrawal declined" in h.card_text(chat_id, card_id)
    labels = [[b.text for b in row] for row in (await h.card(number)).reply_markup.inline_keyboard]
    assert labels == [["✅ Done", "❌ Reject"]]
    notices = h.tg.sent(SUBSCRIBER)
    assert len(notices) == 2  # taken, then the decline
    assert f"declined the withdrawal of your application No. {number}" in notices[1].text
    again = await h.press(card, f"wdr:accept:{number}", STAFF_A)  # the old button
    assert "no withdrawal request" in again.text


async def test_card_buttons_are_styled_and_pass_the_spec_check(h: Harness) -> None:
    number = await h.register(locale="ru", chat_id=SUBSCRIBER)
    await h.deliver()
    await h.press_button(number, "Take", STAFF_A)
    await withdrawals(h).withdraw(SUBSCRIBER, number)
    async with h.services.transactions() as uow:
        app = await uow.applications.get(number)
    assert app is not None

    markup = card_keyboard(app, translator(h.i18n, "en"))

    assert markup is not None
    done, reject = markup.inline_keyboard[0]
    assert (done.style, reject.style) == ("success", "danger")
    check_markup(markup)


async def test_a_notice_claimed_before_the_withdrawal_is_not_sent(h: Harness) -> None:
    """A row a dispatcher held while the withdrawal committed (so not dropped) is rendered
    from the order as it is then: withdrawn, so nothing goes to the subscriber."""
    number = await h.register(locale="ru", chat_id=SUBSCRIBER)
    await h.deliver()
    await h.press_button(number, "Take", STAFF_A)
    flow = withdrawals(h)
    await flow.withdraw(SUBSCRIBER, number)
    await flow.accept(number, h_staff())
    async with h.services.transactions.session_factory() as session:  # as if still pending
        row = await session.scalar(
            select(OutboxRow).where(
                OutboxRow.application_number == number, OutboxRow.kind == OutboxKind.NOTICE
            )
        )
        assert row is not None
        row.status, row.last_error = OutboxStatus.PENDING, None
        await session.commit()

    await h.deliver()

    [told] = h.tg.sent(SUBSCRIBER)  # the answer to the request, not the stale "taken"
    assert "has been withdrawn, as you asked" in told.text
    notices = [r for r in await rows_of(h, number) if r.kind == OutboxKind.NOTICE]
    assert [r.status for r in notices] == [OutboxStatus.SENT, OutboxStatus.SENT]


def h_staff() -> StaffMember:
    return StaffMember(user_id=STAFF_B.id, name="Aysel")


async def test_a_withdrawn_code_may_be_applied_for_again(h: Harness) -> None:
    number = await h.register(locale="ru", chat_id=SUBSCRIBER)
    await withdrawals(h).withdraw(SUBSCRIBER, number)
    async with h.services.transactions() as uow:
        app = await uow.applications.get(number)
        assert app is not None
        assert await uow.applications.open_number(app.subscriber_code) is None
