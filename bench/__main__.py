"""``python -m bench``: what one worker carries, against the framework's floor.

Runs every scenario of :mod:`bench.worker` in a fresh child process, one after another
(never two at once: they would share the two cores), then writes ``report.md`` and
``report.json`` to ``--out`` and prints the markdown. Exits with 1 when a simulated user
did not reach its application number (or a parked user the e-mail step), 2 when a scenario
crashed.

Order: one SQLite file is migrated and loaded with a subscriber per simulated user; at each
U the product's journey and right after it the floor's (so that the two figures of a ratio
are measured within seconds of each other, not minutes), then the profile (U=100, product), the
parked users (dialog state in the database, and again in Redis when it is given), the
outbox, and the PostgreSQL journeys when ``DATABASE_URL``/``--postgres-url`` names a
PostgreSQL server (in a scratch database ``azersu_bench`` created next to it and dropped
afterwards; the named database itself is not touched).

The product keeps its dialog state where production would (``bot.app.build_storage``): in
its database, or, when ``REDIS_URL``/``--redis-url`` is given, in Redis (database 14 of that
server, flushed by each scenario before and after). The floor keeps MemoryStorage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.report import render
from bench.runner import WorkerFailed, preload, run_worker
from bench.worker import JOURNEY_WARMUP, park_warmup

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
REDIS_BENCH_DB = 14


@dataclass(frozen=True)
class Plan:
    journey_users: tuple[int, ...]
    single_user_rounds: int  # U=1 runs this many users, each alone, one after another
    profile_users: int
    park_users: int
    park_batch: int
    outbox_messages: int
    outbox_chats: int
    outbox_group_messages: int
    outbox_time_scale: float
    outbox_window_s: float


DEFAULT = Plan(
    journey_users=(1, 100, 1000),
    single_user_rounds=30,
    profile_users=100,
    park_users=1000,
    park_batch=100,
    outbox_messages=2000,
    outbox_chats=500,
    outbox_group_messages=30,
    outbox_time_scale=1.0,
    outbox_window_s=30.0,
)
# The sizes in full: 10,000 parked dialogs, the whole outbox queue (several minutes).
FULL = replace(DEFAULT, park_users=10_000, outbox_window_s=0.0)
QUICK = Plan(
    journey_users=(1, 20),
    single_user_rounds=3,
    profile_users=10,
    park_users=200,
    park_batch=20,
    outbox_messages=40,
    outbox_chats=10,
    outbox_group_messages=2,
    outbox_time_scale=1.0,
    outbox_window_s=0.0,
)


@dataclass
class Indexes:
    """Hands out ranges of simulated-user indexes (each has its own subscriber code)."""

    next: int = 0

    def take(self, count: int) -> int:
        first = self.next
        self.next += count
        return first


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a small run for the smoke test")
    size.add_argument(
        "--full", action="store_true", help="10,000 parked users, the whole outbox queue"
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--park-users", type=int, help="users parked at the e-mail step")
    p.add_argument("--outbox-window", type=float, help="stop the outbox after N s (0: never)")
    p.add_argument("--outbox-time-scale", type=float, help="virtual seconds per real second")
    p.add_argument("--postgres-url", default=_postgres_from_env())
    p.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    p.add_argument("--no-outbox", action="store_true")
    p.add_argument("--spawn", action="store_true", help="python -m bench.worker per scenario")
    return p.parse_args(argv)


def _postgres_from_env() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def redis_bench_url(url: str) -> str:
    """The same server, database 14 (flushed by the scenario before and after)."""
    from redis.connection import parse_url

    options = parse_url(url)
    host = options.get("host", "127.0.0.1")
    port = options.get("port", 6379)
    password = options.get("password")
    auth = f":{password}@" if password else ""
    scheme = "rediss" if url.startswith("rediss") else "redis"
    return f"{scheme}://{auth}{host}:{port}/{REDIS_BENCH_DB}"


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        plan = QUICK if args.quick else FULL if args.full else DEFAULT
        if args.park_users is not None:
            plan = replace(plan, park_users=args.park_users)
        if args.outbox_window is not None:
            plan = replace(plan, outbox_window_s=args.outbox_window)
        if args.outbox_time_scale is not None:
            plan = replace(plan, outbox_time_scale=args.outbox_time_scale)
        self.plan = plan
        self.args = args
        self.results: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.work = Path(tempfile.mkdtemp(prefix="bench-"))

    def worker(self, *argv: str, timeout: float = 600.0) -> dict[str, Any] | None:
        label = " ".join(argv[:5])
        started = time.perf_counter()
        print(f"… {label}", file=sys.stderr, flush=True)
        try:
            result = run_worker(list(argv), spawn=self.args.spawn, timeout=timeout)
        except (WorkerFailed, OSError, ValueError) as exc:
            self.errors.append(f"{label}: {exc}")
            print(f"  failed: {exc}", file=sys.stderr, flush=True)
            return None
        result["orchestrator_wall_s"] = time.perf_counter() - started
        if result.get("scenario") != "prepare":
            self.results.append(result)
        return result

    # --- the scenarios ----------------------------------------------------------------------
    def rounds(self, users: int) -> int:
        return self.plan.single_user_rounds if users == 1 else 1

    def journey_subscribers(self) -> int:
        return sum(JOURNEY_WARMUP + u * self.rounds(u) for u in self.plan.journey_users)

    def redis(self) -> list[str]:
        """The product's dialog state in Redis (database 14) when a Redis server is given."""
        return ["--redis-url", redis_bench_url(self.args.redis_url)] if self.args.redis_url else []

    def journeys(self, database_url: str, indexes: Indexes, *, with_floor: bool) -> None:
        for users in self.plan.journey_users:
            rounds = str(self.rounds(users))
            first = indexes.take(JOURNEY_WARMUP + users * self.rounds(users))
            self.worker(
                "journey", "--target", "product", "--users", str(users), "--rounds", rounds,
                "--first", str(first), "--database-url", database_url, *self.redis(),
            )  # fmt: skip
            if with_floor:
                self.worker(
                    "journey", "--target", "floor", "--users", str(users), "--rounds", rounds
                )

    def run(self) -> int:
        plan = self.plan
        indexes = Indexes()
        sqlite_url = f"sqlite+aiosqlite:///{self.work / 'bench.db'}"
        parks = 2 if self.args.redis_url else 1
        needed = (
            self.journey_subscribers()
            + JOURNEY_WARMUP
            + plan.profile_users
            + parks * (park_warmup(plan.park_batch) + plan.park_users)
        )
        if self.worker("prepare", "--database-url", sqlite_url, "--subscribers", str(needed)):
            self.journeys(sqlite_url, indexes, with_floor=True)
        first = indexes.take(JOURNEY_WARMUP + plan.profile_users)
        self.worker(
            "journey", "--target", "product", "--users", str(plan.profile_users),
            "--first", str(first), "--database-url", sqlite_url, "--profile", *self.redis(),
        )  # fmt: skip
        park = ["park", "--target", "product", "--users", str(plan.park_users),
                "--batch", str(plan.park_batch), "--database-url", sqlite_url]  # fmt: skip
        first = indexes.take(park_warmup(plan.park_batch) + plan.park_users)
        self.worker(*park, "--first", str(first))  # dialog state in the database
        if self.args.redis_url:
            first = indexes.take(park_warmup(plan.park_batch) + plan.park_users)
            self.worker(*park, "--first", str(first), *self.redis())
        if not self.args.no_outbox:
            outbox_url = f"sqlite+aiosqlite:///{self.work / 'outbox.db'}"
            self.worker(
                "outbox", "--database-url", outbox_url, "--migrate",
                "--messages", str(plan.outbox_messages), "--chats", str(plan.outbox_chats),
                "--group-messages", str(plan.outbox_group_messages),
                "--time-scale", str(plan.outbox_time_scale),
                "--window", str(plan.outbox_window_s),
            )  # fmt: skip
        if self.args.postgres_url:
            self._postgres()
        shutil.rmtree(self.work, ignore_errors=True)
        return 0

    def _postgres(self) -> None:
        from bench.product import drop_postgres, recreate_postgres, scratch_postgres_url

        base = self.args.postgres_url
        scratch = scratch_postgres_url(base)
        try:
            asyncio.run(recreate_postgres(base, scratch))
        except Exception as exc:  # reported; the rest of the run stands
            self.errors.append(f"postgresql: cannot create the scratch database: {exc}")
            return
        try:
            needed = self.journey_subscribers()
            if self.worker("prepare", "--database-url", scratch, "--subscribers", str(needed)):
                self.journeys(scratch, Indexes(), with_floor=False)
        finally:
            asyncio.run(drop_postgres(base, scratch))


