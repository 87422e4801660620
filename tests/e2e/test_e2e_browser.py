"""A person on the sandbox page: headless Chromium drives ``python bot.py`` (no token).

The subscriber pane is used as a person would: START, type the FIN, press "Create a new
application", type the code, press a reason, share the number from the reply keyboard (and
confirm, as Telegram asks), type the e-mail and the description, Skip, Continue, and read the
number. Then the staff pane: Take on the card, Done, the note typed as the reply the
ForceReply prompt opens; the e-mail pane shows the completion e-mail; and the subscriber
presses the notice's status link (a ``t.me/<bot>?start=status_N`` URL button), which sends
``/start status_N`` and lands on the status view.

A support agent is picked in the same selector: her command menu is the agents', ``/status N``
shows the application; a staff member who is an agent gets it in the staff group too. The page
at 1280x720 cuts no card and does not scroll; at 420 px it shows one pane at a time, with tabs.

Screenshots (also when a test fails) are saved under ``test-artifacts/`` at the repository
root (ignored by git): the whole journey, the agent's chat, the page at 1280x720 and at 420 px.

Browser: Debian's ``chromium`` (``.ci/run`` installs it when missing), driven by Playwright
for Python with ``executable_path``; skipped when there is no ``/usr/bin/chromium`` (or
``PLAYWRIGHT_CHROMIUM_EXECUTABLE``). Buttons are found by their callback data (the widget id
of the dialog, ``wo:<action>:<number>`` on cards) and their labels checked against the
catalogues, so the test holds whatever language the catalogues are in.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    APPLICATION_TITLE,
    ARTIFACTS,
    DONE,
    FIN_PROMPT,
    LEYLA,
    MAIL_DONE_SUBJECT,
    NEW_APPLICATION,
    NIGAR,
    NOTICE_DONE,
    REGISTERED,
    STEP,
    TAKE,
    Chat,
    SandboxApp,
    Telegram,
    register,
    shown,
    template_regex,
)


def playwright() -> Any:
    """Playwright's async API; a skip (a failure under CI=true) when it is not installed."""
    return pytest.importorskip("playwright.async_api")


CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HAVE_CHROMIUM = Path(CHROMIUM).exists()
JOHN = "610000003"  # the page's English-speaking preset subscriber
JOHNS_FIN = "7KQ2M9X"  # owner of 100014 in the demo registry
LOCALE = "en"
STAFF_LOCALE = "az"
WAIT_MS = 30_000
PLAYWRIGHT_DEFAULT_MS = 5_000


def step_text(number: int) -> str:
    return shown(STEP, LOCALE, step=number, total=7)


