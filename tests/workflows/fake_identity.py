"""In-memory fakes of the identity roles (``Verifications``, ``AuditLog``), on the tables of
:class:`tests.workflows.fakes.FakeDatabase`, with the same unit-of-work rules."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from workflows.identity import AuditEvent, Verification


class Table(Protocol):
    def get(self, key: object) -> object: ...
    def rows(self) -> list[object]: ...
    def put(self, key: object, value: object) -> None: ...


class FakeVerifications:
    def __init__(self, table: Table) -> None:
        self._table = table

    async def of_account(self, telegram_user_id: int) -> Sequence[Verification]:
        await asyncio.sleep(0)
        found = [v for v in self._rows() if v.telegram_user_id == telegram_user_id]
        return sorted(found, key=lambda v: v.at)

    async def of_fin(self, fin: str) -> Sequence[Verification]:
        await asyncio.sleep(0)
        return sorted((v for v in self._rows() if v.fin == fin), key=lambda v: v.at)

    async def add(self, verification: Verification) -> None:
        await asyncio.sleep(0)
        self._table.put((verification.telegram_user_id, verification.fin), verification)

    async def drop(self, telegram_user_id: int) -> int:
        await asyncio.sleep(0)
        mine = [v for v in self._rows() if v.telegram_user_id == telegram_user_id]
        for v in mine:
            self._table.put((v.telegram_user_id, v.fin), None)
        return len(mine)

    def _rows(self) -> list[Verification]:
        return [v for v in self._table.rows() if isinstance(v, Verification)]


class FakeAuditLog:
    def __init__(self, table: Table) -> None:
        self._table = table

    async def record(self, event: AuditEvent) -> None:
        await asyncio.sleep(0)
        self._table.put(len(self._table.rows()), event)
