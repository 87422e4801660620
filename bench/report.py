"""The markdown report of a run (``report.md``), from the same dict as ``report.json``."""

from __future__ import annotations

from typing import Any

JOURNEY_LINE = (
    "/start → FIN → “new application” → code → reason → shared contact → e-mail → "
    "description → “Skip” (notes) → “Continue” (Davam et) → the number: 10 updates per user"
)
RATIO_TARGET = 1.3
PARK_TARGET_KB = 10.0
REDIS_TARGET_KB = 4.0
OUTBOX_TARGET = 0.95


def _f(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _ok(good: bool) -> str:
    return "✅" if good else "❌"


def _of(results: list[dict[str, Any]], scenario: str, **match: Any) -> list[dict[str, Any]]:
    return [
        r
        for r in results
        if r["scenario"] == scenario and all(r.get(k) == v for k, v in match.items())
    ]


def render(report: dict[str, Any]) -> str:
    results = report["results"]
    env = report["environment"]
    out: list[str] = []
    out.append("# Benchmark: what one worker carries, against the framework's floor\n")
    out.append(
        f"`{report['command']}` · {env['started_at']} · {env['cpus']} CPUs · Python "
        f"{env['python']}, aiogram {env['aiogram']}, aiogram-dialog {env['aiogram_dialog']}, "
        f"SQLAlchemy {env['sqlalchemy']} · load average {env['load_average_before'][0]:.1f} "
        f"before, {env['load_average_after'][0]:.1f} after · {env['total_wall_s']:.0f} s\n"
    )
    out += _journey(results)
    out += _memory(results, report)
    out += _outbox(results)
    out += _profile(results)
    if report["errors"]:
        out.append("\n## Errors\n")
        out += [f"- {error}" for error in report["errors"]]
    out.append("")
    return "\n".join(out)


def _users(r: dict[str, Any]) -> str:
    """U, and how many groups of U ran one after another when more than one."""
    rounds = r.get("rounds", 1)
    return f"{r['users']:,}" + (f" (×{rounds} in turn)" if rounds > 1 else "")


STATE_IN = {"memory": "MemoryStorage", "database": "the database", "redis": "Redis (db 14)"}


def _state(r: dict[str, Any]) -> str:
    """Where the run kept dialog state (runs before 2026-12-07 carry no "storage")."""
    return STATE_IN.get(r.get("storage", "memory"), "?")


def _journey(results: list[dict[str, Any]]) -> list[str]:
    rows = [r for r in _of(results, "journey") if not r.get("profiled")]
    if not rows:
        return []
    out = ["## The journey\n", JOURNEY_LINE + ".\n"]
    out.append(
        "| target | database | dialog state | U | reached the number | updates/s | "
        "CPU µs/update | p50 ms | p99 ms | peak RSS MB |"
    )
    out.append("|---|---|---|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        reached = f"{r['reached_number']}/{r.get('simulated_users', r['users'])}"
        if r["failed"]:
            reached += f" ❌ ({r['failed']} failed)"
        out.append(
            f"| {r['target']} | {r['database']} | {_state(r)} | {_users(r)} | {reached} | "
            f"{_f(r['updates_per_s'])} | {_f(r['cpu_us_per_update'])} | {_f(r['p50_ms'], 1)} | "
            f"{_f(r['p99_ms'], 1)} | {_f(r['peak_rss_kib'] / 1024)} |"
        )
    floors = {r["users"]: r for r in rows if r["target"] == "floor"}
    ours = [r for r in rows if r["target"] == "product"]
    if floors and ours:
        out.append(
            f"\n**Our CPU per update ÷ the floor's** (target ≤ {RATIO_TARGET}; the floor is a "
            "bare aiogram-dialog wizard with the same windows, inputs and widget ids, "
            "MemoryStorage, no database, i18n, validation or filters: `bench/floor.py`):\n"
        )
        out.append("| database | dialog state | U | ours µs | floor µs | ratio |")
        out.append("|---|---|--:|--:|--:|--:|")
        for r in ours:
            floor = floors.get(r["users"])
            if floor is None or not floor["cpu_us_per_update"]:
                continue
            ratio = r["cpu_us_per_update"] / floor["cpu_us_per_update"]
            out.append(
                f"| {r['database']} | {_state(r)} | {_users(r)} | {_f(r['cpu_us_per_update'])} | "
                f"{_f(floor['cpu_us_per_update'])} | **{ratio:.2f}** {_ok(ratio <= RATIO_TARGET)} |"
            )
    out.append(
        "\nCPU: `time.process_time()` of the worker process (all its threads, so aiosqlite's; "
        "not the PostgreSQL server's) ÷ updates. Latency: wall time of each `dp.feed_update`, "
        "with all U users in flight (the product admits `MAX_UPDATES_IN_FLIGHT`, 64, into "
        "its handlers at once; the others' wait for a slot is in their latency). Each row is "
        "a fresh process after one warm-up user, and each floor row runs right after the "
        "product row of its U (the PostgreSQL rows are divided by the same floor rows, "
        "measured earlier in the run). U=1 runs its users one after another, each alone, so "
        "that its figure rests on more than one user's ten updates; "
        "updates are built and answered in-process (no network, no JSON), and that cost is "
        "in both columns.\n"
    )
    return out


def _memory(results: list[dict[str, Any]], report: dict[str, Any]) -> list[str]:
    parks = _of(results, "park")
    if not parks:
        return []
    out = ["## Memory: dialogs in progress\n"]
    out.append(
        "| storage | users parked at the e-mail step | RSS growth per dialog | "
        "bytes per dialog in Redis | target |"
    )
    out.append("|---|--:|--:|--:|---|")
    for r in parks:
        per = r["rss_per_dialog_bytes"] / 1024
        if r["storage"] == "redis":
            in_redis = r.get("redis_bytes_per_dialog", 0) / 1024
            keys = r.get("redis_keys_per_dialog", 0)
            out.append(
                f"| Redis (db 14) | {r['users']:,} | {per:.1f} KB | {in_redis:.2f} KB "
                f"({keys:.1f} keys) | ≤ {REDIS_TARGET_KB:.0f} KB in Redis "
                f"{_ok(in_redis <= REDIS_TARGET_KB)} |"
            )
        else:
            out.append(
                f"| {_state(r)} | {r['users']:,} | {per:.1f} KB | — | "
                f"≤ {PARK_TARGET_KB:.0f} KB RSS {_ok(per <= PARK_TARGET_KB)} |"
            )
        if r["failed"]:
            out.append(f"| ❌ {r['failed']} users did not reach the e-mail step | | | | |")
    if not report.get("redis"):
        out.append("| Redis | — | — | skipped: no `REDIS_URL` | |")
    batch = parks[0].get("batch", 0)
    out.append(
        "\nThe product's dialogs, each user parked at the e-mail step after /start, FIN, "
        f"“new application”, code, reason and contact, {batch} users in flight at a time. "
        "RSS from `/proc/self/statm` after `gc.collect()`, after minus before, ÷ users; "
        "before the baseline one whole journey and one batch parked, so that the allocator "
        "arenas a batch in flight needs are already there. Redis: `MEMORY USAGE key SAMPLES "
        "0` summed over every key of the database ÷ users (the RSS column is then the "
        "worker's own memory per dialog). In the database, the RSS column is what the "
        "storage keeps in memory and SQLite's page cache.\n"
    )
    return out


def _outbox(results: list[dict[str, Any]]) -> list[str]:
    runs = _of(results, "outbox")
    if not runs:
        return []
    out = ["## The outbox\n"]
    out.append(
        "| messages | to | time | sent | msgs/s | a perfect sender | "
        "achieved (target ≥ 95%) | 429s (target 0) | CPU ms/message |"
    )
    out.append("|--:|---|--:|--:|--:|--:|--:|--:|--:|")
    for r in runs:
        when = f"{r['elapsed_s']:.1f} s" + ("" if r["finished"] else " (window)")
        if r["time_scale"] != 1:
            when += f", virtual ×{r['time_scale']:g}"
        out.append(
            f"| {r['messages']:,} | {r['chats']} chats + the group ({r['group_messages']}) | "
            f"{when} | {r['sent']:,} | {r['messages_per_s']:.1f} | "
            f"{r['best_messages_per_s']:.1f} msgs/s (whole queue in {r['best_s']:.0f} s) | "
            f"**{r['of_best']:.1%}** {_ok(r['of_best'] >= OUTBOX_TARGET)} | "
            f"{r['retry_after_429']} {_ok(r['retry_after_429'] == 0)} | "
            f"{r['cpu_us_per_message'] / 1000:.1f} |"
        )
    r = runs[0]
    lim, aim = r["limits"], r.get("configured", r["limits"])
    out.append(
        f"\nTelegram's limits, held by the fake Bot API: {lim['per_chat_per_second']:g}/s per "
        f"chat, {lim['per_group_per_minute']:g}/min per group, {lim['global_per_second']:g}/s "
        f"overall; the product aims at {aim['per_chat_per_second']:g}/s, "
        f"{aim['per_group_per_minute']:g}/min and {aim['global_per_second']:g}/s "
        "(`OUTBOX_*`)."
    )
    for run in runs:
        if run.get("refused_by"):
            detail = ", ".join(f"{k}: {v}" for k, v in run["refused_by"].items())
            out.append(f"429s by the window that refused: {detail}.")
    out.append(
        "\nThe product's `OutboxRunner` (real dispatcher, rate limiter, SQL store, senders) "
        "sends pending rows (subscriber notices round-robin over the chats, staff cards to the "
        "group) through a fake Bot API that counts sliding windows over the messages it "
        "accepted and answers 429 with `retry_after` past them. *A perfect sender* sends the "
        "same queue greedily at the earliest moment each window allows; *achieved* is our "
        "rate ÷ its rate (its time ÷ ours; with a window, what we sent ÷ what it would have "
        "sent by then). CPU: the whole worker process ÷ messages sent.\n"
    )
    return out


def _profile(results: list[dict[str, Any]]) -> list[str]:
    runs = [r for r in _of(results, "journey") if r.get("profiled")]
    if not runs:
        return []
    r = runs[0]
    prof = r["profile"]
    out = [
        f"## Profile: the journey, product, {r['database']}, U={r['users']} (cProfile)\n",
        f"{r['updates']:,} updates, {_f(r['cpu_us_per_update'])} µs CPU per update under the "
        "profiler, whose clock is the event-loop thread's CPU time (`time.thread_time`: "
        "aiosqlite's thread is not in it). Top 20 by cumulative time, the event loop's and the "
        "simulated users' own frames left out. cProfile charges a coroutine from its first "
        "step to its return, so a coroutine's cumulative time also holds what the other users "
        "ran while it waited; for plain functions it is their own CPU.\n",
        "| function | calls | own s | cumulative s |",
        "|---|--:|--:|--:|",
    ]
    for row in prof["by_cumulative"]:
        out.append(
            f"| `{row['function']}` | {row['ncalls']:,} | {row['tottime_s']:.3f} | "
            f"{row['cumtime_s']:.3f} |"
        )
    out += ["\nTop 20 by own time (CPU spent in the function itself):\n"]
    out += ["| function | calls | own s | cumulative s |", "|---|--:|--:|--:|"]
    for row in prof["by_own_time"]:
        out.append(
            f"| `{row['function']}` | {row['ncalls']:,} | {row['tottime_s']:.3f} | "
            f"{row['cumtime_s']:.3f} |"
        )
    out += ["\nOwn time by package:\n", "| package | own s | share |", "|---|--:|--:|"]
    for row in prof["own_time_by_package"]:
        out.append(f"| {row['package']} | {row['own_s']:.3f} | {row['share']:.0%} |")
    out.append("")
    return out
