"""The pending e-gov logins (``oidc_states``): :class:`workflows.egov_login.LoginStates`.

A take is one statement, ``UPDATE ... SET used_at = now WHERE state = ? AND used_at IS NULL
AND expires_at > now RETURNING ...``: of two workers handed the same callback, the second
finds the row used (on PostgreSQL its UPDATE waits for the first to commit, then re-checks the
condition), so a state is good for one login only. Used rows stay until they expire (a
replay meets ``used_at``); the use case purges the long-expired ones.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, delete, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import connected
from storage.models import OidcStateRow
from workflows.egov_login import LoginStates, PendingLogin

oidc_states: Table = OidcStateRow.__table__  # type: ignore[assignment]
_C = oidc_states.c


class SqlLoginStates(LoginStates):
    __slots__ = ("_engine",)

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, login: PendingLogin) -> None:
        async with connected(self._engine) as conn:
            await conn.execute(
                oidc_states.insert(),
                {
                    "state": login.state,
                    "telegram_user_id": login.account,
                    "chat_id": login.chat_id,
                    "code_verifier": login.code_verifier,
                    "nonce": login.nonce,
                    "expires_at": login.expires_at,
                    "used_at": None,
                },
            )
            await conn.commit()

    async def take(self, state: str, now: datetime) -> PendingLogin | None:
        stmt = (
            update(oidc_states)
            .where(_C.state == state, _C.used_at.is_(None), _C.expires_at > now)
            .values(used_at=now)
            .returning(_C.telegram_user_id, _C.chat_id, _C.code_verifier, _C.nonce, _C.expires_at)
        )
        async with connected(self._engine) as conn:
            row = (await conn.execute(stmt)).first()
            await conn.commit()
        if row is None:
            return None
        return PendingLogin(
            state=state,
            account=row.telegram_user_id,
            chat_id=row.chat_id,
            code_verifier=row.code_verifier,
            nonce=row.nonce,
            expires_at=row.expires_at,
        )

    async def purge(self, before: datetime) -> int:
        async with connected(self._engine) as conn:
            result = await conn.execute(delete(oidc_states).where(_C.expires_at < before))
            await conn.commit()
        return int(result.rowcount or 0)
