"""Engine and session factory for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from storage.sqlite_onehop import use_one_hop_cursors


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite file so the first start needs no manual step."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


# SQLite writes one transaction at a time and every aiosqlite connection is a thread of its
# own: a few connections serve a worker best (more only add threads fighting for the GIL).
SQLITE_POOL_SIZE = 4
POOL_TIMEOUT_S = 60


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    # Every unit of work ends its own transaction (commit, or the rollback of
    # AsyncConnection/AsyncSession close), so the pool's extra ROLLBACK at check-in is a
    # wasted round trip.
    # hide_parameters: a failed statement's error (and so the traceback an unexpected error
    # logs) would otherwise carry its values, a FIN, a phone or an e-mail among them.
    kwargs: dict[str, Any] = {"echo": echo, "pool_reset_on_return": None, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        ensure_sqlite_dir(url)
        kwargs["connect_args"] = {"timeout": 30}
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            kwargs.update(pool_size=SQLITE_POOL_SIZE, max_overflow=0, pool_timeout=POOL_TIMEOUT_S)
    else:
        # No pool_pre_ping: on asyncpg SQLAlchemy's ping is BEGIN, a query and ROLLBACK (three
        # round trips, for PgBouncer's transaction mode) at every checkout, more than a unit
        # of work's own statements (benchmark: issue 7). _replace_closed does its job without
        # a round trip.
        kwargs.update(pool_size=10, max_overflow=20, pool_timeout=POOL_TIMEOUT_S)
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _tune_sqlite(engine)
    else:
        event.listen(engine.sync_engine, "checkout", _replace_closed)
    return engine


def _replace_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Have the pool replace a connection the server has closed, before anyone uses it.

    When PostgreSQL restarts, or ends an idle session, asyncpg's protocol reads the end of
    the stream as soon as the event loop turns and marks the connection closed; raising
    ``DisconnectionError`` at checkout makes the pool discard it and open a fresh one. A
    connection that died without a word (a network partition) fails at its first statement
    instead, and the pool then discards every connection opened before it.
    """
    is_closed = getattr(dbapi_connection.driver_connection, "is_closed", None)
    if is_closed is not None and is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        use_one_hop_cursors(dbapi_conn)
        # aiosqlite opens the connection in a transaction-less mode; these PRAGMAs
        # must run outside a transaction.
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


def dialect_insert(dialect: str) -> Callable[[Table], Any]:
    """``INSERT`` with ``ON CONFLICT`` (upserts) for the database named ``dialect``."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@asynccontextmanager
async def connected(
    engine: AsyncEngine, *, read_only: bool = False
) -> AsyncIterator[AsyncConnection]:
    """``async with engine.connect()`` without a task per unit of work.

    ``read_only``: on PostgreSQL the statements run in autocommit mode, without the BEGIN
    and the ROLLBACK that would otherwise cost a round trip each around a SELECT (the mode is
    a flag of the driver's connection, reset when the pool takes it back). SQLite needs
    nothing: its driver begins a transaction only before a write.

    SQLAlchemy's ``AsyncConnection.__aexit__`` closes the connection in a new task behind
    ``asyncio.shield``, so that a cancellation cannot interrupt the close. That costs a task
    and a turn of the event loop on every unit of work (benchmark: issue 7). A unit of work
    that ends normally has committed, or has nothing to roll back, so its close only returns
    the connection to the pool; a unit of work that failed or was cancelled is still closed
    (rolled back) behind the shield.
    """
    conn = await engine.connect()
    try:
        if read_only and is_postgres(engine):
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn
    except BaseException:
        await asyncio.shield(conn.close())
        raise
    await conn.close()
