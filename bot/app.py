"""The composition root: the only place that wires settings, adapters and routers."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.utils.i18n import I18n
from aiogram_dialog import setup_dialogs
from aiogram_dialog.api.entities import stack as aiogram_dialog_stack
from aiogram_dialog.api.protocols import MessageManagerProtocol
from sqlalchemy.ext.asyncio import AsyncEngine

import dialogs
from bot import commands, staff, support
from bot.adapters.billing_http import HttpSubscriberRegistry
from bot.adapters.mail import FileMailer, SmtpMailer
from bot.best_effort import BestEffortMessageManager
from bot.catalogues import LOCALES_DIR, compile_catalogues
from bot.config import Settings
from bot.middlewares import InFlightLimit, ProfileI18nMiddleware
from bot.telegram_retries import TelegramRetries
from dialogs.common import DialogDeps
from storage.database import create_engine, create_session_factory
from storage.repositories import SqlSubscriberRegistry, SqlTransactionFactory
from workflows.clock import SystemClock
from workflows.journey import Journey
from workflows.ports import Clock, Mailer, SubscriberRegistry
from workflows.values import SubscriberCodeParser
from workflows.work_orders import WorkOrders

logger = logging.getLogger(__name__)


def _random_intent_id() -> int:
    # aiogram-dialog 2.6 makes ids from the current second plus randint(0, 99), so two
    # dialogs opened in the same second (a deep link opens two) collide once in a hundred
    # and one overwrites the other's context. 8 base-62 characters keep callback_data short.
    return secrets.randbelow(62**8)


aiogram_dialog_stack.new_int_id = _random_intent_id


@dataclass
class Services:
    """App-scoped objects; each use case opens its own unit of work when it needs one."""

    settings: Settings
    engine: AsyncEngine
    transactions: SqlTransactionFactory
    registry: SubscriberRegistry
    journey: Journey
    work_orders: WorkOrders
    mailer: Mailer
    clock: Clock
    staff_chat_id: int
    closers: list[Any] = field(default_factory=list)

    async def close(self) -> None:
        for closer in self.closers:
            await closer()
        await self.engine.dispose()


def build_mailer(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            security=settings.smtp_security,
            mail_from=settings.mail_from,
        )
    return FileMailer(Path(settings.mail_dir), mail_from=settings.mail_from)


def build_services(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    registry: SubscriberRegistry | None = None,
    clock: Clock | None = None,
    mailer: Mailer | None = None,
) -> Services:
    engine = engine or create_engine(settings.database_url)
    session_factory = create_session_factory(engine)
    transactions = SqlTransactionFactory(session_factory)
    closers: list[Any] = []
    if registry is None:
        if settings.billing_api_url:
            client = httpx.AsyncClient(timeout=settings.billing_timeout_s)
            closers.append(client.aclose)
            token = settings.billing_api_token
            registry = HttpSubscriberRegistry(
                client,
                settings.billing_api_url,
                api_token=token.get_secret_value() if token else None,
            )
        else:
            registry = SqlSubscriberRegistry(session_factory)
    clock = clock or SystemClock()
    staff_chat_id = settings.staff_chat_id or 0
    return Services(
        settings=settings,
        engine=engine,
        transactions=transactions,
        registry=registry,
        journey=Journey(registry, transactions, clock, staff_chat_id),
        work_orders=WorkOrders(transactions, clock, staff_chat_id),
        mailer=mailer or build_mailer(settings),
        clock=clock,
        staff_chat_id=staff_chat_id,
        closers=closers,
    )


def build_i18n(settings: Settings) -> I18n:
    compile_catalogues()
    return I18n(path=LOCALES_DIR, default_locale=settings.default_locale, domain="messages")


def build_bot(settings: Settings, token: str) -> Bot:
    session = None
    if settings.telegram_api_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    bot.session.middleware(TelegramRetries())  # the outbox sends through without_retries(bot)
    return bot


def build_dispatcher(
    settings: Settings,
    services: Services,
    *,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
    message_manager: MessageManagerProtocol | None = None,
    i18n: I18n | None = None,
) -> Dispatcher:
    i18n = i18n or build_i18n(settings)
    dialog_deps = DialogDeps(
        journey=services.journey,
        code_parser=SubscriberCodeParser(settings.subscriber_code_pattern),
        pay_url_template=settings.pay_url_template,
        default_locale=settings.default_locale,
    )
    dp = Dispatcher(
        storage=storage or MemoryStorage(),
        events_isolation=events_isolation or SimpleEventIsolation(),
        dialog_deps=dialog_deps,
        services=services,
        settings=settings,
    )
    dp.update.outer_middleware(InFlightLimit(settings.max_updates_in_flight))
    commands.register_error_handlers(dp)
    dp.include_router(commands.setup())
    for router in extra_routers(settings, services):
        dp.include_router(router)
    dp.include_router(dialogs.setup())
    dp.include_router(commands.fallback())
    setup_dialogs(dp, message_manager=message_manager or BestEffortMessageManager())
    # Must run after setup_dialogs: I18nMiddleware wraps the observers that exist now,
    # including aiogram-dialog's background-update observer.
    ProfileI18nMiddleware(
        i18n,
        services.journey,
        default_locale=settings.default_locale,
        staff_chat_ids=frozenset({services.staff_chat_id}),
        staff_locale=settings.staff_locale,
    ).setup(dp)
    return dp


def extra_routers(settings: Settings, services: Services) -> list[Any]:
    """The staff group's and the support agents' routers: before the subscriber dialogs, so
    an agent's /status works inside a dialog, and before the fallback that answers all."""
    return [staff.setup(settings, services), support.setup(settings, services)]
