"""A dispatcher's leases on the rows it sends: short, renewed while it holds them, and
taken back from its own previous incarnation when it starts.

Names. A dispatcher's ``owner`` is stable across restarts of its process
(``<WORKER_ID>/<lane>``); each run of the process is an *incarnation* of it,
``<owner>#<random>``; each claim's token is ``<incarnation>:<n>`` (``lease_owner`` of
its rows).

* A claim leases its rows for ``lease`` (30 s by default, ``OUTBOX_LEASE_S``). While the
  dispatcher has rows in delivery a *heartbeat* extends the lease of all of them at once
  (one statement) every sixth of the lease, so a send that takes long (a row waiting for
  its chat's limit, a slow Bot API) keeps its rows, and the rows of a dead process are
  free again within one lease. Only the rows in delivery are renewed: a row whose
  delivery crashed before its outcome was written is free again after one lease.
* At start a dispatcher takes back at once what its previous incarnation still had
  leased: a process killed with SIGKILL and started again resumes those chats without
  waiting for the lease to end.

Per-chat order is the store's: a row is claimed only when no older row of its recipient
is pending, leased or not, so a newer row never overtakes a row of a dead process.

The one window of a duplicate lies between Telegram (or the SMTP server) accepting a
message and the row being marked sent: a process killed in it, an answer lost on the way
(a timeout after the message was accepted), or a process frozen in it for longer than the
lease leaves the row pending, and whoever claims it next sends it again.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workflows.outbox.ports import OutboxStore

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
# Heartbeats per lease: five may be missed (a slow database, a busy process) before the
# lease of a row still being sent runs out.
BEATS_PER_LEASE = 6


def incarnation_of(owner: str) -> str:
    """A name for this run of ``owner``'s process: ``<owner>#<random>``."""
    return f"{owner}#{secrets.token_hex(4)}"


@dataclass
class Leases:
    """The heartbeat and the take-back of one dispatcher's leases."""

    store: OutboxStore
    owner: str
    lease: timedelta = LEASE
    incarnation: str = field(default="", repr=False)
    _next_beat: datetime | None = field(default=None, init=False, repr=False)
    _taken_back: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        if "#" in self.owner:
            raise ValueError(f"an outbox owner has no '#': {self.owner!r}")
        self.incarnation = self.incarnation or incarnation_of(self.owner)

    @property
    def beat_every(self) -> timedelta:
        return self.lease / BEATS_PER_LEASE

    async def take_back(self) -> None:
        """Once per incarnation, before its first claim: free the rows its predecessor left."""
        if self._taken_back:
            return
        count = await self.store.take_back(self.owner, self.incarnation)
        self._taken_back = True
        if count:
            logger.info("outbox %s: took back %d rows leased before a restart", self.owner, count)

    def claimed(self, now: datetime) -> None:
        """Rows were leased at ``now``: the next beat is due a ``beat_every`` later."""
        if self._next_beat is None:
            self._next_beat = now + self.beat_every

    async def beat(self, now: datetime, rows: Collection[int]) -> None:
        """While ``rows`` (ids) are in delivery, renew their leases every ``beat_every``."""
        if not rows:
            self._next_beat = None
            return
        if self._next_beat is None:
            self.claimed(now)
            return
        if now < self._next_beat:
            return
        self._next_beat = now + self.beat_every
        renewed = await self.store.renew(self.incarnation, rows, now, self.lease)
        logger.debug("outbox %s: renewed the lease of %d rows", self.owner, renewed)