@pytest.mark.browser
async def test_registration_and_done_on_the_page(
    sandbox_app: SandboxApp, record_property: pytest.RecordProperty
) -> None:
    if not HAVE_CHROMIUM:
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package `chromium`)")
    playwright_api = playwright()
    expect = playwright_api.expect
    expect.set_options(timeout=WAIT_MS)  # the card goes out through the outbox
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "e2e-browser.png"

    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1600, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            await page.goto(sandbox_app.web_url + "/")
            await page.get_by_test_id("user-select").select_option(JOHN)
            user = page.get_by_test_id("user-messages")
            bot_messages = user.locator('[data-testid="message"][data-from-bot="true"]')
            typing = page.get_by_test_id("user-input")

            async def type_in(text: str) -> None:
                await typing.fill(text)
                await typing.press("Enter")

            async def see(text: str) -> None:
                await expect(bot_messages.last).to_contain_text(text)

            def button(widget: str):  # the newest inline button of a dialog widget
                return user.locator(f'button[data-callback-data$="\\1d {widget}"]').last

            await page.get_by_test_id("user-start").click()
            await see(shown(FIN_PROMPT, LOCALE))
            await type_in(JOHNS_FIN)
            new = button("new_app")
            await expect(new).to_have_text(shown(NEW_APPLICATION, LOCALE))
            await new.click()
            await see(step_text(1))
            await type_in("100014")
            await see(step_text(2))
            await user.locator('button[data-callback-data*="\\1d reason:"]').first.click()
            await see(step_text(3))
            share = page.get_by_test_id("reply-keyboard").locator("button.contact")
            await share.click()
            # Like Telegram's apps, the page asks before the number goes to the bot.
            await expect(page.get_by_test_id("alert-text")).to_contain_text("phone number")
            await page.get_by_test_id("alert-ok").click()
            await see(step_text(4))
            await type_in("john.smith@example.com")
            await see(step_text(5))
            await type_in("Summer house closed for the winter.")
            await see(step_text(6))
            await button("skip_notes").click()
            await see(step_text(7))
            await button("confirm").click()
            registered = template_regex(REGISTERED, LOCALE, number=r"\d+")
            # (Playwright evaluates the regex in JavaScript: no Python-only named groups)
            in_js = re.compile(registered.pattern.replace("(?P<number>", "("))
            await expect(bot_messages.last).to_contain_text(in_js)
            found = registered.search(await bot_messages.last.inner_text())
            assert found is not None
            number = int(found.group("number"))

            staff = page.get_by_test_id("staff-messages")
            take_button = f'button[data-callback-data="wo:take:{number}"]'
            take = staff.locator(take_button)
            await expect(take).to_have_text(shown(TAKE, STAFF_LOCALE))
            card = staff.get_by_test_id("message").filter(has=page.locator(take_button))
            card_id = await card.get_attribute("data-message-id")
            card = staff.locator(f'[data-testid="message"][data-message-id="{card_id}"]')
            await take.click()
            done = staff.locator(f'button[data-callback-data="wo:done:{number}"]')
            await expect(done).to_have_text(shown(DONE, STAFF_LOCALE))
            await done.click()
            await expect(page.get_by_test_id("staff-reply-banner")).to_be_visible()
            note = "Valve closed at the meter well"
            await page.get_by_test_id("staff-input").fill(note)
            await page.get_by_test_id("staff-input").press("Enter")
            await expect(card).to_contain_text(note)
            await expect(card.locator('button[data-callback-data^="wo:"]')).to_have_count(0)

            subject = shown(MAIL_DONE_SUBJECT, LOCALE, number=number)
            mail = page.get_by_test_id("mail-item").filter(
                has=page.get_by_test_id("mail-subject").get_by_text(subject, exact=True)
            )
            await expect(mail).to_contain_text("john.smith@example.com")
            await mail.locator("button.head").click()
            await expect(mail.get_by_test_id("mail-text")).to_contain_text(note)

            # The notice's status link is a t.me URL button: Telegram sends /start status_N.
            notice = bot_messages.filter(has_text=shown(NOTICE_DONE, LOCALE, number=number))
            link = notice.get_by_test_id("url-button")
            assert await link.get_attribute("data-url") == (
                f"https://t.me/azersu_sandbox_bot?start=status_{number}"
            )
            await link.click()
            mine = user.locator('[data-testid="message"][data-from-bot="false"]')
            await expect(mine.last.get_by_test_id("message-text")).to_have_text(
                f"/start status_{number}"
            )
            await see(shown(APPLICATION_TITLE, LOCALE, number=number))
            assert errors == [], errors
        finally:
            await page.screenshot(path=str(screenshot), full_page=True)
            record_property("screenshot", str(screenshot))
            print(f"screenshot: {screenshot}")
            await browser.close()
            expect.set_options(timeout=PLAYWRIGHT_DEFAULT_MS)


# Every message inside its list's width, and the page itself not scrolling.
LAYOUT_JS = """() => {
  const cut = [];
  for (const list of document.querySelectorAll('.messages')) {
    if (!list.offsetParent) continue;
    const box = list.getBoundingClientRect();
    for (const m of list.querySelectorAll('[data-testid="message"]')) {
      const r = m.getBoundingClientRect();
      if (r.left < box.left - 1 || r.right > box.right + 1) cut.push(m.id);
    }
  }
  const d = document.documentElement;
  return {cut, width: d.scrollWidth, height: d.scrollHeight,
          staff: document.getElementById('staff-messages').clientHeight};
}"""


