"""The outbox: sends what the use cases owe, after their commit.

Every message the system owes (staff card, card edit, reminder, subscriber notice, e-mail)
is a row of the outbox, written in the same transaction as the change that caused it. This
package delivers those rows; it is plain Python over two ports. Its rooms:

* ``records``: the channels, kinds and statuses of a row (:class:`Channel`,
  :class:`OutboxKind`, :class:`OutboxStatus`), the claimed row, what a send produced, and
  the typed :class:`DeliveryError` a sender raises: :class:`RetryLater` (with the server's
  ``retry_after`` when there is one), :class:`PermanentFailure` (a blocked user, a refused
  address) or :class:`ChatMigrated` (a group upgraded to a supergroup).
* ``ports``: :class:`OutboxStore` claims due rows with a *lease* (a row claimed by one
  dispatcher is invisible to the others until the lease ends) and records the outcome.
  :class:`Sender` renders and delivers one row of its channel.
* ``leases``: short leases renewed by a heartbeat while rows are in delivery, and taken
  back at once by a worker started again after a crash (:class:`Leases`).
* ``leader``: one dispatcher of the whole bot sends Telegram's rows at a time, so
  Telegram's limits hold for the bot, not per process (:class:`Leadership`).
* ``limits``: the backoff of retries (:class:`RetryPolicy`) and Telegram's rate limits
  (:class:`RateLimiter`).
* ``chats``: the chat each Telegram recipient is sent to now (groups upgrade).
* ``dispatcher``: one lane's loop (:class:`OutboxDispatcher`).

The names below are the package's public ones; new code imports them from their modules.
"""

from workflows.outbox.dispatcher import OutboxDispatcher
from workflows.outbox.limits import RateLimiter, RetryPolicy, Window
from workflows.outbox.ports import ClaimScope, OutboxStore, Sender
from workflows.outbox.records import (
    CardRef,
    Channel,
    ChatMigrated,
    Claimed,
    Delivered,
    DeliveryError,
    OutboxKind,
    OutboxStatus,
    PermanentFailure,
    RetryLater,
)

__all__ = [
    "CardRef",
    "Channel",
    "ChatMigrated",
    "ClaimScope",
    "Claimed",
    "Delivered",
    "DeliveryError",
    "OutboxDispatcher",
    "OutboxKind",
    "OutboxStatus",
    "OutboxStore",
    "PermanentFailure",
    "RateLimiter",
    "RetryLater",
    "RetryPolicy",
    "Sender",
    "Window",
]
