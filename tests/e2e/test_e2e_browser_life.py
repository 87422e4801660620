"""Issue 19, "the whole life of a work order", on the sandbox page: headless Chromium clicks
where a person would, and the page is saved at each new step as
``test-artifacts/life-NN-<step>.png``.

A new English-speaking subscriber (made with the page's "New user" form) files a
restoration: the summary's Continue in the primary style, the confirmation's "Copy the
number" (the page says it copied). In the staff pane, Leyla (picked in the staff selector)
presses Take: Done (success style) and Reject (danger style), and the separate date prompt,
where she presses "Tomorrow, 09:00-13:00": the card's "Planned" line and the subscriber's
notice name that day. Done, answered with a photo (the staff pane's Photo button, the note as
its caption): the card shows the result and that a photo is attached; the subscriber is told
and asked whether the supply was really restored. No, with a comment: the staff group hears
that the order is reopened, with the comment. Done again (a typed note), Yes, 4 stars and a
comment: the card shows the rating, and Nigar (a support agent, picked in the person
selector) types /stats and reads Leyla's rating. Then a second application of the same
subscriber, withdrawn from the status section before anyone took it: the status view with
Withdraw, the confirmation (its button in the danger style), the card saying it is withdrawn.

The pictures, in order: 01 the summary, 02 the number copied and the new card, 03 Take and
the date prompt, 04 the planned day, 05 Done's prompt, 06 the photo and the question, 07 No
and the reopened message, 08 the reopened card, 09 Done again and the stars, 10 the rating on
the card, 11 the agent's /stats, 12 the second application's status with Withdraw, 13 the
confirmation, 14 the withdrawn card. Each pane is scrolled to its newest messages, or to the
card when it is the card that changed; what the picture must show is asserted in view.

Every step asserts what a person sees (texts from the catalogues through ``shown``, the
buttons' style classes), so the test fails when the product breaks, not only draws pictures.

Codes: every demo code is some other test's (the e2e tests share one sandbox), so the test
imports two subscribers of its own into the sandbox's registry first, as an operator's
``import-subscribers`` would: 100191 (suspended: a restoration) and 100192 (active), owner
FIN 4EMC19K. The staff member is Leyla, not Rauf: the citizen-word test counts Rauf's
ratings in /stats.
"""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date

from bot.staff.handlers import NOTE_MAX_LENGTH
from bot.staff.plan_texts import PLANNED_LINE, PLANNED_RESTORE
from bot.support.texts import STATS_RATING_LINE
from tests.e2e.harness import (
    APPLICATION_TITLE,
    ARTIFACTS,
    CONTINUE,
    DONE,
    FIN_PROMPT,
    LEYLA,
    NEW_APPLICATION,
    NIGAR,
    NOTICE_DONE,
    NOTICE_TAKEN,
    REGISTERED,
    STEP,
    TAKE,
    SandboxApp,
    import_own_subscribers,
    shown,
    template_regex,
)
from tests.e2e.test_e2e_browser import (  # the browser, as the first browser test has it
    CHROMIUM,
    CHROMIUM_ARGS,
    HAVE_CHROMIUM,
    PLAYWRIGHT_DEFAULT_MS,
    playwright,
)
from workflows.citizen import COMMENT_MAX_LENGTH

LOCALE = "en"  # the subscriber's
STAFF_LOCALE = "az"  # the staff group's and the agents'
CODE, SECOND_CODE, FIN = "100191", "100192", "4EMC19K"
STAFF_NAME = "Leyla Hüseynova"
WAIT_MS = 90_000  # the shared staff group gets at most 20 messages a minute

