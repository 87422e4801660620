"""Leases that do not outlive their process (issue 15, item 3), in virtual time.

A claim leases its rows for a short time (30 s); a heartbeat renews them while they are in
delivery; a dead worker's rows come back after one lease; a worker started again takes its
previous run's rows back at once. Per-chat order holds throughout: a newer row to a chat
never overtakes an older one leased by someone else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot.outbox.runner import OutboxRunner
from storage.models import OutboxRow
from tests.outbox.harness import Harness
from tests.outbox.test_delivery import CARD, assert_within_limits, cards_posted
from workflows.outbox.leases import BEATS_PER_LEASE, LEASE
from workflows.outbox.ports import ClaimScope
from workflows.outbox.records import Channel, Claimed, Delivered, OutboxStatus

GROUP_ROWS = ClaimScope(channel=Channel.TELEGRAM, groups_first=True)


def card_order(h: Harness) -> list[int]:
    """The application numbers of the cards posted to the staff group, in order."""
    return [
        int(match.group(1))
        for request in h.tg.sent(h.staff_chat_id)
        if (match := CARD.search(request.text))
    ]


def hold_sends(runner: OutboxRunner, number: int) -> tuple[asyncio.Event, asyncio.Event]:
    """Make the Telegram lane's send of ``number``'s card wait: (started, release)."""
    lane = runner.lane(Channel.TELEGRAM)
    original: Callable[[Claimed, Any], Awaitable[Delivered]] = lane.sender.send
    started, release = asyncio.Event(), asyncio.Event()

    async def send(item: Claimed, chat_id: Any) -> Delivered:
        if item.application_number == number:
            started.set()
            await release.wait()
        return await original(item, chat_id)

    lane.sender.send = send  # type: ignore[method-assign]
    return started, release


async def until(check: Callable[[], Any], what: str, tries: int = 500) -> None:
    """Let the event loop run (the dispatcher's loop) until ``check()`` (or what it
    returns, awaited) is true."""
    for _ in range(tries):
        result = check()
        if await result if asyncio.iscoroutine(result) else result:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def card_row(h: Harness, number: int) -> OutboxRow:
    async with h.services.transactions.session_factory() as session:
        row = await session.scalar(select(OutboxRow).where(OutboxRow.application_number == number))
    assert row is not None
    return row


async def test_a_heartbeat_keeps_a_long_sends_rows_leased(h: Harness) -> None:
    first = await h.register(chat_id=5101)
    second = await h.register(chat_id=5102)  # a newer card to the same group
    runner = h.runner
    runner.poll_interval = 0.01
    started, release = hold_sends(runner, first)
    renewals: list[int] = []
    renew = h.services.outbox_store.renew

    async def counting(*args: Any, **kwargs: Any) -> int:
        renewed = await renew(*args, **kwargs)
        renewals.append(renewed)
        return renewed

    h.services.outbox_store.renew = counting  # type: ignore[method-assign]
    await runner.start()
    try:
        await until(started.is_set, "the first card's send to start")
        beat = LEASE / BEATS_PER_LEASE
        # Four leases long, one beat and a second at a time: each step is a heartbeat.
        for step in range(1, 4 * BEATS_PER_LEASE + 1):
            h.clock.advance(beat + timedelta(seconds=1))

            await until(lambda step=step: len(renewals) >= step, f"heartbeat {step}")
            row = await card_row(h, first)
            assert row.status == OutboxStatus.PENDING
            assert row.lease_until == h.clock.now() + LEASE  # renewed just now
            # Nobody else gets it, nor the newer card behind it.
            other = await h.services.outbox_store.claim_due(
                "other/tg#00000000", h.clock.now(), LEASE, 10, GROUP_ROWS
            )
            assert other == []
        assert set(renewals) == {1}  # one row in delivery, one statement per heartbeat
        release.set()

        await until(lambda: cards_posted(h) == {first: 1, second: 1}, "both cards to be sent")
    finally:
        release.set()
        await runner.stop()
    assert card_order(h) == [first, second]


async def test_a_dead_owners_rows_come_back_after_the_short_lease(h: Harness) -> None:
    first = await h.register(chat_id=5201)
    second = await h.register(chat_id=5202)
    lane = h.runner.lane(Channel.TELEGRAM)
    assert lane.lease == LEASE == timedelta(seconds=30)
    # Another worker claims the first card and dies (no heartbeat, never back).
    died_at = h.clock.now()
    dead = await h.services.outbox_store.claim_due(
        "dead:main/tg#0badc0de", died_at, lane.lease, 10, GROUP_ROWS
    )
    assert [item.application_number for item in dead] == [first]

    assert await h.runner.flush() == 0  # its card, and the newer one, wait
    h.clock.advance(lane.lease - timedelta(seconds=1))
    assert await h.runner.flush() == 0
    await h.deliver()

    assert card_order(h) == [first, second]  # still in order, each once
    sent = [r.at for r in h.tg.sent(h.staff_chat_id)]
    resumed_after = timedelta(seconds=sent[0] - h.clock.monotonic()) + h.clock.now() - died_at
    assert lane.lease <= resumed_after <= lane.lease + timedelta(seconds=1)


async def test_a_restarted_owner_takes_its_rows_back_at_once(h: Harness) -> None:
    numbers = [await h.register(chat_id=5301 + i) for i in range(3)]
    before = h.new_runner("w1")
    started, _release = hold_sends(before, numbers[1])
    # Worker w1 sends the first card, leases the second, and is killed during its send.
    killed = asyncio.create_task(before.flush())
    await until(started.is_set, "the second card's send to start")
    killed.cancel()
    await asyncio.gather(killed, return_exceptions=True)
    died_at = h.clock.now()
    leased = await card_row(h, numbers[1])
    assert leased.status == OutboxStatus.PENDING and leased.lease_until is not None
    assert leased.lease_owner is not None and leased.lease_owner.startswith("w1/tg#")
    assert card_order(h) == numbers[:1]

    # Another worker gets neither the row nor the lead before their leases end ...
    other = h.new_runner("w2")
    assert await other.flush() == 0
    # ... while w1, started again, takes both back at once and goes on in order.
    h.runner = h.new_runner("w1")
    await h.runner.flush()
    telegram = h.runner.lane(Channel.TELEGRAM)
    assert telegram.leadership is not None and telegram.leadership.leads(h.clock.now())
    await h.deliver()
    assert card_order(h) == numbers
    assert cards_posted(h) == dict.fromkeys(numbers, 1)
    # The second card went out a second after the first (the group's own limit, which the
    # new run learnt from the table), long before the dead run's lease would have ended.
    resumed = h.tg.sent(h.staff_chat_id)[1].at
    first_sent = h.tg.sent(h.staff_chat_id)[0].at
    assert resumed - first_sent < 1.1
    assert_within_limits(h.tg.log)
    assert h.clock.now() - died_at < LEASE
    assert all(r.lease_owner is None for r in await h.rows())


async def test_take_back_frees_only_the_owners_earlier_runs(h: Harness) -> None:
    store = h.services.outbox_store
    for i in range(4):
        await h.register(chat_id=5401 + i)
    now = h.clock.now()
    runs = ["w1/tg#aaaaaaaa", "w1/tg#bbbbbbbb", "w1/tgx#cccccccc", "w10/tg#dddddddd"]
    rows = await h.rows()
    async with h.services.transactions.session_factory() as session:
        for run, row in zip(runs, rows, strict=True):
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row.id)
                .values(lease_owner=f"{run}:1", lease_until=now + LEASE)
            )
        await session.commit()

    # w1/tg started again as run bbbbbbbb: only its earlier run's row is freed.
    assert await store.take_back("w1/tg", "w1/tg#bbbbbbbb") == 1
    later = now + timedelta(seconds=20)
    # The heartbeat renews only the given rows, and only while the run still holds them.
    assert await store.renew("w1/tg#bbbbbbbb", [rows[1].id, rows[2].id], later, LEASE) == 1
    after = [(r.lease_owner, r.lease_until) for r in await h.rows()]
    assert after == [
        (None, None),
        ("w1/tg#bbbbbbbb:1", later + LEASE),
        ("w1/tgx#cccccccc:1", now + LEASE),
        ("w10/tg#dddddddd:1", now + LEASE),
    ]
