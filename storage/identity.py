"""Proofs of identity and the audit log, on the unit of work's connection."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import dialect_insert
from storage.models import AuditRow, VerificationRow
from workflows.identity import AuditEvent, IdentityMethod, Verification
from workflows.ports import AuditLog, Verifications

verifications: Table = VerificationRow.__table__  # type: ignore[assignment]
audit_log: Table = AuditRow.__table__  # type: ignore[assignment]


@cache
def _add_verification(dialect: str) -> Any:
    stmt = dialect_insert(dialect)(verifications)
    return stmt.on_conflict_do_update(
        index_elements=[verifications.c.telegram_user_id, verifications.c.fin],
        set_={"method": stmt.excluded.method, "verified_at": stmt.excluded.verified_at},
    )


def _verification(row: Any) -> Verification:
    return Verification(row.telegram_user_id, row.fin, IdentityMethod(row.method), row.verified_at)


class SqlVerifications(Verifications):
    __slots__ = ("_conn",)

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def of_account(self, telegram_user_id: int) -> Sequence[Verification]:
        stmt = (
            select(verifications)
            .where(verifications.c.telegram_user_id == telegram_user_id)
            .order_by(verifications.c.verified_at)
        )
        return [_verification(r) for r in await self._conn.execute(stmt)]

    async def of_fin(self, fin: str) -> Sequence[Verification]:
        stmt = (
            select(verifications)
            .where(verifications.c.fin == fin)
            .order_by(verifications.c.verified_at)
        )
        return [_verification(r) for r in await self._conn.execute(stmt)]

    async def add(self, verification: Verification) -> None:
        await self._conn.execute(
            _add_verification(self._conn.dialect.name),
            {
                "telegram_user_id": verification.telegram_user_id,
                "fin": verification.fin,
                "method": verification.method.value,
                "verified_at": verification.at,
            },
        )

    async def drop(self, telegram_user_id: int) -> int:
        result = await self._conn.execute(
            delete(verifications).where(verifications.c.telegram_user_id == telegram_user_id)
        )
        return int(result.rowcount or 0)


class SqlAuditLog(AuditLog):
    __slots__ = ("_conn",)

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(self, event: AuditEvent) -> None:
        await self._conn.execute(
            audit_log.insert(),
            {
                "at": event.at,
                "actor": event.actor,
                "action": event.action.value,
                "subject": event.subject,
                "detail": event.detail,
            },
        )