def environment(started: float, load_before: tuple[float, float, float]) -> dict[str, Any]:
    import aiogram
    import sqlalchemy

    return {
        "python": platform.python_version(),
        "aiogram": aiogram.__version__,
        "aiogram_dialog": metadata.version("aiogram-dialog"),
        "sqlalchemy": sqlalchemy.__version__,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "total_wall_s": time.perf_counter() - started,
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    load_before = os.getloadavg()
    preload()
    bench = Bench(args)
    bench.run()
    report = {
        "command": "python -m bench"
        + (" --quick" if args.quick else " --full" if args.full else ""),
        "plan": asdict(bench.plan),
        "environment": environment(started, load_before),
        "results": bench.results,
        "errors": bench.errors,
        "postgres": bool(args.postgres_url),
        "redis": bool(args.redis_url),
    }
    markdown = render(report)
    report["all_reached"] = all_reached(bench.results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "report.md").write_text(markdown, encoding="utf-8")
    print(markdown)
    if bench.errors:
        return 2
    return 0 if report["all_reached"] else 1


def all_reached(results: list[dict[str, Any]]) -> bool:
    """Every simulated user reached its number (journeys) or the e-mail step (parking)."""
    for result in results:
        if result["scenario"] == "journey" and (
            result["failed"]
            or result["reached_number"] != result.get("simulated_users", result["users"])
        ):
            return False
        if result["scenario"] == "park" and result["failed"]:
            return False
    return any(result["scenario"] == "journey" for result in results)


if __name__ == "__main__":
    raise SystemExit(main())
