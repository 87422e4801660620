"""Issue 19, items 5 and 7, through the real bot process over the sandbox (whose Bot API spec
check refuses any request Telegram would refuse, styled buttons and ``copy_text`` included):
withdraw before Take (the card says so at once), then, with the code free again, after Take
(a request on the card, accepted by the staff); only the answer to the request follows it.

Users 700041 and 700042, code 100007 (owner FIN 2RST4UV; no other test uses it): each withdrawal frees the code again.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.harness import (
    APPLICATION_TITLE,
    RAUF,
    Chat,
    Expect,
    Telegram,
    button_for,
    card_action,
    confirm,
    fill_form,
    has_callback,
    has_text,
    has_widget,
    inline_buttons,
    shown,
)

CODE, FIN = "100007", "2RST4UV"  # suspended: restoration applications
# The staff group is shared by every e2e test of the session and gets at most 20 messages a
# minute (Telegram's limit, held by the outbox): a message may queue behind the others'.
TIMEOUT = 90.0
WITHDRAWN_NOTICE = "↩️ Your application No. {number} has been withdrawn, as you asked."


def on_card(card: dict[str, Any]) -> Expect:
    return Expect(f"card #{card['message_id']}", lambda m: m["message_id"] == card["message_id"])


def copies(message: dict[str, Any]) -> list[str]:
    return [b["copy_text"]["text"] for b in inline_buttons(message) if b.get("copy_text")]


async def registered(chat: Chat) -> int:
    summary = await fill_form(chat, code=CODE, fin=FIN)
    assert button_for(summary, "confirm").get("style") == "primary"
    number = await confirm(chat)
    assert copies(chat.seen[-1]) == [str(number)]
    return number


async def withdraw(chat: Chat, number: int, outcome: str) -> dict[str, Any]:
    title = has_text(shown(APPLICATION_TITLE, chat.locale, number=number))
    detail = await chat.press("to_status", title & has_widget("to_withdraw"))
    assert copies(detail) == [str(number)]
    await chat.press("to_withdraw", has_widget("withdraw_yes"))
    return await chat.press("withdraw_yes", has_text(shown(outcome, chat.locale)))


async def test_withdraw_before_and_after_take_over_the_sandbox(tg: Telegram) -> None:
    staff = int((await tg.config())["staff_chat_id"])
    chat = Chat(tg, 700041, locale="en")

    # Before Take: at once; the card says so and loses its buttons.
    first = await registered(chat)
    card = await tg.wait(staff, card_action(first, "take"), timeout=TIMEOUT, last=None)
    await withdraw(chat, first, "↩️ Your application is withdrawn.")
    withdrawn = shown("Withdrawn by the subscriber, {time}", "az", time="").strip(", ")
    closed = await tg.wait(staff, on_card(card) & has_text(withdrawn), timeout=TIMEOUT, last=None)
    assert not [b for b in inline_buttons(closed) if b.get("callback_data")]

    # The code is free again (another account, the per-user throttle apart); after Take
    # the press is a request the staff accept.
    chat = Chat(tg, 700042, locale="en")
    second = await registered(chat)
    card = await tg.wait(staff, card_action(second, "take"), timeout=TIMEOUT, last=None)
    answer = await tg.press(RAUF, staff, card["message_id"], f"wo:take:{second}", wait=TIMEOUT)
    assert answer["answered"], answer
    await tg.wait(staff, on_card(card) & card_action(second, "done"), timeout=TIMEOUT, last=None)
    taken_notice = shown("🛠 Your application No. {number} has been taken into work.", "en")
    await tg.wait(
        chat.user_id, has_text(taken_notice.format(number=second)), timeout=TIMEOUT, last=None
    )
    await chat.send("/start", has_widget("new_app"))
    await chat.press("status", has_widget("to_lookup"))
    await chat.press(f"app:{second}", has_widget("to_withdraw"))
    await chat.press("to_withdraw", has_widget("withdraw_yes"))
    await chat.press("withdraw_yes", has_text(shown("You asked to withdraw it", "en")))

    accept = f"wdr:accept:{second}"
    asked = await tg.wait(staff, on_card(card) & has_callback(accept), timeout=TIMEOUT, last=None)
    done, reject = inline_buttons(asked)[:2]
    assert (done.get("style"), reject.get("style")) == ("success", "danger")
    answer = await tg.press(RAUF, staff, card["message_id"], accept, wait=TIMEOUT)
    assert answer["answered"], answer
    await tg.wait(staff, on_card(card) & has_text(withdrawn), timeout=TIMEOUT, last=None)
    accepted = shown(WITHDRAWN_NOTICE, "en", number=second)
    await tg.wait(chat.user_id, has_text(accepted), timeout=TIMEOUT, last=None)

    # Nothing else reached the subscriber after the withdrawal (the card's edit, queued with
    # anything else, has gone out): the "taken" notice is the only one of the work.
    recent = await tg.recent(chat.user_id, last=None)
    heads = ("🛠", "✅", "❌")  # the notices of taken, done, rejected
    notices = [m for m in recent if (m.get("text") or "").startswith(heads)]
    assert len(notices) == 1, [n["text"] for n in notices]
    assert notices[0]["text"].startswith(taken_notice.format(number=second))