@pytest.mark.browser
async def test_an_agent_and_the_two_layouts_on_the_page(
    sandbox_app: SandboxApp, tg: Telegram, record_property: pytest.RecordProperty
) -> None:
    if not HAVE_CHROMIUM:
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package `chromium`)")
    playwright_api = playwright()
    expect = playwright_api.expect
    expect.set_options(timeout=WAIT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    # John's code, with his FIN: the registry names him as its owner
    number = await register(Chat(tg, 700011, locale="en"), code="100013", fin="7KQ2M9X")
    title = shown(APPLICATION_TITLE, STAFF_LOCALE, number=number)  # the agents speak az

    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        shot = ARTIFACTS / "e2e-browser-agent-failed.png"
        try:
            await page.goto(sandbox_app.web_url + "/")
            # The agent in the person selector; her private chat has the agents' menu.
            await page.get_by_test_id("user-select").select_option(str(NIGAR))
            await expect(page.get_by_test_id("user-role")).to_have_text("support agent")
            await page.get_by_test_id("user-commands").click()
            menu = page.get_by_test_id("user-commands-menu").locator(".cmd")
            await expect(menu.first).to_have_text("/status")
            assert (await menu.all_inner_texts())[:4] == ["/status", "/find", "/open", "/stats"]
            await page.keyboard.press("Escape")
            await page.get_by_test_id("user-input").fill(f"/status {number}")
            await page.get_by_test_id("user-input").press("Enter")
            user = page.get_by_test_id("user-messages")
            answer = user.locator('[data-testid="message"][data-from-bot="true"]').last
            await expect(answer).to_contain_text(title)
            await expect(answer).to_contain_text("100013")
            # Taller than the pane at 720 px: shown from its title down, as Telegram does.
            await expect(answer.locator("b").first).to_be_in_viewport()
            await page.screenshot(path=str(ARTIFACTS / "e2e-browser-agent-chat.png"))

            # A staff member who is an agent: the agents' menu and answers in the group too.
            await page.get_by_test_id("staff-select").select_option(str(LEYLA))
            await page.get_by_test_id("staff-commands").click()
            staff_menu = page.get_by_test_id("staff-commands-menu").locator(".cmd")
            await expect(staff_menu.first).to_have_text("/status")
            await page.keyboard.press("Escape")
            await page.get_by_test_id("staff-input").fill(f"/status {number}")
            await page.get_by_test_id("staff-input").press("Enter")
            staff = page.get_by_test_id("staff-messages")
            in_group = staff.locator('[data-testid="message"][data-from-bot="true"]')
            await expect(in_group.filter(has_text=title).last).to_be_visible()

            # 1280x720: three panes, no card cut, the page does not scroll.
            layout = await page.evaluate(LAYOUT_JS)
            await page.screenshot(path=str(ARTIFACTS / "e2e-browser-1280x720.png"))
            assert layout["cut"] == [], layout
            assert layout["width"] <= 1280 and layout["height"] <= 720, layout
            assert layout["staff"] >= 400, layout

            # 420 px: one pane at a time, chosen with tabs (it was a 3,373-px stack).
            await page.set_viewport_size({"width": 420, "height": 860})
            await expect(page.get_by_test_id("tabs")).to_be_visible()
            await expect(page.get_by_test_id("pane-user")).to_be_visible()
            await expect(page.get_by_test_id("pane-staff")).to_be_hidden()
            await expect(page.get_by_test_id("pane-mail")).to_be_hidden()
            layout = await page.evaluate(LAYOUT_JS)
            await page.screenshot(path=str(ARTIFACTS / "e2e-browser-420.png"))
            assert layout["cut"] == [] and layout["width"] <= 420, layout
            assert layout["height"] <= 860, layout
            await page.get_by_test_id("tab-staff").click()
            await expect(page.get_by_test_id("pane-staff")).to_be_visible()
            await expect(page.get_by_test_id("pane-user")).to_be_hidden()
            await expect(in_group.filter(has_text=title).last).to_be_visible()
            assert errors == [], errors
        except BaseException:
            await page.screenshot(path=str(shot), full_page=True)
            record_property("screenshot", str(shot))
            raise
        finally:
            await browser.close()
            expect.set_options(timeout=PLAYWRIGHT_DEFAULT_MS)
