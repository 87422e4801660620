"""The real product, wired for a benchmark: its database, settings and dispatcher.

Nothing here replaces a part of the product: ``bot.app.build_services``, ``build_storage``
and ``build_dispatcher`` (the composition root) build the same objects production runs, with
the default (real) aiogram-dialog message manager; only the Bot's session is a fake
(:mod:`bench.fakes`). Dialog state lives where production keeps it for these settings: in
the bot's database (``storage.fsm.SqlStorage``), or in Redis with ``REDIS_URL``;
``FSM_STORAGE=memory`` in the environment puts it in MemoryStorage (the benchmark's product
until 2026-12-07). The database is a fresh SQLite file (or a scratch PostgreSQL database),
migrated with ``storage.migrate.upgrade_to_head`` and loaded with the product's own
``import_subscribers`` from a generated CSV: one meterless, debt-free, active subscriber per
simulated user, owned by that user's FIN (see :func:`bench.users.code_of`).
"""

from __future__ import annotations

import asyncio
import csv
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiogram import Dispatcher
from sqlalchemy.engine import make_url

from bench.users import code_of, fin_of
from bot.app import Services, build_dispatcher, build_services, build_storage
from bot.config import Settings
from storage.database import create_engine
from storage.migrate import upgrade_to_head
from storage.subscribers_import import HEADER, import_subscribers

STAFF_CHAT_ID = -1001234567890
BENCH_TOKEN = "42:BENCH"  # noqa: S105 - the offline fake Bot API's token, no real bot


def bench_settings(database_url: str, mail_dir: Path, **extra: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        BOT_TOKEN=BENCH_TOKEN,
        STAFF_CHAT_ID=STAFF_CHAT_ID,
        DATABASE_URL=database_url,
        MAIL_DIR=str(mail_dir),
        LOG_LEVEL="WARNING",
        _env_file=None,
        **extra,
    )


def build_product(settings: Settings) -> tuple[Dispatcher, Services]:
    """The dispatcher on the storage production would use for ``settings``
    (``bot.app.build_storage``): the bot's database, or Redis with ``REDIS_URL``."""
    services = build_services(settings)
    storage, isolation = build_storage(settings, services)
    dp = build_dispatcher(settings, services, storage=storage, events_isolation=isolation)
    return dp, services


# --- the database -----------------------------------------------------------------------------


def write_registry(path: Path, count: int) -> None:
    """``count`` subscribers in the import format, one per simulated user index."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(HEADER)
        for index in range(count):
            address = f"Bakı ş., Nəsimi r., Azadlıq pr. {index % 300 + 1}, m. {index % 97 + 1}"
            writer.writerow((code_of(index), fin_of(index), "true", "0.00", "active", address))


async def _import(url: str, csv_path: Path) -> int:
    engine = create_engine(url)
    try:
        result = await import_subscribers(engine, csv_path)
    finally:
        await engine.dispose()
    return result.total


def prepare_database(url: str, subscribers: int) -> int:
    """Migrate ``url`` to head and load the subscribers (call outside any event loop)."""
    upgrade_to_head(url)
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
        csv_path = Path(tmp) / "subscribers.csv"
        write_registry(csv_path, subscribers)
        return asyncio.run(_import(url, csv_path))


def scratch_postgres_url(url: str, name: str = "azersu_bench") -> str:
    """The URL of a scratch database next to ``url``'s (same server and credentials)."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@asynccontextmanager
async def _server(url: str) -> AsyncIterator[Any]:
    """An asyncpg connection to the database of ``url`` (the admin side of the scratch one)."""
    import asyncpg  # the postgres extra; only needed when DATABASE_URL is given

    parsed = make_url(url)
    conn = await asyncpg.connect(
        user=parsed.username,
        password=parsed.password,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
    )
    try:
        yield conn
    finally:
        await conn.close()


async def recreate_postgres(url: str, scratch: str) -> None:
    """Drop and create the scratch database; the database of ``url`` itself is not touched."""
    name = make_url(scratch).database
    async with _server(url) as conn:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')


async def drop_postgres(url: str, scratch: str) -> None:
    async with _server(url) as conn:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(scratch).database}" WITH (FORCE)')
