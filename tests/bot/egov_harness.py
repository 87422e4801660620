"""The e-gov login end to end, in one process: the sandbox's identity provider and the bot's
/auth routes, each on a real loopback port, the real OpenID client between them, a migrated
SQLite database, a fixed clock, and a "browser" (an aiohttp session that follows no redirect,
so every hop is seen)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiogram.utils.i18n import I18n
from aiohttp import web
from aiohttp.test_utils import unused_port
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.egov import OidcProvider
from bot.catalogues import LOCALES_DIR, compile_catalogues
from bot.egov_web import Egov, EgovWeb
from bot.monitoring import Listener
from sandbox.idp import FakeIdentityProvider
from storage.database import create_session_factory
from storage.login_states import SqlLoginStates
from storage.repositories import SqlTransactionFactory
from tests.local_http import local_server
from workflows.clock import FixedClock
from workflows.egov_login import EgovLogin, StartLinks, link_secret

CLIENT_ID = "azersu-test-bot"
CLIENT_SECRET = "a-client-secret-of-the-tests-0123456789"
ACCOUNT = 610000001
BOT_URL = "https://t.me/azersu_test_bot"
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


@dataclass
class Waker:
    wakes: int = 0

    def wake(self) -> None:
        self.wakes += 1


@dataclass
class Page:
    status: int
    text: str
    location: str | None = None


@dataclass
class EgovWorld:
    idp: FakeIdentityProvider
    egov: Egov
    engine: AsyncEngine
    clock: FixedClock
    bot_url: str
    browser: aiohttp.ClientSession
    outbox: Waker
    visited: list[str] = field(default_factory=list)

    async def get(self, url: str, **headers: str) -> Page:
        self.visited.append(url)
        async with self.browser.get(url, allow_redirects=False, headers=headers) as resp:
            return Page(resp.status, await resp.text(), resp.headers.get("Location"))

    async def start(self, account: int = ACCOUNT, link: str | None = None) -> Page:
        """The URL button pressed: /auth/start (302 to the provider's login page)."""
        return await self.get(link or self.egov.link(account, account))

    async def login_at_provider(
        self, authorize_url: str, *, fin: str = "5ABC12D", action: str = "login"
    ) -> str:
        """The provider's page, filled in and sent; returns where it sends the browser."""
        page = await self.get(authorize_url)
        assert page.status == 200, page.text
        form: dict[str, Any] = {k: html.unescape(v) for k, v in _HIDDEN.findall(page.text)}
        form |= {"fin": fin, "action": action}
        action_url = authorize_url.split("?")[0]
        async with self.browser.post(action_url, data=form, allow_redirects=False) as resp:
            assert resp.status == 302, await resp.text()
            return resp.headers["Location"]

    async def log_in(self, *, fin: str = "5ABC12D", account: int = ACCOUNT) -> Page:
        """The whole flow: start, the provider's page, the bot's callback."""
        started = await self.start(account)
        assert started.status == 302 and started.location, started.text
        callback = await self.login_at_provider(started.location, fin=fin)
        return await self.get(callback)

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        async with self.engine.connect() as conn:
            return [tuple(r) for r in await conn.execute(text(sql))]

    async def bound(self) -> list[tuple[Any, ...]]:
        """Every trace a login leaves: verifications, audit events, outbox rows."""
        return [
            *await self.rows("SELECT telegram_user_id, fin, method FROM verifications"),
            *await self.rows("SELECT actor, action, detail FROM audit_log"),
            *await self.rows("SELECT kind, recipient, payload FROM outbox"),
        ]


def egov_i18n() -> I18n:
    compile_catalogues()
    return I18n(path=LOCALES_DIR, default_locale="az", domain="messages")


@asynccontextmanager
async def egov_world(engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[EgovWorld]:
    idp = FakeIdentityProvider(now=lambda: clock.now().timestamp())
    bot_port = unused_port()
    public_url = f"http://127.0.0.1:{bot_port}"
    async with AsyncExitStack() as stack:
        idp_url = await stack.enter_async_context(local_server(idp.app()))
        idp.register_client(CLIENT_ID, CLIENT_SECRET, Egov.redirect_uri_of(public_url))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        provider = OidcProvider(
            session,
            issuer=f"{idp_url}/idp",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uri=Egov.redirect_uri_of(public_url),
        )
        transactions = SqlTransactionFactory(create_session_factory(engine))
        login = EgovLogin(SqlLoginStates(engine), provider, transactions, clock)
        egov = Egov(login, StartLinks(link_secret(CLIENT_SECRET), clock), public_url)
        waker = Waker()

        async def bot_url() -> str:
            return BOT_URL

        web_app = web.Application()
        EgovWeb(egov, egov_i18n(), default_locale="az", bot_url=bot_url, outbox=waker).add_routes(
            web_app
        )
        listener = Listener(web_app, "e-gov login listener")  # the worker's, access log too
        await listener.start("127.0.0.1", bot_port)
        stack.push_async_callback(listener.stop)
        # A browser that keeps cookies from 127.0.0.1 (aiohttp's default jar drops them).
        jar = aiohttp.CookieJar(unsafe=True)
        browser = await stack.enter_async_context(aiohttp.ClientSession(cookie_jar=jar))
        yield EgovWorld(idp, egov, engine, clock, public_url, browser, waker)
