"""The e-gov login in ``python bot.py`` without a token (fixture ``sandbox_app``): the status
section offers "Log in with e-gov" to an account that has not proved its FIN; its URL goes,
as a browser would follow it, through the bot's /auth/start to the sandbox's provider page,
whose form sends the browser back to the bot's /auth/callback; the bot then tells the
account in Telegram that its FIN is confirmed, and the offer is gone.

User 700301.
"""

from __future__ import annotations

import html
import re
from typing import Any

import aiohttp

from tests.e2e.harness import (
    Chat,
    SandboxApp,
    Telegram,
    has_text,
    has_widget,
    inline_buttons,
    open_menu,
    shown,
)

CONFIRMED = (
    "✅ Your FIN is confirmed through the e-gov login. You can now see every application of "
    "this FIN in “Check the application's status”."
)
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def egov_button(listing: dict[str, Any]) -> str | None:
    urls = [b["url"] for b in inline_buttons(listing) if b.get("url")]
    return next((u for u in urls if "/auth/start?t=" in u), None)


async def test_a_login_through_the_sandboxs_provider_confirms_the_fin(
    tg: Telegram, sandbox_app: SandboxApp
) -> None:
    chat = Chat(tg, 700301, locale="en")
    await open_menu(chat, "5ABC12D")
    listing = await chat.press("status", has_widget("to_lookup"))
    link = egov_button(listing)
    assert link is not None, inline_buttons(listing)

    # A browser keeps the cookies of 127.0.0.1 (aiohttp's default jar drops them).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(link) as page:  # /auth/start, 302 to the provider's page
            assert page.status == 200 and str(page.url).startswith(sandbox_app.web_url)
            form = {k: html.unescape(v) for k, v in HIDDEN.findall(await page.text())}
        form |= {"fin": "5ABC12D", "action": "login"}
        async with browser.post(
            f"{sandbox_app.web_url}/idp/authorize",
            data=form,
            headers={"Origin": sandbox_app.web_url},
        ) as landing:  # the provider's 302 to the bot's /auth/callback
            text = await landing.text()
            assert landing.status == 200, text
            assert "/auth/callback" in str(landing.url)

    await chat.expect(has_text(shown(CONFIRMED, "en")))
    await chat.send("/start", has_widget("new_app"))
    listing = await chat.press("status", has_widget("to_lookup"))
    assert egov_button(listing) is None
