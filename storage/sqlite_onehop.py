"""One thread round trip per SQLite statement instead of four.

aiosqlite runs every call of the ``sqlite3`` API in a thread of its own and hands each result
back through the event loop. SQLAlchemy's adapter makes four such calls per statement (open a
cursor, execute, fetch the rows, close the cursor), and every one of them wakes the event loop
and resumes the whole stack of the update being handled. The benchmark of issue 7 counted 31
round trips in one subscriber's journey; each costs more CPU than the SQL it carries.

:class:`OneHopCursor` does the same four steps in the connection's thread as one call and
keeps what SQLAlchemy reads afterwards (description, rows, rowcount, lastrowid), and
:class:`OneHopConnection` skips the ROLLBACK of a connection with no transaction open. Transactions,
errors and their translation are untouched: the ``sqlite3`` calls are the same ones, in the
same order, on the same connection. :func:`use_one_hop_cursors` switches a freshly opened
connection to it (``storage.database`` does so on connect).

It relies on two internals, checked by ``tests/storage/test_sqlite_onehop.py``: aiosqlite's
``Connection._execute(fn, ...)`` (run ``fn`` in the connection's thread) and ``_conn`` (the
``sqlite3`` connection), and SQLAlchemy's ``_cursor_cls`` hook of the adapted connection.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.util import EMPTY_DICT

_Outcome = tuple[Any, list[Any] | None, int, int | None]


def _execute(conn: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
    """In aiosqlite's thread: execute, read everything, close the cursor."""
    cursor = conn.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _executemany(conn: sqlite3.Connection, operation: str, seq: Sequence[Any]) -> _Outcome:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, seq)
        return cursor.description, None, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A client-side cursor whose statement is one call into aiosqlite's thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        # No cursor is opened here: that would be a round trip of its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def _keep(self, outcome: _Outcome) -> None:
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows or ())

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            conn = self._connection
            self._keep(await conn._execute(_execute, conn._conn, operation, parameters))

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            conn = self._connection
            self._keep(await conn._execute(_executemany, conn._conn, operation, seq_of_parameters))

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    _cursor_cls = OneHopCursor

    def rollback(self) -> None:
        """No round trip when SQLite has no transaction open.

        The driver begins a transaction only before a write, so a read-only unit of work
        would end with a ROLLBACK that SQLite ignores but aiosqlite still carries to its
        thread and back. ``in_transaction`` is SQLite's own flag, read while no statement of
        this connection is running (SQLAlchemy uses a connection for one thing at a time).
        """
        raw = self._connection._connection
        if raw is not None and not raw.in_transaction:
            return
        super().rollback()


def use_one_hop_cursors(dbapi_connection: Any) -> None:
    """Switch an adapted aiosqlite connection (a "connect" event's argument) to one hop."""
    if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        dbapi_connection.__class__ = OneHopConnection
