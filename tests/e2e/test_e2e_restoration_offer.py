"""Issue 19, item 6, through the real bot process over the sandbox: a suspension filed with
"until when?" two days ahead, taken and done in the staff group; the scheduled job (every
15 s in the sandbox) offers the restoration; the one button opens the summary filled in, and
"Continue" files the restoration, whose card reaches the staff group.

User 700050 (English); subscriber 100193 (active, FIN 8RSB2QT), imported into the sandbox's
registry by this test only. The session's sandbox makes offers at any hour (conftest).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from dialogs.wording import fmt_day
from tests.e2e.harness import (
    ARTIFACTS,
    RAUF,
    Chat,
    Expect,
    SandboxApp,
    Telegram,
    card_action,
    confirm,
    fill_form,
    has_callback,
    has_text,
    has_widget,
    import_own_subscribers,
    shown,
)
from tests.e2e.test_e2e_browser import CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM
from workflows.clock import BAKU

CODE, FIN = "100193", "8RSB2QT"
ADDRESS = "Bakı ş., Xətai r., Nobel pr. 21, m. 1"
# The staff group is shared by every e2e test of the session and gets at most 20 messages a
# minute (Telegram's limit, held by the outbox): a message may queue behind the others'.
TIMEOUT = 90.0
OFFER_TIMEOUT = 90.0  # the job looks every 15 s; the outbox then sends


def the_done_prompt(number: int) -> Expect:
    return Expect(
        "the Done prompt", lambda m: bool(m.get("force_reply")) and str(number) in m["text"]
    )


async def test_until_date_then_one_press_on_the_offer_files_the_restoration(
    tg: Telegram, sandbox_app: SandboxApp, tmp_path: Path
) -> None:
    await import_own_subscribers(sandbox_app.database, tmp_path, FIN, [(CODE, "active", ADDRESS)])
    staff = int((await tg.config())["staff_chat_id"])
    chat = Chat(tg, 700050, locale="en")

    await fill_form(chat, code=CODE, fin=FIN)
    asked = shown("📅 <b>Until when should the water supply stay suspended?</b>", "en")
    await chat.press("ed_until", has_text(asked))
    day = datetime.now(BAKU).date() + timedelta(days=2)
    until = shown("Until: {until}", "en", until=fmt_day(day, "en"))
    await chat.send(day.strftime("%d.%m.%Y"), has_widget("ed_until") & has_text(until))
    suspension = await confirm(chat)

    card = await tg.wait(staff, card_action(suspension, "take"), timeout=TIMEOUT, last=None)
    await tg.press(RAUF, staff, card["message_id"], f"wo:take:{suspension}", wait=TIMEOUT)
    this_card = Expect("the card", lambda m: m["message_id"] == card["message_id"])
    done = card_action(suspension, "done")
    await tg.wait(staff, this_card & done, timeout=TIMEOUT, last=None)
    await tg.press(RAUF, staff, card["message_id"], f"wo:done:{suspension}", wait=TIMEOUT)
    prompt = await tg.wait(staff, the_done_prompt(suspension), last=None, timeout=TIMEOUT)
    sent = await tg.send_text(
        RAUF, "Valve closed", chat_id=staff, reply_to_message_id=prompt["message_id"]
    )
    assert sent["delivered"], sent

    offer = await tg.wait(
        chat.user_id, has_callback(f"ro:{suspension}"), timeout=OFFER_TIMEOUT, last=None
    )
    assert CODE in offer["text"] and "Nobel" not in offer["text"]  # city and district only
    await picture(sandbox_app, chat.user_id, "life-15-restoration-offer.png")
    await tg.press(chat.user_id, chat.user_id, offer["message_id"], f"ro:{suspension}")
    filled = await tg.wait(chat.user_id, has_widget("confirm"), timeout=TIMEOUT)
    assert CODE in filled["text"]
    assert str(suspension) in filled["text"]  # "Restoration after the temporary suspension № N"
    restoration = await confirm(chat)
    assert restoration != suspension
    await tg.wait(staff, card_action(restoration, "take"), timeout=TIMEOUT, last=None)
    await picture(sandbox_app, chat.user_id, "life-16-restoration-filed.png")


async def picture(sandbox_app: SandboxApp, user_id: int, name: str) -> None:
    """The page with this subscriber's chat, saved in test-artifacts/ when Chromium is here
    (the closing note's pictures of the offer); nothing without it."""
    if not HAVE_CHROMIUM:
        return
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1600, "height": 1000})
            await page.goto(sandbox_app.web_url + "/")
            await page.get_by_test_id("user-select").select_option(str(user_id))
            messages = page.get_by_test_id("user-messages").locator('[data-testid="message"]')
            await messages.last.wait_for()
            await page.evaluate(
                "() => { const l = document.getElementById('user-messages');"
                " l.scrollTop = l.scrollHeight; }"
            )
            await page.screenshot(path=str(ARTIFACTS / name))
        finally:
            await browser.close()
