"""The e-gov login as ``python bot.py`` wires it in the sandbox (``bot.py``'s
``sandbox_egov``): the bot's /auth routes on their listener, the sandbox's provider on the
page's port, a browser that goes through both (its form post carries the page's Origin, as a
browser's does, past the sandbox's same-origin guard), and the FIN bound."""

from __future__ import annotations

import html
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import aiohttp
from aiogram.fsm.storage.memory import MemoryStorage
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_bot, build_egov_web, build_services
from bot.config import Settings
from bot.main import start_login_listener
from sandbox.server import SandboxServer
from tests.bot.egov_harness import egov_i18n

BOT_PY = Path(__file__).resolve().parents[2] / "bot.py"
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def entry_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bot_entry_script_egov", BOT_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_a_person_logs_in_through_the_sandboxs_provider(
    settings: Settings, engine: AsyncEngine, tmp_path: Path, unused_tcp_port: int
) -> None:
    server = SandboxServer(api_port=0, web_port=0, mail_dir=tmp_path)
    async with server, aiohttp.ClientSession() as browser:
        base = settings.model_copy(update={"listen_port": unused_tcp_port})
        box = base.model_copy(
            update={
                "telegram_api_url": server.api_url,
                **entry_script().sandbox_egov(base, server),
            }
        )
        services = build_services(box, engine=engine)
        bot = build_bot(box, server.token)
        assert services.egov is not None
        web = build_egov_web(box, services, bot, egov_i18n(), None)
        stop = await start_login_listener(box, services, MemoryStorage(), web)
        try:
            async with browser.get(services.egov.link(610000001, 610000001)) as page:
                assert page.status == 200 and str(page.url).startswith(server.web_url)
                form = {k: html.unescape(v) for k, v in HIDDEN.findall(await page.text())}
            form |= {"fin": "5ABC12D", "action": "login"}
            async with browser.post(
                f"{server.web_url}/idp/authorize", data=form, headers={"Origin": server.web_url}
            ) as done:
                landing = await done.text()
                assert done.status == 200, landing
        finally:
            await stop()
            await bot.session.close()
            await services.close()

    assert "https://t.me/azersu_sandbox_bot" in landing
    async with engine.connect() as conn:
        rows = list(await conn.execute(text("SELECT telegram_user_id, method FROM verifications")))
    assert [tuple(r) for r in rows] == [(610000001, "egov")]
