"""The sandbox page works in a real browser against a real aiogram bot.

A tiny aiogram bot (not the product: just enough to exercise the page) polls an in-process
SandboxServer; headless Chromium drives the page through its data-testid attributes: start the
chat, press an inline button (answer shown as a toast), share the number through a
request_contact button (after the confirmation Telegram asks for), take a staff card, reply to
the bot in the staff group, open an e-mail's HTML part; and the buttons Telegram's clients
handle themselves: copy_text copies, a t.me link to the bot sends /start with its payload, a
web link asks first, another Telegram link leads outside; a text over 4096 characters is
refused. Skipped when Playwright has no Chromium to launch (set
``PLAYWRIGHT_CHROMIUM_EXECUTABLE`` or install Debian's ``chromium``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import (
    CallbackQuery,
    CopyTextButton,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from sandbox.server import SandboxServer
from tests.sandbox.browser import chromium


def demo_dispatcher(server: SandboxServer, mail_dir: Path) -> Dispatcher:
    dp = Dispatcher()

    def kb(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in buttons]]
        )

    @dp.message(F.text == "/start")
    async def start(message: Message) -> None:
        await message.answer(
            "<b>Xoş gəlmisiniz!</b> <tg-spoiler>sirr</tg-spoiler>",
            parse_mode="HTML",
            reply_markup=kb(("Status", "status"), ("Phone", "phone")),
        )

    @dp.message(F.text == "/links")
    async def links(message: Message) -> None:
        def url(text: str, target: str) -> list[InlineKeyboardButton]:
            return [InlineKeyboardButton(text=text, url=target)]

        copy = CopyTextButton(text="100003")
        await message.answer(
            "Links",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(text="Copy the code", copy_text=copy)],
                    url("Status", "https://t.me/azersu_sandbox_bot?start=status_5"),
                    url("Pay", "https://example.com/pay"),
                    url("Channel", "https://t.me/durov"),
                ]
            ),
        )

    @dp.callback_query(F.data == "status")
    async def status(query: CallbackQuery) -> None:
        await query.answer("No applications yet")

    @dp.callback_query(F.data == "phone")
    async def phone(query: CallbackQuery) -> None:
        await query.answer()
        share = KeyboardButton(text="Share my number", request_contact=True)
        await query.bot.send_message(  # type: ignore[union-attr]
            query.from_user.id,
            "Your phone?",
            reply_markup=ReplyKeyboardMarkup(keyboard=[[share]], resize_keyboard=True),
        )

    @dp.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None
        await message.answer("Got it", reply_markup=ReplyKeyboardRemove())
        await message.bot.send_message(  # type: ignore[union-attr]
            server.staff_chat_id,
            f"<b>Order 1</b>\nPhone: {message.contact.phone_number}",
            parse_mode="HTML",
            reply_markup=kb(("Take", "take")),
        )
        mail = EmailMessage()
        mail["To"], mail["Subject"] = "aysel@example.com", "Application 1 registered"
        mail.set_content("Registered.")
        mail.add_alternative("<p>Application <b>1</b> registered</p>", subtype="html")
        (mail_dir / "1.eml").write_bytes(mail.as_bytes())

    @dp.callback_query(F.data == "take")
    async def take(query: CallbackQuery) -> None:
        await query.answer("Taken")
        assert isinstance(query.message, Message)
        await query.message.edit_text(
            f"Order 1 — taken by {query.from_user.first_name}", reply_markup=None
        )
        await query.message.answer("Result note?", reply_markup=ForceReply(force_reply=True))

    @dp.message(F.reply_to_message)
    async def note(message: Message) -> None:
        await message.reply(f"Noted: {message.text}")

    return dp


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[SandboxServer]:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    server = SandboxServer(api_port=0, web_port=0, mail_dir=mail_dir)
    await server.start()
    bot = Bot(
        server.token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.api_url))
    )
    dp = demo_dispatcher(server, mail_dir)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        yield server
    finally:
        await dp.stop_polling()
        await polling
        await bot.session.close()
        await server.stop()


@pytest.mark.browser
async def test_page_drives_subscriber_staff_and_mail(running: SandboxServer) -> None:
    async with chromium() as browser:
        expect = pytest.importorskip("playwright.async_api").expect
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(running.web_url + "/")
        user = page.get_by_test_id("user-messages")
        staff = page.get_by_test_id("staff-messages")

        await page.get_by_test_id("user-start").click()
        await expect(user.get_by_text("Xoş gəlmisiniz!")).to_be_visible()
        await user.get_by_role("button", name="Status").click()
        await expect(page.get_by_test_id("toast")).to_have_text("No applications yet")

        await user.get_by_role("button", name="Phone").click()
        share = page.get_by_test_id("reply-keyboard").get_by_role("button")
        await expect(share).to_have_text("Share my number")
        await share.click()
        # As Telegram's apps do, the page asks first; Cancel sends nothing.
        await expect(page.get_by_test_id("alert-text")).to_contain_text("phone number")
        await page.get_by_test_id("alert-cancel").click()
        assert [m["kind"] for m in running.messages(running.subscribers[0].id)][-1] != "contact"
        await share.click()
        await page.get_by_test_id("alert-ok").click()
        await expect(user.get_by_text("Got it")).to_be_visible()
        await expect(page.get_by_test_id("reply-keyboard")).to_be_hidden()

        await staff.get_by_role("button", name="Take").click()
        await expect(staff.get_by_text("Order 1 — taken by Rauf")).to_be_visible()
        # ForceReply opens a reply to the prompt; typing + Enter answers it.
        await expect(page.get_by_test_id("staff-reply-banner")).to_be_visible()
        await page.get_by_test_id("staff-input").fill("Valve closed")
        await page.get_by_test_id("staff-input").press("Enter")
        await expect(staff.get_by_text("Noted: Valve closed")).to_be_visible()

        mail = page.get_by_test_id("mail-item").first
        await expect(mail).to_contain_text("Application 1 registered")
        await mail.locator("button.head").click()
        await page.get_by_test_id("mail-tab-html").click()
        frame = page.frame_locator('[data-testid="mail-html"]')
        await expect(frame.locator("b")).to_have_text("1")
        assert errors == []


@pytest.mark.browser
async def test_links_and_copy_buttons_behave_as_in_telegram(running: SandboxServer) -> None:
    async with chromium() as browser:
        expect = pytest.importorskip("playwright.async_api").expect
        context = await browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(running.web_url + "/")
        user = page.get_by_test_id("user-messages")
        alert = page.get_by_test_id("alert-text")
        await page.get_by_test_id("user-input").fill("/links")
        await page.get_by_test_id("user-input").press("Enter")

        await user.get_by_role("button", name="Copy the code").click()
        await expect(page.get_by_test_id("toast")).to_have_text("Copied to clipboard")
        assert await page.evaluate("navigator.clipboard.readText()") == "100003"

        await user.get_by_role("button", name="Channel").click()
        await expect(alert).to_contain_text("leads outside the sandbox")
        await expect(alert).to_contain_text("@durov")
        await page.get_by_test_id("alert-ok").click()

        await user.get_by_role("button", name="Pay").click()
        await expect(alert).to_contain_text("Open this link?")
        await expect(alert).to_contain_text("https://example.com/pay")
        await page.get_by_test_id("alert-cancel").click()
        await expect(alert).to_be_hidden()

        await user.get_by_role("button", name="Status").click()
        mine = user.locator('[data-testid="message"][data-from-bot="false"]')
        await expect(mine.last.get_by_test_id("message-text")).to_have_text("/start status_5")

        # One clock: the bot's (Baku), labelled, whatever the browser's time zone is.
        await expect(page.get_by_test_id("time-zone")).to_contain_text("Baku time")
        last = running.messages(running.subscribers[0].id)[-1]
        baku = datetime.fromtimestamp(last["date"], ZoneInfo("Asia/Baku")).strftime("%H:%M")
        shown = page.locator(f'#user-msg-{last["message_id"]} [data-testid="message-time"]')
        await expect(shown).to_have_text(re.compile(rf"^{baku} · #"))

        # Telegram refuses a text over 4096 characters: nothing is sent, the page says why.
        sent = len(running.messages(running.subscribers[0].id))
        await page.get_by_test_id("user-input").fill("x" * 4097)
        await page.get_by_test_id("user-input").press("Enter")
        await expect(alert).to_contain_text("at most 4096 characters")
        assert len(running.messages(running.subscribers[0].id)) == sent
        assert errors == []
