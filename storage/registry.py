"""The embedded subscriber registry (the ``subscribers`` table ``import-subscribers`` fills):
its reads outside any unit of work, and the service state a finished work order writes back."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from storage.database import connected
from storage.models import SubscriberRow
from workflows.models import ServiceState, Subscriber
from workflows.ports import RegistryWriteBack

subscribers: Table = SubscriberRow.__table__  # type: ignore[assignment]
_SUBSCRIBER = select(subscribers).where(subscribers.c.code == bindparam("code"))


def engine_of(session_factory: async_sessionmaker) -> AsyncEngine:
    bind = session_factory.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the session factory must be bound to an AsyncEngine")
    return bind


class SqlRegistryWriteBack(RegistryWriteBack):
    """The service state in the embedded ``subscribers`` table (no row: nothing to do)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def set_service_state(self, subscriber_code: str, state: ServiceState) -> None:
        await self._conn.execute(
            update(subscribers)
            .where(subscribers.c.code == subscriber_code)
            .values(service_state=state.value)
        )


class SqlSubscriberRegistry:
    """The embedded registry: the ``subscribers`` table filled by ``import-subscribers``."""

    def __init__(self, session_factory: async_sessionmaker) -> None:
        self.engine = engine_of(session_factory)

    async def lookup(self, code: str) -> Subscriber | None:
        async with connected(self.engine, read_only=True) as conn:
            row = (await conn.execute(_SUBSCRIBER, {"code": code})).first()
            if row is None:
                return None
            return Subscriber(
                code=row.code,
                meterless=row.meterless,
                debt=Decimal(row.debt_azn),
                state=ServiceState(row.service_state),
                address=row.address,
                owner_fin=row.owner_fin,
                phone=row.phone,
            )
