"""The manual's scenarios against the real bot process, over the sandbox's HTTP API.

The bot is ``python bot.py`` without a token (fixture ``sandbox_app``): the real bot polls the
embedded Bot API server in its process, and the test plays the people through the sandbox's
control API (``sandbox.client.SandboxClient``), exactly as the page does. Each subscriber
waits for the bot's reply before the next step.

Scenarios: a registration gets a number (in English, and in Azerbaijani with the texts of
the az catalogue); a subscriber with a debt is stopped at step 1 with the pay link; the
staff card is taken and done in the staff group, and the subscriber gets the notices and
the e-mail; the status is found from the registered window, by number and by deep link;
a support agent asks for an application with ``/status``.

Users 7000xx; demo subscriber codes: one per test (an open application blocks its code).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.config import Settings
from dialogs.wording import fmt_money
from tests.e2e.harness import (
    APPLICATION_TITLE,
    CONTINUE,
    DEBT_WARNING,
    DONE,
    FIN_PROMPT,
    MAIL_DONE_SUBJECT,
    NEW_APPLICATION,
    NIGAR,
    NOTICE_DONE,
    NOTICE_TAKEN,
    PAY_THE_DEBT,
    RAUF,
    REGISTERED,
    TAKE,
    Chat,
    Expect,
    Telegram,
    button_for,
    card_action,
    confirm,
    fill_form,
    has_text,
    has_widget,
    inline_buttons,
    open_menu,
    register,
    shown,
    step,
)

# The staff group is shared by every e2e test of the session and gets at most 20 messages a
# minute (Telegram's limit, held by the outbox): a message may queue behind the others'.
CARD_TIMEOUT = 90.0


def staff_chat_id(config: dict[str, Any]) -> int:
    return int(config["staff_chat_id"])


async def test_registration_gets_a_number(tg: Telegram) -> None:
    chat = Chat(tg, 700001, locale="en")
    summary = await fill_form(
        chat, code="100001", email="aysel@example.com", description="Going abroad."
    )
    assert "100001" in summary["text"]
    assert "aysel@example.com" in summary["text"]
    assert "Going abroad." in summary["text"]

    number = await confirm(chat)

    assert number >= 1
    done = chat.seen[-1]
    assert done["text"] == shown(REGISTERED, "en", number=number)
    # the next subscriber gets another number
    other = Chat(tg, 700007, locale="en")
    assert await register(other, code="100015") != number


async def test_registration_in_azerbaijani_uses_the_az_catalogue(tg: Telegram) -> None:
    """Texts and labels are those of locales/az (the msgids while a text is untranslated)."""
    chat = Chat(tg, 700002, locale="az")
    first = await chat.send("/start", has_text(shown(FIN_PROMPT, "az")))
    assert "5ABC12D" in first["text"]
    menu = await chat.send("5abc12d", has_widget("new_app"))
    assert button_for(menu, "new_app")["text"] == shown(NEW_APPLICATION, "az")

    summary = await fill_form(chat, code="100006")
    assert button_for(summary, "confirm")["text"] == shown(CONTINUE, "az")
    number = await confirm(chat)

    assert chat.seen[-1]["text"] == shown(REGISTERED, "az", number=number)


async def test_debt_stops_at_step_1_with_the_pay_link(tg: Telegram) -> None:
    chat = Chat(tg, 700003, locale="en")
    await open_menu(chat)
    await chat.press("new_app", step(1, "en"))

    refused = await chat.send("100003", has_text(shown(DEBT_WARNING, "en")))

    assert step(1, "en")(refused), refused["text"]  # still the code step
    # the amount is told only to an account that proved the owner FIN (issue 16)
    amount = fmt_money(Decimal("12.50"))
    assert amount not in refused["text"] and "12.50" not in refused["text"]
    pay = next(b for b in inline_buttons(refused) if b.get("url"))
    template = Settings.model_fields["pay_url_template"].default
    assert pay == {
        "text": shown(PAY_THE_DEBT, "en"),
        "url": template.format(subscriber_code="100003"),
    }
    # tapping the button opens the link (no callback to the bot)
    tapped = await tg.click(chat.user_id, chat.user_id, pay["text"])
    assert tapped["url"] == pay["url"]

    again = await chat.press("recheck_code", has_text(shown(DEBT_WARNING, "en")))
    assert step(1, "en")(again)
    assert not has_widget("reason:")(again)


async def test_staff_take_done_notifies_the_subscriber_and_mails(tg: Telegram) -> None:
    config = await tg.config()
    staff = staff_chat_id(config)
    chat = Chat(tg, 700004, locale="en")
    email = "staff.flow@example.com"
    number = await register(chat, code="100008", email=email)

    # the card arrives in the staff group, in the staff language, with Take and Reject
    card = await tg.wait(staff, card_action(number, "take"), timeout=CARD_TIMEOUT, last=None)
    assert shown("Work order No. {number}", "az", number=number) in card["text"]
    assert "100008" in card["text"]
    assert card_action(number, "reject")(card)
    take = next(b for b in inline_buttons(card) if b["callback_data"] == f"wo:take:{number}")
    assert take["text"] == shown(TAKE, "az")
    this_card = Expect(
        f"card #{card['message_id']}", lambda m: m["message_id"] == card["message_id"]
    )

    answer = await tg.press(
        RAUF, staff, card["message_id"], f"wo:take:{number}", wait=CARD_TIMEOUT
    )
    assert answer["answered"], answer

    taken = await tg.wait(
        staff, this_card & card_action(number, "done"), timeout=CARD_TIMEOUT, last=None
    )
    assert not card_action(number, "take")(taken)
    assert next(
        b["text"] for b in inline_buttons(taken) if b["callback_data"] == f"wo:done:{number}"
    ) == shown(DONE, "az")
    await tg.wait(
        chat.user_id, has_text(shown(NOTICE_TAKEN, "en", number=number)), timeout=CARD_TIMEOUT
    )

    answer = await tg.press(
        RAUF, staff, card["message_id"], f"wo:done:{number}", wait=CARD_TIMEOUT
    )
    assert answer["answered"], answer
    prompt = await tg.wait(
        staff,
        Expect(
            "a ForceReply prompt answering the card",
            lambda m: bool(m.get("force_reply")) and m.get("reply_to") == card["message_id"],
        ),
        last=None,
    )
    assert str(number) in prompt["text"]
    note = "Valve closed, seal No. 0042"
    sent = await tg.send_text(RAUF, note, chat_id=staff, reply_to_message_id=prompt["message_id"])
    assert sent["delivered"], sent

    closed = await tg.wait(staff, this_card & has_text(note), timeout=CARD_TIMEOUT, last=None)
    assert not [b for b in inline_buttons(closed) if b.get("callback_data", "").startswith("wo:")]
    notice = await tg.wait(
        chat.user_id, has_text(shown(NOTICE_DONE, "en", number=number)), timeout=CARD_TIMEOUT
    )
    assert note in notice["text"]
    mail = await tg.wait_mail(
        lambda m: (
            email in m["to"] and m["subject"] == shown(MAIL_DONE_SUBJECT, "en", number=number)
        ),
        f"to {email} about No. {number}",
        timeout=CARD_TIMEOUT,
    )
    assert note in (mail["text"] or "")
    assert str(number) in (mail["html"] or "")


async def test_status_lookup(tg: Telegram) -> None:
    chat = Chat(tg, 700005, locale="en")
    number = await register(chat, code="100009")
    title = has_text(shown(APPLICATION_TITLE, "en", number=number))

    # from the "registered" window
    detail = await chat.press("to_status", title)
    assert "100009" in detail["text"]

    # from the menu: the list of my applications, then "Find by number"
    await chat.send("/start", has_widget("new_app"))
    listing = await chat.press("status", has_widget("to_lookup"))
    assert str(number) in "".join(b["text"] for b in inline_buttons(listing))
    await chat.press("to_lookup", has_text(shown("Type the application number:", "en")))
    found = await chat.send(str(number), title)
    assert "100009" in found["text"]

    # the deep link of the notices and the e-mails: /start status_<number>
    await chat.send(f"/start status_{number}", title)
    missing = shown("Application No. {number} was not found.", "en", number=987654)
    await chat.send("/start status_987654", has_text(missing))


async def test_agent_status_command(tg: Telegram) -> None:
    chat = Chat(tg, 700006, locale="en")
    number = await register(chat, code="100012", email="agent.case@example.com")

    sent = await tg.send_text(NIGAR, f"/status {number}")
    titles = {shown(APPLICATION_TITLE, loc, number=number) for loc in ("az", "ru", "en")}
    answer = await tg.wait(
        NIGAR,
        Expect(f"one of {titles}", lambda m: any(t in (m.get("text") or "") for t in titles)),
        after=sent["message"]["message_id"],
    )
    assert "100012" in answer["text"]
    assert "agent.case@example.com" in answer["text"]
