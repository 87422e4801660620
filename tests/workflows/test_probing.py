"""Issue 16, item 4: the limits against probing, per account and Baku day.

Scenarios: the 11th distinct code of a day is refused and the 4th FIN, while a code or FIN
tried already today is always accepted again; the next Baku day (midnight in Baku, not in
UTC) starts from zero and purges the old days; accounts count apart; a code tried by more
than three accounts warns support once that day (and again the next day); the counters
never hold a code or a FIN in clear.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from workflows.clock import FixedClock
from workflows.errors import ProbeLimitReached
from workflows.outbox.records import OutboxKind
from workflows.ports import OutboxItem
from workflows.probing import (
    OutboxProbeAlarm,
    ProbeKind,
    ProbeLimits,
    Probing,
    Verdict,
    baku_day,
    value_hash,
)

# 09:00 UTC is 13:00 in Baku (UTC+4); Baku's midnight is 20:00 UTC.
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ALICE, BOB = 501, 502
FIN = "5ABC12D"


class FakeCounters:
    """``ProbeCounters`` in dictionaries, as the adapters keep them."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, int, ProbeKind], set[str]] = defaultdict(set)
        self.warned: set[tuple[str, str]] = set()
        self.purged: list[str] = []

    async def tried(self, day: str, account: int, kind: ProbeKind) -> frozenset[str]:
        return frozenset(self.values.get((day, account, kind), ()))

    async def add(self, day: str, account: int, kind: ProbeKind, value: str) -> None:
        self.values[(day, account, kind)].add(value)

    async def accounts(self, day: str, code: str) -> int:
        return sum(
            1
            for (d, _account, kind), values in self.values.items()
            if d == day and kind is ProbeKind.CODE and code in values
        )

    async def first_warning(self, day: str, code: str) -> bool:
        if (day, code) in self.warned:
            return False
        self.warned.add((day, code))
        return True

    async def purge(self, before_day: str) -> None:
        self.purged.append(before_day)
        for key in [k for k in self.values if k[0] < before_day]:
            del self.values[key]
        self.warned = {w for w in self.warned if w[0] >= before_day}


class RecordingAlarm:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    async def code_probed(self, code: str, accounts: int, account: int) -> None:
        self.calls.append((code, accounts, account))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def counters() -> FakeCounters:
    return FakeCounters()


@pytest.fixture
def alarm() -> RecordingAlarm:
    return RecordingAlarm()


@pytest.fixture
def probing(counters: FakeCounters, clock: FixedClock, alarm: RecordingAlarm) -> Probing:
    return Probing(counters, clock, ProbeLimits(), alarm)


def code(n: int) -> str:
    return f"{100000 + n}"


def fin(n: int) -> str:
    return f"{n}ABC12D"


async def test_the_eleventh_distinct_code_of_a_day_is_refused(probing: Probing) -> None:
    for n in range(10):
        assert (await probing.try_code(ALICE, code(n))).new
    with pytest.raises(ProbeLimitReached) as refused:
        await probing.try_code(ALICE, code(10))
    assert refused.value.kind == "code"


async def test_a_code_tried_today_is_accepted_again_past_the_limit(probing: Probing) -> None:
    for n in range(10):
        await probing.try_code(ALICE, code(n))
    assert await probing.try_code(ALICE, code(3)) == Verdict(new=False)
    assert await probing.try_code(ALICE, code(9)) == Verdict(new=False)


async def test_a_refused_code_stays_refused_it_is_not_recorded(
    probing: Probing, counters: FakeCounters
) -> None:
    for n in range(10):
        await probing.try_code(ALICE, code(n))
    for _ in range(2):
        with pytest.raises(ProbeLimitReached):
            await probing.try_code(ALICE, code(10))
    day = baku_day(T0)
    assert len(await counters.tried(day, ALICE, ProbeKind.CODE)) == 10


async def test_the_fourth_distinct_fin_is_refused_the_first_three_stay_accepted(
    probing: Probing,
) -> None:
    for n in range(1, 4):
        assert (await probing.try_fin(ALICE, fin(n))).new
    with pytest.raises(ProbeLimitReached) as refused:
        await probing.try_fin(ALICE, fin(4))
    assert refused.value.kind == "fin"
    assert await probing.try_fin(ALICE, fin(1)) == Verdict(new=False)


async def test_codes_and_fins_count_apart_and_accounts_count_apart(probing: Probing) -> None:
    for n in range(10):
        await probing.try_code(ALICE, code(n))
    assert (await probing.try_fin(ALICE, FIN)).new  # the codes' limit is not the FINs'
    assert (await probing.try_code(BOB, code(10))).new  # Alice's limit is not Bob's


async def test_the_limits_follow_the_settings(counters: FakeCounters, clock: FixedClock) -> None:
    probing = Probing(counters, clock, ProbeLimits(codes_per_day=2, fins_per_day=1))
    await probing.try_code(ALICE, code(1))
    await probing.try_code(ALICE, code(2))
    with pytest.raises(ProbeLimitReached):
        await probing.try_code(ALICE, code(3))
    await probing.try_fin(ALICE, fin(1))
    with pytest.raises(ProbeLimitReached):
        await probing.try_fin(ALICE, fin(2))


