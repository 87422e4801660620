"""The retention job: a background task of every worker that, once an hour, anonymises the
applications closed more than RETENTION_DAYS ago (``workflows.privacy``) and deletes expired
e-gov logins and past probe counters.

Several workers may run it at once: a row is anonymised once (the query skips anonymised
rows, and on PostgreSQL the rows another run holds), so the runs only share the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from workflows.privacy import RETENTION_BATCH, Privacy

logger = logging.getLogger(__name__)

EVERY_S = 3600.0


@dataclass
class RetentionJob:
    privacy: Privacy
    days: int
    every_s: float = EVERY_S
    batch: int = RETENTION_BATCH
    _stop: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    async def run_once(self) -> int:
        """One run: returns how many applications were anonymised."""
        count = await self.privacy.retention(days=self.days, batch=self.batch)
        purged = await self.privacy.purge_expired()
        if count or purged:
            logger.info(
                "retention: %d applications anonymised, %d expired rows deleted", count, purged
            )
        return count

    async def start(self) -> None:
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        task, self._task = self._task, None
        try:
            await asyncio.wait_for(task, timeout=15)
        except TimeoutError:
            logger.warning("retention: the run in progress was cancelled at shutdown")

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception:
                logger.exception("retention run failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.every_s)
