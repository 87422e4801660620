"""The composition root: the only place that wires settings, adapters and routers.

(Over 400 lines on purpose: the whole object graph is built here and nowhere else, so a reader
sees every adapter and its setting in one place; the import-linter contract keeps every other
module from reaching into it. The e-gov login's builders already live in ``bot.egov_setup``.)"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from aiogram.utils.i18n import I18n
from aiogram_dialog import setup_dialogs
from aiogram_dialog.api.entities import stack as aiogram_dialog_stack
from aiogram_dialog.api.protocols import MessageManagerProtocol
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine

import dialogs
from bot import citizen, commands, restoration, staff, support
from bot.adapters.billing_http import HttpSubscriberRegistry
from bot.adapters.mail import FileMailer, SmtpMailer
from bot.best_effort import BestEffortMessageManager
from bot.catalogues import LOCALES_DIR, compile_catalogues
from bot.config import Settings
from bot.dialog_state import state_eraser
from bot.egov_setup import build_egov, egov_link, egov_web
from bot.egov_web import Egov, EgovWeb
from bot.errors import StorageErrorGuard
from bot.middlewares import InFlightLimit, ProfileI18nMiddleware, ReplyCallbackGuard
from bot.once import OnceOnly, RedisSeenUpdates, SeenUpdates
from bot.outbox.email import EmailSender
from bot.outbox.mail_content import Contact
from bot.outbox.reading import ApplicationReader
from bot.outbox.runner import REAL_TIME, OutboxRunner, Reminders, Timing
from bot.outbox.telegram import RATE_MARGIN_S, StatusLinks, TelegramSender
from bot.outbox.worker import claim_worker, default_worker_id
from bot.probing import build_probing
from bot.retention import RetentionJob
from bot.screen import FreshWindows, LatestMessages
from bot.staff.access import StaffChats
from bot.staff.handlers import Waker
from bot.telegram_retries import TelegramRetries, without_retries
from bot.throttle import build_throttle
from dialogs.common import DialogDeps
from dialogs.privacy.deps import PrivacyDeps
from storage.database import create_engine, create_session_factory
from storage.fsm import SqlStorage
from storage.outbox import SqlOutboxStore
from storage.registry import SqlSubscriberRegistry
from storage.repositories import SqlTransactionFactory
from storage.seen_updates import SqlSeenUpdates
from storage.support import SqlAccessLog, SqlSupportQueries
from workflows.citizen import Citizen
from workflows.clock import SystemClock
from workflows.journey import Journey
from workflows.outbox.limits import RateLimiter
from workflows.ports import Clock, Mailer, SubscriberRegistry
from workflows.privacy import Privacy
from workflows.proofs import Proofs
from workflows.restoration import Restorations
from workflows.support import Support
from workflows.values import SubscriberCodeParser
from workflows.withdrawal import Withdrawals
from workflows.work_orders import WorkOrders

logger = logging.getLogger(__name__)


def _random_intent_id() -> int:
    return secrets.randbelow(62**8)


def use_random_intent_ids() -> None:
    """aiogram-dialog 2.6 makes ids from the current second plus randint(0, 99), so two
    dialogs opened in the same second (a deep link opens two) collide once in a hundred and
    one overwrites the other's context. The library has no setting for it, so the root swaps
    its id function when it builds a dispatcher (idempotent); 8 base-62 characters keep
    callback_data short."""
    aiogram_dialog_stack.new_int_id = _random_intent_id


@dataclass
class Services:
    """The object graph of one process: every adapter and use case, built once, here.

    Only this module and ``bot/main.py`` see the whole graph; each router and the outbox
    runner is handed the few objects it uses (checked by an import-linter contract).
    """

    engine: AsyncEngine
    transactions: SqlTransactionFactory
    registry: SubscriberRegistry
    journey: Journey
    proofs: Proofs
    privacy: Privacy
    work_orders: WorkOrders
    citizen: Citizen
    restorations: Restorations
    support: Support
    outbox_store: SqlOutboxStore
    staff_chats: StaffChats
    mailer: Mailer
    clock: Clock
    staff_chat_id: int
    closers: list[Any] = field(default_factory=list)
    # The e-gov login, when EGOV_* are set.
    egov: Egov | None = None

    async def close(self) -> None:
        for closer in self.closers:
            await closer()
        await self.engine.dispose()


def build_mailer(settings: Settings, clock: Clock | None = None) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            security=settings.smtp_security,
            mail_from=settings.mail_from,
            clock=clock,
        )
    return FileMailer(Path(settings.mail_dir), mail_from=settings.mail_from, clock=clock)


def build_services(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    registry: SubscriberRegistry | None = None,
    clock: Clock | None = None,
    mailer: Mailer | None = None,
) -> Services:
    engine = engine or create_engine(settings.database_url.get_secret_value())
    session_factory = create_session_factory(engine)
    transactions = SqlTransactionFactory(session_factory)
    closers: list[Any] = []
    if registry is None:
        if settings.billing_api_url:
            # Needs the running event loop: build_services is called from inside it.
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=settings.billing_timeout_s)
            )
            closers.append(session.close)
            token = settings.billing_api_token
            registry = HttpSubscriberRegistry(
                session,
                settings.billing_api_url.get_secret_value(),
                api_token=token.get_secret_value() if token else None,
            )
        else:
            registry = SqlSubscriberRegistry(session_factory)
    clock = clock or SystemClock()
    staff_chat_id = settings.staff_chat_id or 0
    outbox_store = SqlOutboxStore(engine)
    egov = build_egov(settings, engine, transactions, clock, closers)
    journey = Journey(
        registry,
        transactions,
        clock,
        staff_chat_id,
        require_verified=settings.require_verified_identity,
        deadline=timedelta(hours=settings.work_order_deadline_hours),
        suspend_until_max_days=settings.suspend_until_max_days,
    )
    return Services(
        engine=engine,
        transactions=transactions,
        registry=registry,
        journey=journey,
        proofs=Proofs(registry, transactions, clock),
        privacy=Privacy(transactions, clock, staff_chat_id),
        work_orders=WorkOrders(transactions, clock, staff_chat_id),
        citizen=Citizen(
            transactions,
            clock,
            staff_chat_id,
            deadline=timedelta(hours=settings.work_order_deadline_hours),
        ),
        restorations=Restorations(
            journey, hours=(settings.offer_from_hour, settings.offer_until_hour)
        ),
        support=Support(
            queries=SqlSupportQueries(session_factory),
            clock=clock,
            deadline=timedelta(hours=settings.work_order_deadline_hours),
            access_log=SqlAccessLog(session_factory),
        ),
        outbox_store=outbox_store,
        # One cache of the staff group's ids, following its upgrade to a supergroup, for
        # the staff router, the agents' /open there and the staff locale alike.
        staff_chats=StaffChats(staff_chat_id, outbox_store),
        mailer=mailer or build_mailer(settings, clock),
        clock=clock,
        staff_chat_id=staff_chat_id,
        closers=closers,
        egov=egov,
    )


def build_egov_web(
    settings: Settings, services: Services, bot: Bot, i18n: I18n, outbox: Waker | None
) -> EgovWeb | None:
    """The /auth routes of the e-gov login, None when it is off."""
    if services.egov is None:
        return None
    return egov_web(services.egov, bot, i18n, settings.default_locale, outbox)


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
    outbox: Waker | None = None,
    seen_updates: SeenUpdates | None = None,
) -> Dispatcher:
    """The dispatcher with every router, in order; ``outbox`` is woken after a staff press;
    with ``seen_updates`` (``build_seen_updates``) an update delivered again is skipped."""
    use_random_intent_ids()
    i18n = i18n or build_i18n(settings)
    storage = storage or MemoryStorage()
    withdrawals = Withdrawals(
        services.journey, services.transactions, services.clock, services.staff_chat_id
    )
    dialog_deps = DialogDeps(
        journey=services.journey,
        withdrawals=withdrawals,
        proofs=services.proofs,
        code_parser=SubscriberCodeParser(settings.subscriber_code_pattern),
        pay_url_template=settings.pay_url_template,
        default_locale=settings.default_locale,
        probing=build_probing(settings, storage, services),
        egov_link=egov_link(services.egov) if services.egov is not None else None,
    )
    storage = storage or MemoryStorage()
    privacy_deps = PrivacyDeps(
        privacy=services.privacy,
        proofs=services.proofs,
        erase_state=state_eraser(storage),
        retention_days=settings.retention_days,
        draft_days=settings.fsm_state_ttl_days,
    )
    dp = Dispatcher(
        storage=storage,
        events_isolation=events_isolation or SimpleEventIsolation(),
        dialog_deps=dialog_deps,
        privacy_deps=privacy_deps,
    )
    # A copy of an update is skipped after it waited its turn (the check holds a connection)
    # and before anything else touches a store.
    once = [OnceOnly(seen_updates)] if seen_updates is not None else []
    outermost(
        dp,
        InFlightLimit(settings.max_updates_in_flight),
        build_throttle(settings, i18n, storage, services.clock),
        *once,
        StorageErrorGuard(i18n, settings.default_locale),
    )
    commands.register_error_handlers(dp)
    dp.include_router(commands.setup())
    # The staff group's and the agents' routers come before the subscriber dialogs, so an
    # agent's /status works inside a dialog, and before the fallback that answers all.
    # One check of who is staff, for the cards' buttons and /open in the group alike.
    staff_access = staff.StaffAccess(settings.staff_user_ids)
    handlers = staff_handlers(settings, services, staff_access, outbox)
    presses = staff.WithdrawalPresses(handlers, withdrawals)
    dp.include_router(staff.setup(handlers, services.staff_chats, presses))
    dp.include_router(support.setup(support_handlers(settings, services, staff_access)))
    # The subscriber's answer after Done; a comment it waits for comes before the dialogs.
    dp.include_router(
        citizen.setup(
            citizen.CitizenHandlers(
                services.citizen,
                services.clock,
                default_locale=settings.default_locale,
                outbox=outbox,
            )
        )
    )
    # The restoration offer's button opens the application form, filled in.
    dp.include_router(restoration.setup(restoration.RestorationHandlers(services.restorations)))
    dp.include_router(dialogs.setup())
    dp.include_router(commands.fallback())
    dp.message.outer_middleware(ReplyCallbackGuard())  # before aiogram-dialog's, which it guards
    # A window below which a notice or an agent's answer arrived is sent anew, not edited.
    windows = FreshWindows(
        message_manager or BestEffortMessageManager(), LatestMessages(dp.storage)
    )
    setup_dialogs(dp, message_manager=windows)
    # Must run after setup_dialogs: I18nMiddleware wraps the observers that exist now,
    # including aiogram-dialog's background-update observer.
    ProfileI18nMiddleware(
        i18n,
        services.journey,
        default_locale=settings.default_locale,
        is_staff_chat=services.staff_chats.contains,
        staff_locale=settings.staff_locale,
    ).setup(dp)
    return dp


def outermost(dp: Dispatcher, *middlewares: Any) -> None:
    """Put ``middlewares`` before aiogram's own update middlewares (errors, user context,
    FSM and event isolation): an update waiting for its turn holds no Redis or database
    connection yet, so a burst never exhausts a pool; and a storage error raised anywhere
    inside, aiogram's error handling included, meets the guard."""
    manager = dp.update.outer_middleware
    existing = list(manager)
    for inner in existing:
        manager.unregister(inner)
    for middleware in middlewares:
        manager.register(middleware)
    for inner in existing:
        manager.register(inner)