@pytest.mark.parametrize("field", ["codes_per_day", "fins_per_day", "accounts_per_code"])
def test_a_limit_below_one_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ProbeLimits(**{field: 0})


async def test_the_next_baku_day_starts_from_zero(
    probing: Probing, clock: FixedClock, counters: FakeCounters
) -> None:
    for n in range(10):
        await probing.try_code(ALICE, code(n))
    for n in range(1, 4):
        await probing.try_fin(ALICE, fin(n))
    clock.at = datetime(2026, 12, 7, 19, 59, tzinfo=UTC)  # 23:59 in Baku: still today
    with pytest.raises(ProbeLimitReached):
        await probing.try_code(ALICE, code(10))
    clock.at = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)  # midnight in Baku, 20:00 in UTC
    assert baku_day(clock.now()) == "2026-12-08"
    assert (await probing.try_code(ALICE, code(10))).new
    assert (await probing.try_fin(ALICE, fin(4))).new


async def test_the_first_check_of_a_day_purges_the_days_before_yesterday(
    probing: Probing, clock: FixedClock, counters: FakeCounters
) -> None:
    await probing.try_code(ALICE, code(1))
    await probing.try_code(ALICE, code(2))
    assert counters.purged == ["2026-12-06"]  # once a day: today and yesterday are kept
    clock.advance(timedelta(days=1))
    await probing.try_code(ALICE, code(1))
    clock.advance(timedelta(days=1))
    await probing.try_code(ALICE, code(1))
    assert counters.purged == ["2026-12-06", "2026-12-07", "2026-12-08"]
    assert {day for day, _account, _kind in counters.values} == {"2026-12-08", "2026-12-09"}


async def test_a_code_tried_by_a_fourth_account_warns_support_once(
    probing: Probing, alarm: RecordingAlarm
) -> None:
    verdicts = [await probing.try_code(501 + n, code(7)) for n in range(3)]
    assert not any(v.warn for v in verdicts) and alarm.calls == []
    assert await probing.try_code(504, code(7)) == Verdict(new=True, warn=True)
    assert alarm.calls == [(code(7), 4, 504)]
    assert not (await probing.try_code(505, code(7))).warn
    assert not (await probing.try_code(504, code(7))).warn  # the same account again
    assert alarm.calls == [(code(7), 4, 504)]


async def test_the_warning_is_owed_again_the_next_day(
    probing: Probing, clock: FixedClock, alarm: RecordingAlarm
) -> None:
    for account in range(501, 505):
        await probing.try_code(account, code(7))
    clock.advance(timedelta(days=1))
    for account in range(501, 505):
        await probing.try_code(account, code(7))
    assert [call[1:] for call in alarm.calls] == [(4, 504), (4, 504)]


async def test_the_warning_threshold_follows_the_settings(
    counters: FakeCounters, clock: FixedClock, alarm: RecordingAlarm
) -> None:
    probing = Probing(counters, clock, ProbeLimits(accounts_per_code=1), alarm)
    assert not (await probing.try_code(ALICE, code(1))).warn
    assert (await probing.try_code(BOB, code(1))).warn


async def test_without_an_alarm_the_warning_is_still_flagged_and_logged(
    counters: FakeCounters, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    probing = Probing(counters, clock, ProbeLimits(accounts_per_code=1))
    await probing.try_code(ALICE, code(1))
    assert (await probing.try_code(BOB, code(1))).warn
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        f"probing: code #{value_hash(code(1))} tried by 2 accounts today, the last {BOB}"
    ]


async def test_the_counters_hold_no_code_nor_fin_in_clear(
    probing: Probing, counters: FakeCounters
) -> None:
    await probing.try_code(ALICE, "1234567")
    await probing.try_fin(ALICE, FIN)
    stored = set().union(*counters.values.values())
    assert stored == {value_hash("1234567"), value_hash(FIN)}
    assert all(len(v) == 32 and "1234567" not in v and FIN not in v for v in stored)


class FakeUnitOfWork:
    def __init__(self, queued: list[OutboxItem]) -> None:
        self.queued = queued
        self.outbox = self
        self.pending: list[OutboxItem] = []

    async def enqueue(self, item: OutboxItem, now: datetime) -> None:
        self.pending.append(item)

    async def commit(self) -> None:
        self.queued.extend(self.pending)

    async def __aenter__(self) -> FakeUnitOfWork:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None


async def test_the_alarm_owes_the_support_chat_one_probe_warning_a_code_and_day(
    clock: FixedClock,
) -> None:
    queued: list[OutboxItem] = []
    alarm = OutboxProbeAlarm(lambda: FakeUnitOfWork(queued), clock, chat_id=-100500)
    await alarm.code_probed("1234567", 4, 504)
    (item,) = queued
    assert item.kind == OutboxKind.PROBE_WARNING
    assert item.recipient == "-100500"
    assert item.dedupe_key == f"probe:2026-12-07:{value_hash('1234567')}"
    assert item.payload == {"code": "1234567", "accounts": 4, "account": 504}
