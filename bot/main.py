"""Start-up: settings, migrations, then polling or webhook; and the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from types import TracebackType

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseStorage
from aiogram.utils.i18n import I18n
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.app import (
    Services,
    build_bot,
    build_dispatcher,
    build_egov_web,
    build_i18n,
    build_outbox_runner,
    build_retention,
    build_seen_updates,
    build_services,
    build_storage,
    command_menus,
)
from bot.config import MASK, Settings, describe_error
from bot.egov_web import EgovWeb
from bot.import_cli import run_import_cli
from bot.metrics import APPLICATIONS, EVENTS, OUTBOX, ApiErrorMetrics, UpdateMetricsMiddleware
from bot.monitoring import Listener, Monitoring
from bot.outbox.runner import OutboxRunner
from bot.retention import RetentionJob
from bot.support import CommandMenus, register_commands
from bot.webhook import WEBHOOK_PATH, WebhookServer
from storage.migrate import upgrade_to_head
from storage.outbox import SqlOutboxStore
from workflows.outbox.records import OutboxStatus

logger = logging.getLogger(__name__)


def load_settings() -> Settings:
    """Settings, or one line naming the bad one and exit code 2 (never a traceback)."""
    try:
        return Settings()
    except ValidationError as exc:
        print(describe_error(exc), file=sys.stderr)
        raise SystemExit(2) from None


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


# What a database quotes from a row in its errors, which the engines' hide_parameters does
# not reach: PostgreSQL's DETAIL ("Failing row contains (...)", "Key (fin)=(...) already
# exists") and asyncpg's refusal of an argument it cannot encode. The rest of the line goes.
ROW_VALUES = re.compile(r"(DETAIL:|invalid input for query argument \$\d+:)[^\n]*")


class RedactingFormatter(logging.Formatter):
    """Masks every known secret in the whole formatted record, its traceback included:
    a library's error message may quote a password or a token we never logged ourselves;
    and so the row values a database error quotes (a FIN, a phone, an e-mail)."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        # Longest first: a secret that contains another is masked whole.
        self.secrets = sorted(set(secrets), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return ROW_VALUES.sub(rf"\1 {MASK}", text)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Logging to stderr with ``secrets`` masked (see ``Settings.secret_values``); an
    uncaught exception is logged through the same formatter instead of Python's hook."""
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), format=LOG_FORMAT)
    formatter = RedactingFormatter(LOG_FORMAT, secrets)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    # aiogram logs every update with the user id at INFO; fine. Its DEBUG carries payloads.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    sys.excepthook = _log_uncaught


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    logger.critical("stopped by an unexpected error", exc_info=(kind, exc, tb))


async def health_of(services: Services, storage: BaseStorage) -> dict[str, bool]:
    checks = {"database": False}
    try:
        async with services.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:
        logger.warning("health: database unreachable")
    redis = getattr(storage, "redis", None)
    if redis is not None:
        try:
            checks["redis"] = bool(await redis.ping())
        except Exception:
            checks["redis"] = False
    return checks


async def refresh_outbox_gauges(store: SqlOutboxStore) -> None:
    counts = await store.counts()
    for status in OutboxStatus:
        OUTBOX.labels(status.value).set(counts.get(status, 0))


async def refresh_gauges(services: Services) -> None:
    """The gauges read from the shared database, when /metrics is scraped."""
    await refresh_outbox_gauges(services.outbox_store)
    gauges = await services.support.gauges()
    for status, count in gauges.by_status.items():
        APPLICATIONS.labels(status.value).set(count)
    for kind, count in gauges.by_event.items():
        EVENTS.labels(kind.value).set(count)