def staff_handlers(
    settings: Settings, services: Services, access: staff.StaffAccess, outbox: Waker | None
) -> staff.StaffHandlers:
    return staff.StaffHandlers(
        services.work_orders,
        services.staff_chats,
        access,
        services.clock,
        locale=settings.staff_locale,
        outbox=outbox,
        done_photo=settings.done_photo,
    )


def support_handlers(
    settings: Settings, services: Services, staff_access: staff.StaffAccess
) -> support.SupportHandlers:
    return support.SupportHandlers(
        support=services.support,
        access=support.AgentAccess(
            settings.support_user_ids, settings.support_chat_id, services.clock
        ),
        support_chat_id=settings.support_chat_id,
        is_staff_chat=services.staff_chats.contains,
        staff_access=staff_access,
    )


def command_menus(settings: Settings) -> support.CommandMenus:
    return support.CommandMenus(
        default_locale=settings.default_locale,
        staff_chat_id=settings.staff_chat_id,
        support_chat_id=settings.support_chat_id,
        agent_ids=tuple(settings.support_user_ids),
    )


def build_outbox_runner(
    settings: Settings,
    services: Services,
    bot: Bot,
    i18n: I18n,
    *,
    clock: Clock | None = None,
    owner: str | None = None,
    timing: Timing | None = None,
    storage: BaseStorage | None = None,
) -> OutboxRunner:
    """The outbox runner with its two lanes (Telegram, e-mail), each sender handed the
    narrow objects it uses; ``clock`` and ``timing`` let the tests and the benchmark run
    it in virtual time (None: real time, the scheduled jobs every ``SCHEDULE_EVERY_S``). ``owner``: the worker's name in the leases (None: ``WORKER_ID`` or
    its default, held against a second process on this host, see ``bot.outbox.worker``).
    ``storage``: the dispatcher's FSM storage, where a notice is recorded as the newest
    message of its chat (``bot.screen``); without it the dialogs edit windows above notices."""
    if timing is None:
        timing = replace(REAL_TIME, reminder_every_s=settings.schedule_every_s)
    worker = None
    if owner is None:
        listen_port = settings.listen_port if settings.webhook_url else None
        worker_id = settings.worker_id or default_worker_id(listen_port)
        worker = claim_worker(worker_id, settings.database_url.get_secret_value())
        owner = worker.name
    store = services.outbox_store
    reader = ApplicationReader(services.transactions)
    # The outbox has retries and rate windows of its own: its calls skip the middleware.
    bot = without_retries(bot)
    links = StatusLinks(bot)
    limiter = RateLimiter(
        settings.outbox_per_chat_per_second,
        settings.outbox_per_group_per_minute,
        settings.outbox_global_per_second,
        margin_s=RATE_MARGIN_S,
        now=timing.monotonic,
        sleep=timing.sleep,
    )
    telegram = TelegramSender(
        bot,
        store,
        reader,
        i18n,
        links,
        staff_locale=settings.staff_locale,
        deadline_hours=settings.work_order_deadline_hours,
        limiter=limiter,
        latest=LatestMessages(storage) if storage is not None else None,
        contact_phone=settings.mail_contact_phone,
        restorations=services.restorations,
    )
    contact = Contact(phone=settings.mail_contact_phone, site=settings.mail_contact_site)
    email = EmailSender(services.mailer, reader, i18n, links, contact)
    return OutboxRunner(
        store=store,
        lanes=[telegram.lane(), email.lane()],
        reminders=Reminders(
            services.work_orders,
            deadline=timedelta(hours=settings.work_order_deadline_hours),
            interval=timedelta(hours=settings.reminder_interval_hours),
        ),
        clock=clock or services.clock,
        owner=owner,
        lease=timedelta(seconds=settings.outbox_lease_s),
        timing=timing,
        worker=worker,
        restorations=services.restorations,
    )


