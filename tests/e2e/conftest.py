"""``python bot.py`` without a token, once per session, shared by the sandbox e2e tests.

One process serves the page, the Bot API and the real bot (a bot process costs tens of
seconds of start-up on a busy machine, so the entry test, the journeys over HTTP and the
browser test use the same one). Each test uses its own users and subscriber codes: the demo
registry has an active meterless subscriber without debt for each of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from sandbox.client import SandboxClient
from tests.e2e.harness import (
    SandboxApp,
    Telegram,
    bot_env,
    free_port,
    read_subscribers,
    start_bot_sandbox,
    stop_cleanly,
)


@pytest.fixture(scope="session")
def sandbox_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxApp]:
    """``python bot.py`` with no BOT_TOKEN: the sandbox page, the demo subscribers, the bot.

    As an operator who forgot the token would start it: DATABASE_URL, REDIS_URL and MAIL_DIR
    name the production stores (a database file that does not exist, a Redis nobody listens
    on), SANDBOX_DATA_DIR is unset, so the sandbox keeps its data in ``data/sandbox`` under
    the working directory.
    """
    tmp = tmp_path_factory.mktemp("sandbox_app").resolve()
    web_port, api_port = free_port(), free_port()
    ignored_database, ignored_mail_dir = tmp / "production.db", tmp / "production-mail"
    env = bot_env(
        SANDBOX_PORT=web_port,
        SANDBOX_API_PORT=api_port,
        DATABASE_URL=f"sqlite+aiosqlite:///{ignored_database}",
        REDIS_URL="redis://127.0.0.1:1/0",
        MAIL_DIR=ignored_mail_dir,
        # Restoration offers at any hour, so their test does not depend on the time of day.
        OFFER_FROM_HOUR=0,
        OFFER_UNTIL_HOUR=24,
    )
    proc = start_bot_sandbox("bot-sandbox", [], web_port=web_port, env=env, cwd=tmp)
    data_dir = tmp / "data" / "sandbox"
    try:
        # before any test registers (and a staff member suspends) anything
        subscribers = read_subscribers(data_dir / "bot.db")
    except BaseException:
        proc.stop()
        raise
    yield SandboxApp(
        proc, web_port, api_port, data_dir, ignored_database, ignored_mail_dir, subscribers
    )
    stop_cleanly(proc)


@pytest.fixture
async def tg(sandbox_app: SandboxApp) -> AsyncIterator[Telegram]:
    """The sandbox of ``sandbox_app`` over HTTP; failures quote the bot's log."""
    sandbox_app.proc.check_alive()
    client = SandboxClient(sandbox_app.web_url)
    try:
        yield Telegram(client, diagnose=sandbox_app.proc.tail)
    finally:
        await client.close()
