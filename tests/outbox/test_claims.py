"""What the Telegram lane claims and when: groups' rows first (their 20 a minute are the
bottleneck), still oldest first per recipient, and a row whose chat frees within a moment
is held for it rather than handed back to the table."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from storage.models import OutboxRow
from storage.outbox import SqlOutboxStore
from tests.outbox.harness import Harness, RecordingMailer, make_harness
from tests.outbox.test_two_dispatchers import FAST
from tests.support import eventually
from workflows.outbox.ports import ClaimScope
from workflows.outbox.records import Channel, OutboxKind, OutboxStatus
from workflows.ports import OutboxItem

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
GROUP = "-1001234567890"


async def _rows(engine: AsyncEngine, recipients: list[str]) -> None:
    rows = [
        {
            "created_at": NOW,
            "kind": OutboxKind.NOTICE,
            "channel": Channel.TELEGRAM,
            "recipient": recipient,
            "dedupe_key": f"k{i}",
            "application_number": None,
            "payload": {},
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": NOW,
        }
        for i, recipient in enumerate(recipients)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(OutboxRow), rows)


async def test_groups_rows_are_claimed_first_and_in_order(engine: AsyncEngine) -> None:
    await _rows(engine, ["1", "2", "3", GROUP, "1", GROUP])
    store = SqlOutboxStore(engine)
    lease = timedelta(minutes=5)

    telegram = ClaimScope(channel=Channel.TELEGRAM)
    groups_first = ClaimScope(channel=Channel.TELEGRAM, groups_first=True)
    plain = await store.claim_due("a", NOW, lease, 2, telegram)
    assert [(c.id, c.recipient) for c in plain] == [(1, "1"), (2, "2")]

    first = await store.claim_due("b", NOW, lease, 2, groups_first)
    # the group's oldest row before the older private one; its second row waits its turn
    assert [(c.id, c.recipient) for c in first] == [(4, GROUP), (3, "3")]
    again = await store.claim_due("c", NOW, lease, 5, groups_first)
    assert again == []  # every recipient's oldest row is leased


async def test_a_row_whose_chat_frees_within_a_moment_is_held_not_handed_back(
    h: Harness,
) -> None:
    number = await h.register(chat_id=9001)
    await h.deliver()
    async with h.services.transactions() as tx:
        for k in range(3):
            await tx.outbox.enqueue(
                OutboxItem(
                    kind=OutboxKind.NOTICE,
                    channel=Channel.TELEGRAM,
                    recipient="9001",
                    dedupe_key=f"held:{k}",
                    application_number=number,
                    payload={"event": "taken"},
                ),
                h.clock.now(),
            )
        await tx.commit()
    handed_back: list[Any] = []
    mark_retry = h.runner.store.mark_retry

    async def spy(item: Any, *args: Any, **kwargs: Any) -> None:
        handed_back.append(item.dedupe_key)
        await mark_retry(item, *args, **kwargs)

    h.runner.store.mark_retry = spy  # type: ignore[method-assign]
    # One flush, no poll in between: each row is claimed as soon as the one before it is
    # sent, waits in the limiter for its chat's second, and goes out then.
    await h.runner.flush()

    sent = [r.at for r in h.tg.sent(9001)]
    assert len(sent) == 3
    assert all(b - a >= 1.0 - 1e-6 for a, b in itertools.pairwise(sent))
    assert handed_back == []
    rows = [r for r in await h.rows() if r.dedupe_key.startswith("held:")]
    assert [(r.status, r.attempts) for r in rows] == [(OutboxStatus.SENT, 1)] * 3


async def test_the_lane_loop_delivers_a_backlog_and_stops_clean(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    h = await make_harness(settings, engine, tmp_path, mailer=RecordingMailer(), **FAST)
    h.runner.poll_interval = 0.01
    telegram = h.runner.lane(Channel.TELEGRAM)
    telegram.concurrency = 4  # fewer rows in flight than the backlog
    telegram.batch_size = 3
    numbers = [await h.register(chat_id=9100 + i) for i in range(10)]
    await h.runner.start()
    h.runner.wake()

    async def all_sent() -> bool:
        return {r.status for r in await h.rows()} == {OutboxStatus.SENT}

    await eventually(all_sent, what="the backlog to be sent")
    await h.runner.stop()
    rows = await h.rows()
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert all(r.lease_owner is None for r in rows)
    assert (
        sorted(
            int(m.group(1))
            for r in h.tg.sent(h.staff_chat_id)
            if (m := re.search(r"Work order No\. (\d+)</b>", r.text))
        )
        == numbers
    )