def build_retention(settings: Settings, services: Services) -> RetentionJob:
    """The hourly job that anonymises applications closed more than RETENTION_DAYS ago."""
    return RetentionJob(services.privacy, days=settings.retention_days)


def build_storage(
    settings: Settings, services: Services
) -> tuple[BaseStorage, BaseEventIsolation]:
    """Dialog and FSM state: Redis, the bot's own database (the default without Redis, so a
    restart keeps every draft; one worker, so the isolation is in-process) or memory."""
    ttl = timedelta(days=settings.fsm_state_ttl_days)
    if settings.fsm_backend == "redis":
        if settings.redis_url is None:  # Settings refuse FSM_STORAGE=redis without it
            raise ValueError("REDIS_URL is required when FSM_STORAGE is redis")
        # A pool that waits for a free connection: a burst larger than the pool queues
        # instead of failing with "Too many connections" (redis-py's default pool fails).
        pool = BlockingConnectionPool.from_url(
            settings.redis_url.get_secret_value(),
            max_connections=settings.redis_pool_size,
            timeout=settings.redis_pool_timeout_s,
        )
        storage = RedisStorage(
            Redis(connection_pool=pool),
            # aiogram-dialog keeps its stacks under their own "destiny": the key must carry it.
            key_builder=DefaultKeyBuilder(with_destiny=True),
            state_ttl=ttl,
            data_ttl=ttl,
        )
        return storage, RedisEventIsolation(storage.redis)
    if settings.fsm_backend == "database":
        return SqlStorage(services.engine, clock=services.clock, ttl=ttl), SimpleEventIsolation()
    return MemoryStorage(), SimpleEventIsolation()


def build_seen_updates(
    settings: Settings, services: Services, storage: BaseStorage
) -> SeenUpdates | None:
    """The record of updates already taken, shared by every worker: in Redis when dialog
    state is there (through the same connection pool), else in the bot's database; None
    with SEEN_UPDATES_TTL_HOURS 0."""
    if not settings.seen_updates_ttl_hours:
        return None
    ttl = timedelta(hours=settings.seen_updates_ttl_hours)
    if isinstance(storage, RedisStorage):
        return RedisSeenUpdates(storage.redis, ttl)
    return SqlSeenUpdates(services.engine, ttl=ttl, clock=services.clock)
