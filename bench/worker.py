"""One scenario in a process of its own: ``python -m bench.worker SCENARIO ...``.

The last line of stdout is one JSON object with the scenario's figures; logs go to stderr.
``python -m bench`` runs every scenario in a fresh child process (forked from an
orchestrator that has only imported the modules, or spawned with ``--spawn``), so that peak
RSS (``ru_maxrss``) and the allocator's state belong to that scenario alone.

Scenarios:

* ``prepare``: migrate ``--database-url`` to head and load ``--subscribers`` subscribers
  (:mod:`bench.product`).
* ``journey``: ``--users`` U simulated users go through the whole journey at once
  (``asyncio.gather``, each user's updates in order) against ``--target product`` or
  ``floor``, after one warm-up user. The product keeps dialog state where
  ``bot.app.build_storage`` puts it: in its database (``storage.fsm.SqlStorage``), or with
  ``--redis-url`` in Redis on that URL's database, flushed before and after; the floor in
  MemoryStorage. CPU per update is ``time.process_time()`` (every thread of the process, so
  aiosqlite's too; not the PostgreSQL server's) over the run, divided by the updates; latency is the wall time of each ``dp.feed_update`` call.
  ``--rounds`` R runs R such groups of U users one group after another (U=1: R users, each
  alone), so that a small U still measures enough updates to stand out from the machine's
  noise. ``--profile`` runs the same under cProfile and reports the top functions instead.
* ``park``: ``--users`` N users go as far as the e-mail step and stay there, ``--batch``
  users in flight at a time. RSS after minus RSS before (``gc.collect()`` first, both read
  from ``/proc/self/statm``), divided by N; the storage as for ``journey``. With
  ``--redis-url``, ``MEMORY USAGE`` of every key, divided by N, is reported too.
* ``outbox``: :mod:`bench.outbox_bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import logging
import os
import pstats
import re
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode

from bench.fakes import FakeTelegram
from bench.floor import build_floor_dispatcher
from bench.users import JOURNEY, PARK_AT_EMAIL, Meter, SimUser
from storage.fsm import SqlStorage

PROFILE_TOP = 20
# Users that run before the measurement (imports, first SQL compilations, caches); the
# orchestrator reserves their subscriber codes too.
JOURNEY_WARMUP = 1
PARK_BATCH = 100


def park_warmup(batch: int) -> int:
    """Parking: one whole journey, then one batch parked, before the baseline (see park())."""
    return 1 + batch


# Frames left out of the cumulative table: the event loop and the simulated users are on
# every stack and say nothing about the bot.
_PLUMBING = ("asyncio/", "bench/", "selectors.py", "'run' of '_contextvars.Context'")


def peak_rss_kib() -> int:
    """Peak resident set of this process in KiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def current_rss_bytes() -> int:
    """Current resident set, from /proc (the peak could not show a difference)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def make_bot(session: Any) -> Bot:
    return Bot(
        "42:BENCH", session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )


class Target:
    """A dispatcher to drive (the product's or the floor's) and what to close after."""

    def __init__(self, dp: Dispatcher, closers: list[Any]) -> None:
        self.dp = dp
        self.closers = closers
        # RedisStorage's client, flushed before and after the run (the bench's database 14)
        self.redis: Any = getattr(dp.storage, "redis", None)

    @property
    def storage(self) -> str:
        """Where dialog state lives: "memory", "database" or "redis"."""
        if self.redis is not None:
            return "redis"
        return "database" if isinstance(self.dp.storage, SqlStorage) else "memory"

    async def flush(self) -> None:
        if self.redis is not None:
            await self.redis.flushdb()

    async def close(self) -> None:
        for closer in self.closers:
            await closer()
        await self.dp.storage.close()


def build_target(kind: str, database_url: str | None, redis_url: str | None = None) -> Target:
    """The floor (MemoryStorage), or the product on the storage ``bot.app.build_storage``
    picks: the database, or Redis when ``redis_url`` is given."""
    if kind == "floor":
        return Target(build_floor_dispatcher(), [])
    from bench.product import bench_settings, build_product

    if not database_url:
        raise SystemExit("the product needs --database-url")
    mail_dir = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    # REDIS_URL always given: the orchestrator's own (a production server's) must not leak in
    dp, services = build_product(bench_settings(database_url, mail_dir, REDIS_URL=redis_url))
    return Target(dp, [services.close])


def db_kind(url: str | None) -> str:
    if not url:
        return "none"
    return "postgresql" if url.startswith("postgresql") else "sqlite"


async def drive(users: list[SimUser], steps: tuple[str, ...]) -> None:
    await asyncio.gather(*(user.run(steps) for user in users))


# --- journey ------------------------------------------------------------------------------


async def journey(args: argparse.Namespace) -> dict[str, Any]:
    session = FakeTelegram()
    bot = make_bot(session)
    target = build_target(args.target, args.database_url, args.redis_url)
    await target.flush()
    warm = Meter()
    await SimUser(target.dp, bot, session, args.first, warm).run()
    if warm.failures:
        raise SystemExit(f"the warm-up user failed: {warm.failures[0]}")
    first = args.first + JOURNEY_WARMUP
    meter = Meter()
    count = args.users * args.rounds
    users = [SimUser(target.dp, bot, session, first + i, meter) for i in range(count)]
    calls0 = session.calls
    gc.collect()
    # The event loop thread's CPU time as the clock: a function waiting in epoll, or for the
    # GIL, costs nothing (the wall clock would charge the waiting to it).
    profiler = cProfile.Profile(time.thread_time) if args.profile else None
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    for start in range(0, count, args.users):
        await drive(users[start : start + args.users], JOURNEY)
    if profiler is not None:
        profiler.disable()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await target.flush()
    await target.close()
    updates = meter.updates
    result: dict[str, Any] = {
        "scenario": "journey",
        "target": args.target,
        "database": db_kind(args.database_url) if args.target == "product" else "none",
        "storage": target.storage,
        "users": args.users,
        "rounds": args.rounds,
        "simulated_users": count,
        "reached_number": len(meter.numbers),
        "distinct_numbers": len(set(meter.numbers)),
        "failed": len(meter.failures),
        "failures": meter.failures[:10],
        "updates": updates,
        "bot_api_calls_per_update": (session.calls - calls0) / updates if updates else 0.0,
        "wall_s": wall,
        "cpu_s": cpu,
        "updates_per_s": updates / wall if wall else 0.0,
        "cpu_us_per_update": cpu / updates * 1e6 if updates else 0.0,
        "p50_ms": percentile(meter.latencies, 50) * 1e3,
        "p99_ms": percentile(meter.latencies, 99) * 1e3,
        "mean_ms": statistics.fmean(meter.latencies) * 1e3 if meter.latencies else 0.0,
        "peak_rss_kib": peak_rss_kib(),
        "profiled": profiler is not None,
    }
    if profiler is not None:
        result["profile"] = profile_summary(pstats.Stats(profiler))
    return result


def _where(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    else:
        filename = re.sub(r"^.*?/(bot|dialogs|storage|workflows|bench)/", r"\1/", filename)
    return f"{filename}:{line}({name})"


def _package(key: tuple[str, int, str]) -> str:
    filename, _line, name = key
    if filename == "~":
        return "C builtins (" + (name.split(" of ")[0].strip("<>{}") or name) + ")"
    match = re.search(r"site-packages/([^/]+)", filename)
    if match:
        return match.group(1).removesuffix(".py")
    match = re.search(r"/(bot|dialogs|storage|workflows|bench)/", filename)
    if match:
        return f"ours: {match.group(1)}"
    match = re.search(r"python3\.\d+/([^/]+)", filename)
    return "stdlib: " + (match.group(1).removesuffix(".py") if match else filename)


def profile_summary(stats: pstats.Stats) -> dict[str, Any]:
    """Top functions by cumulative and by own time, and own time per package."""
    raw = stats.stats  # type: ignore[attr-defined]
    rows = [
        {
            "function": _where(key),
            "ncalls": nc,
            "tottime_s": round(tt, 4),
            "cumtime_s": round(ct, 4),
        }
        for key, (_cc, nc, tt, ct, _callers) in raw.items()
    ]
    total_own = sum(row["tottime_s"] for row in rows)
    cumulative = [row for row in rows if not any(part in row["function"] for part in _PLUMBING)]
    cumulative.sort(key=lambda row: row["cumtime_s"], reverse=True)
    own = sorted(rows, key=lambda row: row["tottime_s"], reverse=True)
    packages: Counter[str] = Counter()
    for key, (_cc, _nc, tt, _ct, _callers) in raw.items():
        packages[_package(key)] += tt
    return {
        "total_own_s": round(total_own, 3),
        "by_cumulative": cumulative[:PROFILE_TOP],
        "by_own_time": own[:PROFILE_TOP],
        "own_time_by_package": [
            {"package": name, "own_s": round(seconds, 3), "share": seconds / total_own}
            for name, seconds in packages.most_common(15)
        ],
    }


# --- park ---------------------------------------------------------------------------------


async def park(args: argparse.Namespace) -> dict[str, Any]:
    target = build_target(args.target, args.database_url, args.redis_url)
    await target.flush()
    session = FakeTelegram()
    bot = make_bot(session)
    # Before the baseline: one whole journey (every window and query once), then one batch
    # parked at once, so that what a batch in flight allocates and frees (allocator arenas
    # that are never given back) is already there; the growth after is the dialogs'.
    warm = SimUser(target.dp, bot, session, args.first, Meter())
    await warm.run()
    session.forget(warm.user_id)
    batch = args.batch
    parked = [SimUser(target.dp, bot, session, args.first + 1 + i, Meter()) for i in range(batch)]
    await drive(parked, PARK_AT_EMAIL)
    for user in parked:
        session.forget(user.user_id)
    del parked, warm
    first = args.first + park_warmup(batch)
    meter = Meter(keep_latencies=False)  # nothing per user on our side
    await target.flush()  # only the measured dialogs are counted in Redis
    gc.collect()
    rss0 = current_rss_bytes()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for start in range(0, args.users, batch):
        users = [
            SimUser(target.dp, bot, session, first + i, meter)
            for i in range(start, min(start + batch, args.users))
        ]
        await drive(users, PARK_AT_EMAIL)
        for user in users:
            if not user.at_email():
                meter.failures.append(f"user {user.user_id} is not at the e-mail step")
            session.forget(user.user_id)
        del users
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    gc.collect()
    rss1 = current_rss_bytes()
    result: dict[str, Any] = {
        "scenario": "park",
        "target": args.target,
        "database": db_kind(args.database_url),
        "storage": target.storage,
        "users": args.users,
        "batch": batch,
        "failed": len(meter.failures),
        "failures": meter.failures[:10],
        "updates": meter.updates,
        "wall_s": wall,
        "cpu_us_per_update": cpu / meter.updates * 1e6 if meter.updates else 0.0,
        "rss_before_bytes": rss0,
        "rss_after_bytes": rss1,
        "rss_per_dialog_bytes": (rss1 - rss0) / args.users if args.users else 0.0,
        "peak_rss_kib": peak_rss_kib(),
    }
    if target.redis is not None:
        result.update(await redis_usage(target.redis, args.users))
    await target.flush()
    await target.close()
    return result


async def redis_usage(redis: Any, users: int) -> dict[str, Any]:
    """``MEMORY USAGE`` (exact, ``SAMPLES 0``) of every key, and how many keys."""
    total = 0
    keys = 0
    async for key in redis.scan_iter(count=1000):
        total += await redis.memory_usage(key, samples=0) or 0
        keys += 1
    return {
        "redis_keys": keys,
        "redis_bytes": total,
        "redis_bytes_per_dialog": total / users if users else 0.0,
        "redis_keys_per_dialog": keys / users if users else 0.0,
    }


# --- prepare ------------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    from bench.product import prepare_database

    started = time.perf_counter()
    loaded = prepare_database(args.database_url, args.subscribers)
    return {"scenario": "prepare", "subscribers": loaded, "wall_s": time.perf_counter() - started}


# --- the command line ---------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.worker", description=__doc__)
    p.add_argument("scenario", choices=("prepare", "journey", "park", "outbox"))
    p.add_argument("--target", choices=("product", "floor"), default="product")
    p.add_argument("--users", type=int, default=1)
    p.add_argument("--first", type=int, default=0, help="index of the first simulated user")
    p.add_argument("--rounds", type=int, default=1, help="journey: groups of U, one after another")
    p.add_argument("--database-url")
    p.add_argument("--redis-url")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--batch", type=int, default=PARK_BATCH, help="park: users in flight at once")
    p.add_argument("--subscribers", type=int, default=0, help="prepare: how many to load")
    p.add_argument("--messages", type=int, default=2000)
    p.add_argument("--chats", type=int, default=500)
    p.add_argument("--group-messages", type=int, default=30)
    p.add_argument("--time-scale", type=float, default=1.0)
    p.add_argument("--window", type=float, default=0.0, help="outbox: stop after N real s")
    p.add_argument("--migrate", action="store_true", help="migrate --database-url first")
    return p


def run(argv: list[str]) -> dict[str, Any]:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.migrate:
        from storage.migrate import upgrade_to_head

        upgrade_to_head(args.database_url)  # before our event loop: env.py runs its own
    if args.scenario == "prepare":
        return prepare(args)
    if args.scenario == "journey":
        return asyncio.run(journey(args))
    if args.scenario == "park":
        return asyncio.run(park(args))
    from bench.outbox_bench import outbox

    return asyncio.run(outbox(args))


def main(argv: list[str] | None = None) -> int:
    result = run(sys.argv[1:] if argv is None else argv)
    sys.stdout.flush()
    os.write(sys.stdout.fileno(), (json.dumps(result) + "\n").encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
