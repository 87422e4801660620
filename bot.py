"""Entry point: ``python bot.py [run | migrate | import-subscribers FILE]``.

With no BOT_TOKEN, ``run`` starts the sandbox: the embedded Bot API compatible server and
its page (package ``sandbox``, which the ``bot`` package never imports), the demo
subscribers, and the real bot pointed at the server through TELEGRAM_API_URL.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from pydantic import SecretStr

from bot.config import Settings
from bot.main import configure_logging, load_settings, main, run
from storage.migrate import upgrade_to_head

DEMO_CSV = Path(__file__).resolve().parent / "storage" / "seed" / "demo_subscribers.csv"


async def run_sandbox(settings: Settings) -> None:
    from sandbox.server import SandboxServer
    from storage.database import create_engine
    from storage.subscribers_import import import_subscribers

    engine = create_engine(settings.database_url.get_secret_value())
    try:
        await import_subscribers(engine, DEMO_CSV)
    finally:
        await engine.dispose()
    server = SandboxServer(
        host="127.0.0.1",
        api_port=settings.sandbox_api_port,
        web_port=settings.sandbox_port,
        mail_dir=Path(settings.mail_dir),
    )
    await server.start()
    sandboxed = settings.model_copy(
        update={
            "bot_token": SecretStr(server.token),
            "telegram_api_url": server.api_url,
            "staff_chat_id": server.staff_chat_id,
            "staff_user_ids": list(server.staff_user_ids),
            "support_user_ids": settings.support_user_ids or list(server.staff_user_ids),
            "webhook_url": None,
        }
    )
    print(
        f"Sandbox: no BOT_TOKEN, so the bot runs against an embedded Telegram — "
        f"open {server.web_url} (demo subscriber codes 100001–100015).",
        flush=True,
    )
    try:
        await run(sandboxed)
    finally:
        await server.stop()


def entry(argv: list[str]) -> int:
    if argv and argv[0] != "run":
        return main(argv)
    settings = load_settings()
    if settings.bot_token is not None:
        return main(argv)
    configure_logging(settings.log_level, settings.secret_values())
    upgrade_to_head(settings.database_url.get_secret_value())
    asyncio.run(run_sandbox(settings))
    return 0


if __name__ == "__main__":
    sys.exit(entry(sys.argv[1:]))
