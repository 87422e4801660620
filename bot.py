"""Entry point: ``python bot.py [run | migrate | import-subscribers FILE | sandbox]``.

With no BOT_TOKEN, ``run`` (the default) starts the sandbox, as ``sandbox [--database URL]``
always does: the embedded Bot API compatible server and its page (package ``sandbox``, which
the ``bot`` package never imports), the demo subscribers, and the real bot pointed at the
server through TELEGRAM_API_URL.

The sandbox writes only into SANDBOX_DATA_DIR (its database ``bot.db``, unless ``--database``
names another, and its e-mails ``mail/``) and ignores DATABASE_URL, REDIS_URL, MAIL_DIR and
SMTP_HOST, so an operator who forgets the token on a production host gets a demo beside the
real registry, never demo subscribers inside it. Its first line on stdout says so.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from bot.config import SecretUrl, Settings
from bot.main import main, run
from storage.migrate import upgrade_to_head

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

DEMO_CSV = Path(__file__).resolve().parent / "storage" / "seed" / "demo_subscribers.csv"
IGNORED = "DATABASE_URL, REDIS_URL, MAIL_DIR and SMTP_HOST are ignored"


def sandbox_settings(settings: Settings, database: str | None) -> Settings:
    """``settings`` with every store the sandbox writes moved into SANDBOX_DATA_DIR."""
    data_dir = Path(settings.sandbox_data_dir).resolve()
    return settings.model_copy(
        update={
            "database_url": SecretUrl(database or f"sqlite+aiosqlite:///{data_dir / 'bot.db'}"),
            "redis_url": None,
            # Dialog state in the sandbox's database (or memory when asked), never in Redis.
            "fsm_storage": "memory" if settings.fsm_storage == "memory" else "database",
            "mail_dir": str(data_dir / "mail"),
            "smtp_host": None,
            # No metrics listener beside the page; and no record of seen updates: the
            # sandbox's Telegram numbers its updates from the same id at every start.
            "metrics_port": 0,
            "metrics_token": None,
            "seen_updates_ttl_hours": 0,
        }
    )


def data_line(settings: Settings, database: str | None) -> str:
    """The one line that says where the sandbox writes and which settings it ignores."""
    data_dir = Path(settings.mail_dir).parent
    if database is None:
        return (
            f"Sandbox data in {data_dir} (bot.db, mail/); {IGNORED} "
            "(`python bot.py sandbox --database URL` chooses another database)."
        )
    shown = make_url(database).render_as_string(hide_password=True)
    return f"Sandbox data in {data_dir} (mail/), database {shown} (--database); {IGNORED}."


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
        host=settings.sandbox_host,
        api_port=settings.sandbox_api_port,
        web_port=settings.sandbox_port,
        mail_dir=Path(settings.mail_dir),
    )
    await server.start()
    token_note = "no BOT_TOKEN, so" if settings.bot_token is None else "BOT_TOKEN is ignored,"
    sandboxed = settings.model_copy(
        update={
            "bot_token": SecretStr(server.token),
            "telegram_api_url": server.api_url,
            "staff_chat_id": server.staff_chat_id,
            "staff_user_ids": list(server.staff_user_ids),
            "support_user_ids": settings.support_user_ids or list(server.staff_user_ids),
            "webhook_url": None,
            **sandbox_egov(settings, server),
        }
    )
    print(
        f"Sandbox: {token_note} the bot runs against an embedded Telegram — "
        f"open {server.web_url} (demo subscriber codes 100001–100015; the e-gov login "
        "goes to the sandbox's own provider page, under /idp).",
        flush=True,
    )
    try:
        await run(sandboxed)
    finally:
        await server.stop()


SANDBOX_CLIENT_ID = "azersu-sandbox-bot"


def sandbox_egov(settings: Settings, server: SandboxServer) -> dict[str, object]:
    """The e-gov login against the sandbox's provider (``server.idp``): the bot's /auth
    routes on 127.0.0.1:LISTEN_PORT (any free port when that one is taken), the bot
    registered as the provider's client."""
    port = loopback_port(settings.listen_port)
    public_url = f"http://127.0.0.1:{port}"
    secret = secrets.token_urlsafe(32)
    server.idp.register_client(SANDBOX_CLIENT_ID, secret, f"{public_url}/auth/callback")
    return {
        "egov_issuer": f"{server.web_url}/idp",
        "egov_client_id": SANDBOX_CLIENT_ID,
        "egov_client_secret": SecretStr(secret),
        "egov_fin_claim": server.idp.fin_claim,
        "public_url": public_url,
        "listen_host": "127.0.0.1",
        "listen_port": port,
    }


def loopback_port(preferred: int) -> int:
    """``preferred`` if it is free on 127.0.0.1, else a free port the system picks."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()


def start_sandbox(settings: Settings, database: str | None) -> int:
    """``python bot.py sandbox [--database URL]``, and ``run`` without a token."""
    box = sandbox_settings(settings, database)
    own = sqlite_file(box.database_url.get_secret_value())
    if database is None and own == sqlite_file(settings.database_url.get_secret_value()):
        print(
            f"Setting SANDBOX_DATA_DIR is invalid: {own} is DATABASE_URL's database; "
            "the sandbox needs a folder of its own.",
            file=sys.stderr,
        )
        return 2
    print(data_line(box, database), flush=True)
    upgrade_to_head(box.database_url.get_secret_value())
    asyncio.run(run_sandbox(box))
    return 0


def entry(argv: list[str]) -> int:
    return main(argv, sandbox=start_sandbox)


if __name__ == "__main__":
    sys.exit(entry(sys.argv[1:]))
