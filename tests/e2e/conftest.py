"""``python bot.py`` without a token, once per session, shared by the sandbox e2e tests.

One process serves the page, the Bot API and the real bot (a bot process costs tens of
seconds of start-up on a busy machine, so the entry test, the journeys over HTTP and the
browser test use the same one). Each test uses its own users and subscriber codes: the demo
registry has an active meterless subscriber without debt for each of them.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import AsyncIterator, Iterator

import pytest

from sandbox.client import SandboxClient
from tests.e2e.harness import (
    BOT_PY,
    START_TIMEOUT,
    Proc,
    SandboxApp,
    Telegram,
    bot_env,
    free_port,
    poll_until,
    read_subscribers,
)
from tests.support import GENEROUS_S


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=GENEROUS_S) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="session")
def sandbox_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxApp]:
    """``python bot.py`` with no BOT_TOKEN: the sandbox page, the demo subscribers, the bot."""
    tmp = tmp_path_factory.mktemp("sandbox_app")
    web_port, api_port = free_port(), free_port()
    database, mail_dir = tmp / "bot.db", tmp / "mail"
    env = bot_env(
        SANDBOX_PORT=web_port,
        SANDBOX_API_PORT=api_port,
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        MAIL_DIR=mail_dir,
    )
    proc = Proc.start("bot-sandbox", [sys.executable, str(BOT_PY)], env=env, cwd=tmp)
    try:
        first_line = poll_until(
            lambda: proc.stdout().splitlines()[0] if proc.stdout().strip() else None,
            timeout=START_TIMEOUT,
            what="the first line of `python bot.py`",
            procs=[proc],
        )
        url = f"http://127.0.0.1:{web_port}/sandbox/requests"
        # The bot has started when it asked who it is (polling) or dropped the webhook.
        poll_until(
            lambda: (
                _get_json(f"{url}?method=getMe")["requests"]
                or _get_json(f"{url}?method=deleteWebhook")["requests"]
            ),
            timeout=START_TIMEOUT,
            what="the bot to start polling the sandbox",
            procs=[proc],
        )
        # before any test registers (and a staff member suspends) anything
        subscribers = read_subscribers(database)
    except BaseException:
        proc.stop()
        raise
    app = SandboxApp(proc, web_port, api_port, database, mail_dir, first_line, subscribers)
    yield app
    rc = proc.stop()
    assert not proc.killed and rc == 0, (
        f"`python bot.py` did not stop cleanly on SIGTERM (exit code {rc}, "
        f"killed={proc.killed})\n{proc.tail()}"
    )


@pytest.fixture
async def tg(sandbox_app: SandboxApp) -> AsyncIterator[Telegram]:
    """The sandbox of ``sandbox_app`` over HTTP; failures quote the bot's log."""
    sandbox_app.proc.check_alive()
    client = SandboxClient(sandbox_app.web_url)
    try:
        yield Telegram(client, diagnose=sandbox_app.proc.tail)
    finally:
        await client.close()
