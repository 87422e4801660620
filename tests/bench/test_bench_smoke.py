"""The benchmark runs end to end: ``python -m bench --quick`` writes its report.

Scenario: the small run (U=1, three users one after another, and U=20 through the whole
journey against the product and the floor, the profile, 200 users parked at the e-mail step, a small outbox) in a subprocess,
offline (no ``DATABASE_URL``/``REDIS_URL``: SQLite, the product's dialog state in it, the
floor's in MemoryStorage). Every simulated
user reaches its application number; no timing is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(*argv: str, env: dict[str, str] | None = None) -> str:
    """``python -m ...`` in the repo, offline; its stdout (it must exit 0)."""
    done = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_quick_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "results"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    run_python("bench", "--quick", "--out", str(out), env=env)

    assert (out / "report.md").is_file()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {"command", "plan", "environment", "results", "errors", "all_reached"} <= set(report)
    assert report["errors"] == []
    assert report["all_reached"] is True

    journeys = [r for r in report["results"] if r["scenario"] == "journey"]
    measured = [r for r in journeys if not r["profiled"]]
    assert {(r["target"], r["users"]) for r in measured} == {
        ("product", 1),
        ("product", 20),
        ("floor", 1),
        ("floor", 20),
    }
    assert [r["target"] for r in measured] == ["product", "floor", "product", "floor"]
    # the product on the storage production defaults to without Redis; the floor in memory
    assert {(r["target"], r["storage"]) for r in journeys} == {
        ("product", "database"),
        ("floor", "memory"),
    }
    for run in journeys:
        simulated = run["users"] * (3 if run["users"] == 1 else 1)
        assert run["rounds"] * run["users"] == run["simulated_users"] == simulated
        assert run["failed"] == 0, run["failures"]
        assert run["reached_number"] == run["distinct_numbers"] == simulated
        assert run["updates"] == 10 * simulated
        for key in ("updates_per_s", "cpu_us_per_update", "p50_ms", "p99_ms", "peak_rss_kib"):
            assert key in run

    (profiled,) = [r for r in journeys if r["profiled"]]
    assert len(profiled["profile"]["by_cumulative"]) == 20

    (parked,) = [r for r in report["results"] if r["scenario"] == "park"]
    assert parked["failed"] == 0
    assert parked["users"] == 200
    assert parked["storage"] == "database"
    assert "rss_per_dialog_bytes" in parked

    (outbox,) = [r for r in report["results"] if r["scenario"] == "outbox"]
    assert outbox["sent"] > 0
    for key in ("messages_per_s", "of_best", "retry_after_429", "best_s"):
        assert key in outbox

    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "CPU per update ÷ the floor's" in markdown
    assert "| 1 (×3 in turn) |" in markdown
    assert "## Profile" in markdown


def test_a_user_who_does_not_reach_the_number_fails_the_run(tmp_path: Path) -> None:
    """Users 1 and 2 have no subscriber in the registry: refused at the code step, they find
    no reason list to press, the worker reports them and the run's verdict is a failure
    (``python -m bench`` exits 1)."""
    from bench.__main__ import all_reached
    from bench.product import prepare_database

    url = f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}"
    prepare_database(url, 1)  # the warm-up user's subscriber only
    stdout = run_python(
        *("bench.worker", "journey", "--target", "product"),
        *("--users", "2", "--first", "0", "--database-url", url),
    )
    result = json.loads(stdout.strip().splitlines()[-1])

    assert result["reached_number"] == 0
    assert result["failed"] == 2
    assert all(" at 'reason'" in failure for failure in result["failures"]), result["failures"]
    assert all_reached([result]) is False
    assert all_reached([{**result, "failed": 0, "reached_number": 2}]) is True
    # Rounds: every user of every group must reach the number, not U of them.
    rounds = {**result, "failed": 0, "rounds": 3, "simulated_users": 6}
    assert all_reached([{**rounds, "reached_number": 2}]) is False
    assert all_reached([{**rounds, "reached_number": 6}]) is True
