"""Simulated subscribers through the whole journey against a Bot API that fails on purpose.

The real dispatcher (``bot.app.build_services`` and ``build_dispatcher``, with their default
message manager) and the real outbox runner, in front of :class:`FaultyTelegram`; the users
are the benchmark's (:class:`bench.users.SimUser`, all at once). The session carries the
retry middleware as ``bot.app.build_bot`` installs it, with its waits virtual; the outbox
sends through ``without_retries``, as in ``bot.main``. ``retries=False`` runs the code as
it was before them: no middleware, aiogram-dialog's own message manager.

Figures: ``python -m tests.telegram.load --rate 0.1 [--before] [--users 200] [--seed 1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram_dialog.manager.message_manager import MessageManager
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.product import write_registry
from bench.users import Meter, SimUser
from bot.app import build_dispatcher, build_i18n, build_services, build_storage
from bot.config import Settings
from bot.outbox.runner import OutboxRunner
from bot.telegram_retries import TelegramRetries
from storage.database import create_engine
from storage.migrate import upgrade_to_head
from storage.models import ApplicationRow, OutboxRow
from storage.subscribers_import import import_subscribers
from tests.outbox.fake_telegram import VirtualClock
from tests.outbox.harness import virtual_runner
from tests.telegram.faults import FaultyTelegram, bot_on

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
STAFF_CHAT_ID = -1001000000001


@dataclass
class Outcome:
    users: int
    numbers: list[int] = field(default_factory=list)  # one per user who saw its number
    failures: list[str] = field(default_factory=list)
    applications_by_user: Counter[int] = field(default_factory=Counter)
    cards: dict[int, tuple[int | None, int | None]] = field(default_factory=dict)
    staff_messages: list[int] = field(default_factory=list)  # ids that reached the group
    faults: Counter[str] = field(default_factory=Counter)
    waits: list[float] = field(default_factory=list)  # the middleware's (virtual) sleeps
    pending: int = 0

    @property
    def reached(self) -> int:
        return len(self.numbers)


async def _pending(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).where(OutboxRow.status == "pending")
        return int((await conn.execute(query)).scalar_one())


@dataclass
class Rig:
    """The product in front of a fake Bot API: bot, dispatcher, outbox runner, clock."""

    session: FaultyTelegram
    bot: Bot
    dp: Dispatcher
    runner: OutboxRunner
    clock: VirtualClock
    waits: list[float]  # the retry middleware's (virtual) sleeps

    async def drain(self, engine: AsyncEngine) -> int:
        """Run the outbox in virtual time until nothing is pending (5 h at most)."""
        for _step in range(3600):
            await self.runner.flush()
            if not await _pending(engine):
                break
            self.clock.advance(timedelta(seconds=5))
        return await _pending(engine)


def build_rig(
    settings: Settings,
    engine: AsyncEngine,
    session: FaultyTelegram,
    *,
    retries: bool = True,
    seed: int = 1,
    storage: BaseStorage | None = None,
    isolation: BaseEventIsolation | None = None,
) -> Rig:
    clock = VirtualClock(START)
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(0)

    if retries:
        session.middleware(TelegramRetries(sleep=no_wait, rng=random.Random(seed)))
    bot = bot_on(session)
    services = build_services(settings, engine=engine, clock=clock)
    i18n = build_i18n(settings)
    manager = None if retries else MessageManager()
    runner = virtual_runner(bot, services, settings, i18n, clock, seed=seed)
    dp = build_dispatcher(
        settings,
        services,
        storage=storage,
        events_isolation=isolation,
        message_manager=manager,
        i18n=i18n,
        outbox=runner,
    )
    return Rig(session, bot, dp, runner, clock, waits)


async def faulted_journeys(
    settings: Settings,
    engine: AsyncEngine,
    session: FaultyTelegram,
    *,
    users: int = 200,
    retries: bool = True,
    storage: BaseStorage | None = None,
    isolation: BaseEventIsolation | None = None,
) -> Outcome:
    """``users`` subscribers at once through the journey, then the outbox until it is
    empty. The registry must hold ``bench.product``'s rows (:func:`load_registry`)."""
    rig = build_rig(
        settings,
        engine,
        session,
        retries=retries,
        seed=session.seed,
        storage=storage,
        isolation=isolation,
    )
    meter = Meter(keep_latencies=False)
    await asyncio.gather(
        *(SimUser(rig.dp, rig.bot, session, i, meter).run() for i in range(users))
    )
    outcome = Outcome(users=users, pending=await rig.drain(engine), waits=rig.waits)
    outcome.numbers, outcome.failures = meter.numbers, meter.failures
    outcome.faults = session.faults
    staff_chat = settings.staff_chat_id or 0
    outcome.staff_messages = [m.message_id for m in session.sent.get(staff_chat, [])]
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                ApplicationRow.number,
                ApplicationRow.telegram_user_id,
                ApplicationRow.staff_chat_id,
                ApplicationRow.staff_message_id,
            )
        )
        for number, user_id, chat_id, message_id in rows.all():
            outcome.applications_by_user[user_id] += 1
            outcome.cards[number] = (chat_id, message_id)
    await rig.dp.storage.close()
    return outcome


async def load_registry(engine: AsyncEngine, users: int, directory: Path) -> None:
    """One subscriber per simulated user, as the benchmark generates them."""
    path = directory / "subscribers.csv"
    write_registry(path, users)
    await import_subscribers(engine, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=0.1)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--before", action="store_true", help="no retries (the old code)")
    parser.add_argument("--database-url", help="an empty database to use (default: SQLite)")
    parser.add_argument("--redis-url", help="dialog state in this Redis (flushed first)")
    parser.add_argument("--redis-pool", type=int, help="REDIS_MAX_CONNECTIONS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="faulted-") as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bot.db"
        upgrade_to_head(url)
        settings = Settings(  # type: ignore[call-arg]
            BOT_TOKEN="42:TEST",
            STAFF_CHAT_ID=STAFF_CHAT_ID,
            DATABASE_URL=url,
            REDIS_URL=args.redis_url,
            REDIS_MAX_CONNECTIONS=args.redis_pool,
            MAIL_DIR=f"{tmp}/mail",
            LOG_LEVEL="ERROR",
            _env_file=None,
        )

        async def run() -> Outcome:
            engine = create_engine(url)
            try:
                await load_registry(engine, args.users, Path(tmp))
                session = FaultyTelegram(args.rate, seed=args.seed)
                storage, isolation = None, None
                if args.redis_url:
                    storage, isolation = build_storage(
                        settings, build_services(settings, engine=engine)
                    )
                    await storage.redis.flushdb()
                return await faulted_journeys(
                    settings,
                    engine,
                    session,
                    users=args.users,
                    retries=not args.before,
                    storage=storage,
                    isolation=isolation,
                )
            finally:
                await engine.dispose()

        outcome = asyncio.run(run())
    cards = Counter(outcome.staff_messages)
    print(
        f"rate={args.rate} seed={args.seed} {'before' if args.before else 'after'}: "
        f"{outcome.reached}/{outcome.users} reached their number, "
        f"{len(set(outcome.numbers))} distinct, "
        f"max applications per user {max(outcome.applications_by_user.values(), default=0)}, "
        f"{len(outcome.cards)} applications, {len(cards)} cards posted, "
        f"pending {outcome.pending}, faults {dict(outcome.faults)}"
    )
    for failure in outcome.failures[:5]:
        print("  ", failure)


if __name__ == "__main__":
    main()