COPY_NUMBER = "📋 Copy the number"
REJECT = "❌ Reject"
DATE_PROMPT = "🗓 {name}, when will work order No. {number} be done?"
TODAY, TOMORROW = "Today, {hours}", "Tomorrow, {hours}"
ANOTHER_DATE = "📅 Another date"
DONE_PROMPT = (
    "✍️ {name}, reply to this message with the result note for work order "
    "No. {number}: what was done (up to {limit} characters)."
)
PHOTO_ATTACHED = "A photo is attached to the result."
ASKED = "Was your water supply actually restored?"
YES, NO = "✅ Yes", "❌ No"
SORRY = (
    "We are sorry. Please tell us in one short message what is wrong (up to "
    "{limit} characters), or press Skip: the application will be reopened."
)
REOPENED_TOLD = (
    "Your application No. {number} has been reopened and returned to the crew. "
    "We will let you know when it is done."
)
REOPENED = "Work order No. {number} is reopened: the subscriber says the work was not done."
REOPENED_LINE = "Reopened by the subscriber ({count}×)"
COMMENT_HEAD = "The subscriber's comment:"
RATE_ASKED = "Thank you! Please rate the work from 1 to 5:"
RATED_TOLD = (
    "Thank you for your rating: {stars}. If you wish, send a short comment "
    "(up to {limit} characters), or press Skip."
)
THANKS = "Thank you for your feedback!"
CONFIRMED = "The subscriber confirmed the work"
RATING = "Rating: {stars} ({rating}/5)"
WITHDRAW = "↩️ Withdraw the application"
WITHDRAW_ASKED = (
    "Withdraw application No. {number}?\n\nIf nobody has taken it into work yet, it is "
    "withdrawn at once. Otherwise the staff are asked to accept the withdrawal."
)
YES_WITHDRAW = "↩️ Yes, withdraw"
WITHDRAWN_TOLD = "↩️ Your application is withdrawn."
WITHDRAWN_CARD = "Withdrawn by the subscriber, {time}"
STATUS_TITLE = "<b>Your applications</b>, newest first:"
CHECK_STATUS = "Check the application's status"
MENU = "Choose what you want to do:"

REGISTRY = [
    (CODE, "suspended", "Bakı ş., Xətai r., Nobel pr. 19, m. 4"),
    (SECOND_CODE, "active", "Bakı ş., Xətai r., Nobel pr. 19, m. 5"),
]


def day_text_in(day: date, locale: str) -> str:
    """A planned day as the card and the notice name it (``8 dekabr``, ``8 December``)."""
    return format_date(day, "d MMMM", locale=locale)