async def run(
    settings: Settings,
    *,
    ready: Callable[[Bot, Dispatcher], Awaitable[None]] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run one worker until SIGINT/SIGTERM (or ``stop``)."""
    if settings.bot_token is None:
        raise ValueError("a worker needs BOT_TOKEN")
    services = build_services(settings)
    bot = build_bot(settings, settings.bot_token.get_secret_value())
    bot.session.middleware(ApiErrorMetrics())
    storage, isolation = build_storage(settings, services)
    i18n = build_i18n(settings)
    runner = build_outbox_runner(settings, services, bot, i18n, storage=storage)
    dp = build_dispatcher(
        settings,
        services,
        storage=storage,
        events_isolation=isolation,
        i18n=i18n,
        outbox=runner,
        seen_updates=build_seen_updates(settings, services, storage),
    )
    dp.update.outer_middleware(UpdateMetricsMiddleware())
    egov = build_egov_web(settings, services, bot, i18n, runner)
    background = await start_background(
        bot, runner, command_menus(settings), i18n, build_retention(settings, services)
    )
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        background.append(await start_monitoring(settings, services, storage))
        background.append(await start_login_listener(settings, services, storage, egov))
        if ready is not None:
            await ready(bot, dp)
        if settings.webhook_url:
            await run_webhook(settings, services, bot, dp, storage, stop, egov)
        else:
            await run_polling(bot, dp, stop)
    finally:
        for stopper in reversed(background):
            await stopper()
        await dp.storage.close()
        await bot.session.close()
        await services.close()


async def start_background(
    bot: Bot,
    runner: OutboxRunner,
    menus: CommandMenus,
    i18n: I18n,
    retention: RetentionJob | None = None,
) -> list[Callable[[], Awaitable[None]]]:
    """Background work of a worker; returns the stoppers, run in reverse order at exit."""
    await runner.start()
    await register_commands(bot, menus, i18n)
    if retention is None:
        return [runner.stop]
    await retention.start()
    return [runner.stop, retention.stop]


def monitoring_of(settings: Settings, services: Services, storage: BaseStorage) -> Monitoring:
    token = settings.metrics_token
    return Monitoring(
        health=lambda: health_of(services, storage),
        refresh_metrics=lambda: refresh_gauges(services),
        token=token.get_secret_value() if token is not None else None,
        guard_health=settings.metrics_listener == "public",
    )


async def start_monitoring(
    settings: Settings, services: Services, storage: BaseStorage
) -> Callable[[], Awaitable[None]]:
    """/metrics and /healthz where ``Settings.metrics_listener`` says; returns the stopper.
    On the public port in webhook mode the webhook server serves them (``run_webhook``);
    in polling mode that port is opened for them alone."""
    where = settings.metrics_listener
    if where == "none":
        logger.info("/metrics and /healthz are not served (METRICS_PORT 0, no METRICS_TOKEN)")
    # On the public port, the webhook's server or the e-gov login's listener serves them.
    if where == "none" or (where == "public" and (settings.webhook_url or services.egov)):
        return _nothing_to_stop
    own = where == "own"
    listener = Listener(monitoring_of(settings, services, storage).app(), "metrics listener")
    await listener.start(
        settings.metrics_host if own else settings.listen_host,
        settings.metrics_port if own else settings.listen_port,
    )
    return listener.stop


async def _nothing_to_stop() -> None:
    pass


async def start_login_listener(
    settings: Settings, services: Services, storage: BaseStorage, egov: EgovWeb | None
) -> Callable[[], Awaitable[None]]:
    """Polling with the e-gov login: its /auth routes on LISTEN_HOST:LISTEN_PORT (and
    /metrics, /healthz when they belong on that port); with a webhook the webhook's server
    serves them. Returns the stopper."""
    if egov is None or settings.webhook_url:
        return _nothing_to_stop
    app = web.Application()
    egov.add_routes(app)
    if settings.metrics_listener == "public":
        monitoring_of(settings, services, storage).add_routes(app)
    listener = Listener(app, "e-gov login listener")
    await listener.start(settings.listen_host, settings.listen_port)
    return listener.stop


async def run_polling(bot: Bot, dp: Dispatcher, stop: asyncio.Event) -> None:
    await bot.delete_webhook(drop_pending_updates=False)
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({polling, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if stopper in done:
        await dp.stop_polling()
    await polling
    stopper.cancel()


async def run_webhook(
    settings: Settings,
    services: Services,
    bot: Bot,
    dp: Dispatcher,
    storage: BaseStorage,
    stop: asyncio.Event,
    egov: EgovWeb | None = None,
) -> None:
    if not (settings.webhook_url and settings.webhook_secret):
        raise ValueError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
    secret = settings.webhook_secret.get_secret_value()
    public = settings.metrics_listener == "public"
    monitoring = monitoring_of(settings, services, storage) if public else None
    server = WebhookServer(dp, bot, secret, monitoring, egov)
    await server.start(settings.listen_host, settings.listen_port)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    if settings.webhook_set:
        url = settings.webhook_url.rstrip("/")
        if not url.endswith(WEBHOOK_PATH):
            url += WEBHOOK_PATH
        await bot.set_webhook(
            url, secret_token=secret, allowed_updates=dp.resolve_used_update_types()
        )
    try:
        await stop.wait()
    finally:
        await server.stop()
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot.py", description="The Azərsu Telegram bot.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (default; the sandbox without BOT_TOKEN)")
    sub.add_parser("migrate", help="apply the database migrations and exit")
    imp = sub.add_parser("import-subscribers", help="load the subscriber registry from a CSV")
    imp.add_argument("file", type=Path)
    box = sub.add_parser(
        "sandbox",
        help="run the bot against the embedded Telegram, on its own data (SANDBOX_DATA_DIR)",
    )
    box.add_argument(
        "--database",
        metavar="URL",
        type=_database_url,
        help="the sandbox's database instead of bot.db in SANDBOX_DATA_DIR "
        "(DATABASE_URL is never used by the sandbox)",
    )
    return parser


def _database_url(value: str) -> str:
    try:
        make_url(value)
    except ArgumentError:
        raise argparse.ArgumentTypeError("not a database URL") from None
    return value


# Starts the sandbox (settings, the --database URL or None) and returns the exit code; the
# entry script bot.py passes it, because the bot package never imports the sandbox.
SandboxStart = Callable[[Settings, str | None], int]


def main(argv: list[str] | None = None, *, sandbox: SandboxStart | None = None) -> int:
    args = build_parser().parse_args(argv)

    settings = load_settings()
    configure_logging(settings.log_level, settings.secret_values())
    # Decided before any migration: the sandbox never touches DATABASE_URL's database.
    if args.command == "sandbox" or (args.command in (None, "run") and settings.sandbox):
        if sandbox is None:
            print("The sandbox starts from the entry script: `python bot.py`.", file=sys.stderr)
            return 2
        return sandbox(settings, getattr(args, "database", None))
    upgrade_to_head(settings.database_url.get_secret_value())
    if args.command == "migrate":
        return 0
    if args.command == "import-subscribers":
        return asyncio.run(run_import_cli(settings.database_url.get_secret_value(), args.file))
    asyncio.run(run(settings))
    return 0
