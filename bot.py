"""Entry point: ``python bot.py [run | migrate | import-subscribers FILE | sandbox]``.

With no BOT_TOKEN, ``run`` (the default) starts the sandbox, as ``sandbox [--database URL]``
always does: the embedded Bot API compatible server and its page (package ``sandbox``, which
the ``bot`` package never imports), the demo subscribers, and the real bot pointed at the
server through TELEGRAM_API_URL.

The sandbox writes only into SANDBOX_DATA_DIR (its database ``bot.db``, unless ``--database``
names another, and its e-mails ``mail/``) and ignores DATABASE_URL, REDIS_URL, MAIL_DIR and
SMTP_HOST, so an operator who forgets the token on a production host gets a demo beside the
real registry, never demo subscribers inside it. Its first line on stdout says so. Its people
are its own: the staff group, its members and the support agents (SUPPORT_USER_IDS) are the
page's presets, and there is no separate support chat (SUPPORT_CHAT_ID is not used).

What stops the sandbox before it runs (a busy port, a data directory it cannot write, a
missing catalogue or data file) is one line on stderr naming what to change, exit status 2.
"""

from __future__ import annotations

import asyncio
import errno
import os
import secrets
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from bot.catalogues import LOCALES_DIR
from bot.config import SecretUrl, Settings
from bot.main import main, run
from dialogs.wording import LOCALES
from storage.catalogue import SEED_DIR, CatalogueFileError, load_reason_catalogue
from storage.migrate import upgrade_to_head
from workflows.clock import BAKU

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parent
DEMO_CSV = ROOT / "storage" / "seed" / "demo_subscribers.csv"
SANDBOX_SCHEDULE_EVERY_S = 15.0
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
            # A restoration offer due now goes out within seconds, not minutes.
            "schedule_every_s": min(settings.schedule_every_s, SANDBOX_SCHEDULE_EVERY_S),
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


class StartRefused(Exception):
    """What stops the sandbox before it runs: one line for stderr (exit status 2)."""


START = "python bot.py"


def port_refusal(error: OSError, settings: Settings) -> StartRefused:
    """The line for a port the sandbox cannot listen on (a ``PortUnavailable``)."""
    role, port = getattr(error, "role", "web"), getattr(error, "port", settings.sandbox_port)
    name = "SANDBOX_API_PORT" if role == "api" else "SANDBOX_PORT"
    host = settings.sandbox_host
    cause = getattr(error, "cause", error)
    if isinstance(cause, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
        return StartRefused(
            f"SANDBOX_HOST {host} is not an address of this machine: "
            f"start with SANDBOX_HOST=127.0.0.1 {START}"
        )
    taken = {settings.sandbox_port, settings.sandbox_api_port}
    other = free_port_near(host, port, taken)
    if error.errno in (errno.EACCES, errno.EPERM):
        why = f"port {port} needs privileges"
    else:
        why = f"port {port} is busy"
    return StartRefused(f"{why}: start with {name}={other} {START}")


def free_port_near(host: str, port: int, taken: set[int]) -> int:
    """A port above ``port`` that can be listened on now (``port + 10`` if none is found)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in range(max(port, 1023) + 10, max(port, 1023) + 60):
        if candidate in taken or candidate > 65535:
            continue
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, candidate))
            except OSError:
                continue
        return candidate
    return port + 10


def check_data_dir(settings: Settings) -> None:
    """SANDBOX_DATA_DIR (and its ``mail/``) exists or can be made, and can be written."""
    data_dir = Path(settings.sandbox_data_dir).resolve()
    hint = f"start with SANDBOX_DATA_DIR={Path.home() / 'azersu-sandbox'} {START}"
    try:
        (data_dir / "mail").mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        database = data_dir / "bot.db"
        if database.exists() and not os.access(database, os.R_OK | os.W_OK):
            raise PermissionError(errno.EACCES, "bot.db cannot be read and written")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StartRefused(
            f"SANDBOX_DATA_DIR {data_dir} cannot be used ({reason}): {hint}"
        ) from None


def check_files(spec_path: Path) -> None:
    """The catalogues and data files the sandbox reads at start are there and readable."""
    try:
        load_reason_catalogue(SEED_DIR)
    except (OSError, CatalogueFileError) as exc:
        if isinstance(exc, OSError):
            detail = f"{exc.filename or SEED_DIR}: {exc.strerror or type(exc).__name__}"
        else:
            detail = f"{SEED_DIR}: {exc}"
        raise StartRefused(
            f"the reason catalogue cannot be read ({detail}): restore storage/seed from the "
            "repository (git checkout -- storage/seed)"
        ) from None
    missing = [
        path
        for path in (
            *(LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po" for locale in LOCALES),
            DEMO_CSV,
            spec_path,
        )
        if not os.access(path, os.R_OK)
    ]
    if missing:
        first = missing[0]
        shown = first.relative_to(ROOT) if first.is_relative_to(ROOT) else first
        raise StartRefused(
            f"{shown} is missing or unreadable: restore it from the repository "
            f"(git checkout -- {shown})"
        )


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
        time_zone=BAKU.key,
    )
    await server.start()
    token_note = "no BOT_TOKEN, so" if settings.bot_token is None else "BOT_TOKEN is ignored,"
    sandboxed = settings.model_copy(
        update={
            "bot_token": SecretStr(server.token),
            "telegram_api_url": server.api_url,
            "staff_chat_id": server.staff_chat_id,
            "staff_user_ids": list(server.staff_user_ids),
            # The page's agents (a staff member among them); no support chat of its own.
            "support_user_ids": list(server.agent_user_ids),
            "support_chat_id": None,
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
    from sandbox.server import SPEC_PATH, PortUnavailable, probe_ports

    try:
        check_data_dir(settings)
        check_files(SPEC_PATH)
        try:  # before the slow steps; the real bind in run_sandbox can still find it taken
            probe_ports(box.sandbox_host, box.sandbox_api_port, box.sandbox_port)
        except PortUnavailable as exc:
            raise port_refusal(exc, box) from None
        print(data_line(box, database), flush=True)
        upgrade_to_head(box.database_url.get_secret_value())
        try:
            asyncio.run(run_sandbox(box))
        except PortUnavailable as exc:
            raise port_refusal(exc, box) from None
    except StartRefused as refused:
        print(refused, file=sys.stderr)
        return 2
    return 0


def entry(argv: list[str]) -> int:
    return main(argv, sandbox=start_sandbox)


if __name__ == "__main__":
    sys.exit(entry(sys.argv[1:]))