def js_regex(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """A pattern Playwright can hand to JavaScript (no Python-only named groups)."""
    return re.compile(re.sub(r"\(\?P<\w+>", "(", pattern.pattern))


# The toast has faded in (a screenshot during its transition shows a ghost of it).
TOAST_SHOWN_JS = "() => getComputedStyle(document.getElementById('toast')).opacity > 0.9"

# Scroll a pane to its newest messages; with a message given, from that message's top down
# when the pane cannot show it together with the newest (a card edited in place).
SCROLL_JS = """([listId, messageId]) => {
  const list = document.getElementById(listId);
  const bottom = list.scrollHeight - list.clientHeight;
  const el = messageId ? list.querySelector('[data-message-id="' + messageId + '"]') : null;
  list.scrollTop = el ? Math.min(bottom, el.offsetTop - 8) : bottom;
}"""


@pytest.mark.browser
async def test_the_whole_life_of_a_work_order_on_the_page(
    sandbox_app: SandboxApp, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    if not HAVE_CHROMIUM:
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package `chromium`)")
    playwright_api = playwright()
    expect = playwright_api.expect
    expect.set_options(timeout=WAIT_MS)  # cards and notices go out through the outbox
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("life-*.png"):
        old.unlink()
    await import_own_subscribers(sandbox_app.database, tmp_path, FIN, REGISTRY)
    started = time.monotonic()
    shots: list[str] = []

    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(
            viewport={"width": 1600, "height": 1000},
            permissions=["clipboard-read", "clipboard-write"],
        )
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        user = page.get_by_test_id("user-messages")
        staff = page.get_by_test_id("staff-messages")
        bot_messages = user.locator('[data-testid="message"][data-from-bot="true"]')
        typing = page.get_by_test_id("user-input")
        staff_typing = page.get_by_test_id("staff-input")

        async def shot(
            name: str, *, user_at: Any = None, staff_at: Any = None, showing: Any = ()
        ) -> None:
            """The page as it is now, each pane at its newest messages or at a message (a
            card edited in place); ``showing``: what the picture must show."""
            for pane, message in (("user-messages", user_at), ("staff-messages", staff_at)):
                message_id = await message.get_attribute("data-message-id") if message else None
                await page.evaluate(SCROLL_JS, [pane, message_id])
            for shown_part in showing:
                await expect(shown_part).to_be_in_viewport()
            await page.mouse.move(1, 1)  # no button left in its hover colour
            path = ARTIFACTS / f"life-{len(shots) + 1:02d}-{name}.png"
            await page.screenshot(path=str(path))
            shots.append(path.name)

        async def type_in(text: str) -> None:
            await typing.fill(text)
            await typing.press("Enter")

        async def see(text: str | re.Pattern[str]) -> Any:
            await expect(bot_messages.last).to_contain_text(text)
            return bot_messages.last

        def button(widget: str) -> Any:  # the newest inline button of a dialog widget
            return user.locator(f'button[data-callback-data$="\\1d {widget}"]').last

        def pressing(data: str) -> Any:  # a button by its whole callback data
            return page.locator(f'button[data-callback-data="{data}"]')

        def staff_message(has: Any) -> Any:
            return staff.get_by_test_id("message").filter(has=has)

        async def by_id(pane: Any, message: Any) -> Any:
            """The message itself, by its id: it stays the same message when edited."""
            message_id = await message.get_attribute("data-message-id")
            return pane.locator(f'[data-testid="message"][data-message-id="{message_id}"]')

        async def styled(locator: Any, style: str) -> None:
            await expect(locator).to_have_class(re.compile(rf"\btg-style-{style}\b"))
            await expect(locator).to_have_attribute("data-style", style)

        async def file_an_application(code: str, description: str, *, first: bool) -> Any:
            """From START (or /start) to the summary, on the page; the summary's message."""
            if first:
                await page.get_by_test_id("user-start").click()
                await see(shown(FIN_PROMPT, LOCALE))
                await type_in(FIN)
            else:
                await type_in("/start")
                await see(shown(MENU, LOCALE))
            new = button("new_app")
            await expect(new).to_have_text(shown(NEW_APPLICATION, LOCALE))
            await new.click()
            await see(shown(STEP, LOCALE, step=1, total=7))
            await type_in(code)
            await see(shown(STEP, LOCALE, step=2, total=7))
            reasons = bot_messages.last.locator('button[data-callback-data*="\\1d reason:"]')
            await reasons.first.click()
            await see(shown(STEP, LOCALE, step=3, total=7))
            await page.get_by_test_id("reply-keyboard").locator("button.contact").click()
            await expect(page.get_by_test_id("alert-text")).to_contain_text("phone number")
            await page.get_by_test_id("alert-ok").click()
            await see(shown(STEP, LOCALE, step=4, total=7))
            await type_in("emma.clark@example.com")
            await see(shown(STEP, LOCALE, step=5, total=7))
            await type_in(description)
            await see(shown(STEP, LOCALE, step=6, total=7))
            await button("skip_notes").click()
            summary = await see(shown(STEP, LOCALE, step=7, total=7))
            await expect(summary).to_contain_text(code)
            return summary

        async def confirm() -> int:
            """Continue (the primary style) on the summary; the number the bot gives."""
            go = button("confirm")
            await expect(go).to_have_text(shown(CONTINUE, LOCALE))
            await styled(go, "primary")
            await go.click()
            registered = template_regex(REGISTERED, LOCALE, number=r"\d+")
            await see(js_regex(registered))
            found = registered.search(await bot_messages.last.inner_text())
            assert found is not None
            return int(found.group("number"))

        async def close_with_done(number: int, card: Any) -> Any:
            """Done on the card: the ForceReply prompt, the page's reply banner opened."""
            asked = shown(
                DONE_PROMPT, STAFF_LOCALE, name=STAFF_NAME, number=number, limit=NOTE_MAX_LENGTH
            )
            prompts = staff_message(page.get_by_text(asked))
            before = await prompts.count()
            await card.locator(f'button[data-callback-data="wo:done:{number}"]').click()
            await expect(prompts).to_have_count(before + 1)
            prompt = await by_id(staff, prompts.last)
            banner = page.get_by_test_id("staff-reply-banner")
            await expect(banner).to_be_visible()
            prompt_id = await prompt.get_attribute("data-message-id")
            await expect(banner).to_contain_text(f"#{prompt_id}")
            return prompt

        try:
            await page.goto(sandbox_app.web_url + "/")
            await expect(page.get_by_test_id("status")).to_contain_text("is connected")

            # --- a new subscriber, in English, made with the page's form
            await page.get_by_test_id("user-select").select_option("new")
            await page.get_by_test_id("new-user-name").fill("Emma")
            await page.get_by_test_id("new-user-lang").select_option(LOCALE)
            await page.get_by_test_id("new-user-create").click()
            await expect(page.get_by_test_id("user-start")).to_be_visible()
            await expect(page.get_by_test_id("user-info")).to_contain_text("lang en")
            subscriber = await page.get_by_test_id("user-select").input_value()
            # the staff member who presses, in the staff selector
            await page.get_by_test_id("staff-select").select_option(str(LEYLA))

            # 1. The summary with Continue (primary), the number with "Copy the number"
            summary = await file_an_application(
                CODE, "The house is lived in again: please restore the water.", first=True
            )
            go = button("confirm")
            await expect(summary.get_by_text(CODE)).to_be_visible()
            await shot("summary-continue", showing=[go])
            number = await confirm()
            registered = await by_id(user, bot_messages.last)
            copy = registered.get_by_test_id("copy-button")
            await expect(copy).to_have_text(shown(COPY_NUMBER, LOCALE))
            await expect(copy).to_have_attribute("title", f"Copies: {number}")

            # 2. The card in the staff group: Take, and Reject in the danger style
            take = pressing(f"wo:take:{number}")
            await expect(take).to_have_text(shown(TAKE, STAFF_LOCALE))
            card = await by_id(staff, staff_message(take))
            card_text = card.get_by_test_id("message-text")  # (not its earlier versions)
            await expect(card_text).to_contain_text(CODE)
            reject = card.locator(f'button[data-callback-data="wo:reject:{number}"]')
            await expect(reject).to_have_text(shown(REJECT, STAFF_LOCALE))
            await styled(reject, "danger")
            await copy.click()
            toast = page.get_by_test_id("toast")
            await expect(toast).to_have_text("Copied to clipboard")
            await expect(toast).to_have_class(re.compile(r"\bshow\b"))
            assert await page.evaluate("navigator.clipboard.readText()") == str(number)
            await page.wait_for_function(TOAST_SHOWN_JS)  # (it fades in)
            await shot("registered-copied-card", staff_at=card, showing=[copy, take])

            # Take: Done in the success style, Reject in the danger style, the date prompt
            await take.click()
            done = card.locator(f'button[data-callback-data="wo:done:{number}"]')
            await expect(done).to_have_text(shown(DONE, STAFF_LOCALE))
            await styled(done, "success")
            await styled(reject, "danger")
            await expect(take).to_have_count(0)
            choices = page.locator(f'button[data-callback-data^="wpl:{number}:"]')
            prompt = await by_id(staff, staff_message(choices))
            await expect(prompt.get_by_test_id("message-text")).to_have_text(
                shown(DATE_PROMPT, STAFF_LOCALE, name=STAFF_NAME, number=number)
            )
            # today or tomorrow, morning or afternoon, or another date
            labels = [
                shown(day, STAFF_LOCALE, hours=hours)
                for day in (TODAY, TOMORROW)
                for hours in ("09:00–13:00", "14:00–18:00")
            ]
            await expect(prompt.locator("button[data-callback-data]")).to_have_text(
                [*labels, shown(ANOTHER_DATE, STAFF_LOCALE)]
            )
            tomorrow = prompt.get_by_role(
                "button", name=shown(TOMORROW, STAFF_LOCALE, hours="09:00–13:00"), exact=True
            )
            taken = await see(shown(NOTICE_TAKEN, LOCALE, number=number))
            await shot("taken-date-prompt", staff_at=card, showing=[taken, done, tomorrow])

            # ... "Tomorrow, 09:00-13:00": the card's line, the subscriber's notice
            day_text = (await tomorrow.get_attribute("data-callback-data") or "").split(":")[2]
            day = date(int(day_text[:4]), int(day_text[4:6]), int(day_text[6:]))
            await tomorrow.click()
            hours = dict(start="09:00", end="13:00")
            planned = shown(
                PLANNED_LINE, STAFF_LOCALE, date=day_text_in(day, STAFF_LOCALE), **hours
            )
            planned_line = card_text.get_by_text(planned)
            told = await see(
                shown(PLANNED_RESTORE, LOCALE, date=day_text_in(day, LOCALE), **hours)
            )
            await shot("planned-tomorrow", staff_at=card, showing=[planned_line, told])

            # 3. Done with a photo: the prompt; the photo, as its reply, with the note
            done_prompt = await close_with_done(number, card)
            note = "Valve opened, seal removed"
            await staff_typing.fill(note)
            await shot("done-prompt", showing=[done_prompt, page.get_by_test_id("staff-photo")])
            await page.get_by_test_id("staff-photo").click()
            photo = staff_message(page.get_by_test_id("photo"))
            photo = await by_id(staff, photo.filter(has_text=note).last)
            await expect(photo.get_by_test_id("message-text")).to_have_text("🖼 Photo" + note)
            await expect(photo).to_have_attribute("data-from-bot", "false")
            await expect(photo.locator(".quote")).to_contain_text("Bot: ✍️ " + STAFF_NAME)
            await expect(card_text).to_contain_text(note)
            attached = card_text.get_by_text("📷 " + shown(PHOTO_ATTACHED, STAFF_LOCALE))
            await expect(attached).to_be_visible()
            await expect(card.locator('button[data-callback-data^="wo:"]')).to_have_count(0)
            notice = bot_messages.filter(has_text=shown(NOTICE_DONE, LOCALE, number=number))
            await expect(notice).to_contain_text(note)
            question = await by_id(user, await see(shown(ASKED, LOCALE)))
            yes, no = pressing(f"cz:y:{number}:0:0"), pressing(f"cz:n:{number}:0:0")
            await expect(yes).to_have_text(shown(YES, LOCALE))
            await expect(no).to_have_text(shown(NO, LOCALE))
            await shot("done-photo-asked", showing=[photo, attached, question, notice])

            # 4. No, and a comment: the order is reopened
            await no.click()
            await expect(question).to_contain_text(shown(SORRY, LOCALE, limit=COMMENT_MAX_LENGTH))
            comment = "Still no water in the kitchen"
            await type_in(comment)
            await see(shown(REOPENED_TOLD, LOCALE, number=number))
            reopened = staff_message(
                page.get_by_text(shown(REOPENED, STAFF_LOCALE, number=number))
            ).last
            await expect(reopened.get_by_test_id("message-text")).to_contain_text(comment)
            await expect(reopened.locator(".quote")).to_contain_text(
                shown("Work order No. {number}", STAFF_LOCALE, number=number)
            )
            await shot("no-comment-reopened", showing=[question, reopened])
            await expect(card_text).to_contain_text(shown(REOPENED_LINE, STAFF_LOCALE, count=1))
            await expect(card_text).to_contain_text(shown(COMMENT_HEAD, STAFF_LOCALE))
            await expect(card_text).to_contain_text(comment)
            await expect(done).to_be_visible()
            await styled(done, "success")
            await shot("reopened-card", staff_at=card, showing=[card_text.get_by_text(comment)])

            # 5. Done again (a typed note), Yes, 4 stars and a comment
            await close_with_done(number, card)
            note = "Valve fully opened, pressure checked"
            await staff_typing.fill(note)
            await staff_typing.press("Enter")
            await expect(card_text).to_contain_text(note)
            await expect(card_text).not_to_contain_text(shown(PHOTO_ATTACHED, STAFF_LOCALE))
            question = await by_id(user, await see(shown(ASKED, LOCALE)))
            await pressing(f"cz:y:{number}:1:0").click()
            await expect(question).to_contain_text(shown(RATE_ASKED, LOCALE))
            four = pressing(f"cz:r:{number}:1:4")
            await expect(four).to_have_text("4 ★")
            result = card_text.get_by_text(note)
            await shot("done-again-yes-rate", staff_at=card, showing=[four, result])
            await four.click()
            await expect(question).to_contain_text(
                shown(RATED_TOLD, LOCALE, stars="★★★★☆", limit=COMMENT_MAX_LENGTH)
            )
            await type_in("Quick and tidy, thank you")
            await see(shown(THANKS, LOCALE))
            await expect(card_text).to_contain_text("👍 " + shown(CONFIRMED, STAFF_LOCALE))
            rating = card_text.get_by_text(shown(RATING, STAFF_LOCALE, stars="★★★★☆", rating=4))
            await expect(card_text).to_contain_text("Quick and tidy, thank you")
            await shot("rated-card", staff_at=card, showing=[question, rating])

            # ... an agent's /stats shows the rating
            await page.get_by_test_id("user-select").select_option(str(NIGAR))
            await expect(page.get_by_test_id("user-role")).to_have_text("support agent")
            await type_in("/stats")
            line = shown(STATS_RATING_LINE, STAFF_LOCALE, name=STAFF_NAME, average="4.0", count=1)
            stats = await by_id(user, await see(line))
            await shot("agent-stats", user_at=stats, showing=[stats.get_by_text(line)])

            # 6. A second application, withdrawn from the status section before Take
            await page.get_by_test_id("user-select").select_option(subscriber)
            await file_an_application(SECOND_CODE, "Going abroad for the winter.", first=False)
            second = await confirm()
            take = pressing(f"wo:take:{second}")
            await expect(take).to_be_visible()
            card = await by_id(staff, staff_message(take))
            await type_in("/start")
            await see(shown(MENU, LOCALE))
            status = button("status")
            await expect(status).to_have_text(shown(CHECK_STATUS, LOCALE))
            await status.click()
            await see(shown(STATUS_TITLE, LOCALE))
            await button(f"app:{second}").click()
            detail = await by_id(user, await see(shown(APPLICATION_TITLE, LOCALE, number=second)))
            withdraw = button("to_withdraw")
            await expect(withdraw).to_have_text(shown(WITHDRAW, LOCALE))
            await expect(detail.get_by_test_id("copy-button")).to_have_attribute(
                "title", f"Copies: {second}"
            )
            await shot("status-withdraw", staff_at=card, showing=[withdraw, take])
            await withdraw.click()
            await see(shown(WITHDRAW_ASKED, LOCALE, number=second).split("\n")[0])
            yes = button("withdraw_yes")
            await expect(yes).to_have_text(shown(YES_WITHDRAW, LOCALE))
            await styled(yes, "danger")
            await shot("withdraw-confirm", staff_at=card, showing=[yes, take])
            await yes.click()
            told = await see(shown(WITHDRAWN_TOLD, LOCALE))
            withdrawn = shown(WITHDRAWN_CARD, STAFF_LOCALE, time="").strip(", ")
            card_text = card.get_by_test_id("message-text")
            await expect(card_text).to_contain_text(withdrawn)
            await expect(card.locator("button[data-callback-data]")).to_have_count(0)
            await shot(
                "withdrawn-card", staff_at=card, showing=[told, card_text.get_by_text(withdrawn)]
            )
            assert errors == [], errors
        except BaseException:
            failed = ARTIFACTS / "life-failed.png"
            await page.screenshot(path=str(failed))
            record_property("screenshot", str(failed))
            raise
        finally:
            await browser.close()
            expect.set_options(timeout=PLAYWRIGHT_DEFAULT_MS)
    record_property("screenshots", ", ".join(shots))
    print(f"{len(shots)} screenshots in {ARTIFACTS} in {time.monotonic() - started:.0f} s")
