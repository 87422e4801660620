"""The probing counters (``workflows.probing.ProbeCounters``) in Redis, shared by every worker.

Sets of hashes, each expiring two days after it was first written (so nothing is purged by
hand): ``<prefix>:<day>:<account>:<kind>`` holds the values an account tried,
``<prefix>:<day>:code:<hash>`` the accounts that tried a code, and
``<prefix>:<day>:warned:<hash>`` (``SET NX``) marks the code's warning as given.
"""

from __future__ import annotations

from datetime import timedelta

from redis.asyncio import Redis

from workflows.probing import KEEP_DAYS, ProbeKind

TTL_S = int(timedelta(days=KEEP_DAYS).total_seconds())


class RedisProbeCounters:
    def __init__(self, redis: Redis, *, prefix: str = "probe") -> None:
        self.redis = redis
        self.prefix = prefix

    def _tried_key(self, day: str, account: int, kind: ProbeKind) -> str:
        return f"{self.prefix}:{day}:{account}:{kind.value}"

    def _code_key(self, day: str, code: str) -> str:
        return f"{self.prefix}:{day}:code:{code}"

    async def tried(self, day: str, account: int, kind: ProbeKind) -> frozenset[str]:
        members = await self.redis.smembers(self._tried_key(day, account, kind))
        return frozenset(m.decode() if isinstance(m, bytes) else m for m in members)

    async def add(self, day: str, account: int, kind: ProbeKind, value: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            key = self._tried_key(day, account, kind)
            pipe.sadd(key, value).expire(key, TTL_S)
            if kind is ProbeKind.CODE:
                code_key = self._code_key(day, value)
                pipe.sadd(code_key, str(account)).expire(code_key, TTL_S)
            await pipe.execute()

    async def accounts(self, day: str, code: str) -> int:
        return int(await self.redis.scard(self._code_key(day, code)))

    async def first_warning(self, day: str, code: str) -> bool:
        key = f"{self.prefix}:{day}:warned:{code}"
        return bool(await self.redis.set(key, b"1", nx=True, ex=TTL_S))

    async def purge(self, before_day: str) -> None:
        """Nothing to do: every key expires by itself."""
