"""Runs one worker scenario in a fresh child process and returns its JSON.

Default: ``os.fork()`` from the orchestrator, which has imported aiogram, aiogram-dialog,
SQLAlchemy and the product once and has started no event loop and no thread. The child
starts with those modules in memory (as a spawned worker would after its imports), its
``getrusage`` counters and peak RSS start from zero, and it ends with ``os._exit``; so each
scenario's peak RSS is its own. This saves the ~6 s of CPU that importing aiogram costs
each spawned process (10-15 s of wall time on a busy 2-core machine), which the 3-minute
budget cannot afford a dozen times.

``spawn=True`` runs ``python -m bench.worker ...`` instead (the same code, fully fresh).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class WorkerFailed(Exception):
    pass


PRELOAD = (
    "aiogram.fsm.storage.redis",
    "aiosqlite",
    "alembic.command",
    "bench.outbox_bench",
    "bench.product",
    "bench.worker",
    "bot.main",
)


def preload() -> None:
    """Import what every scenario needs, once, before the first fork."""
    for name in PRELOAD:
        importlib.import_module(name)


def run_worker(argv: list[str], *, spawn: bool = False, timeout: float = 600.0) -> dict[str, Any]:
    if spawn:
        return _spawn(argv, timeout)
    return _fork(argv, timeout)


def _spawn(argv: list[str], timeout: float) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - this interpreter running our own worker module
        [sys.executable, "-m", "bench.worker", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise WorkerFailed(f"worker {argv[0]} exited with {done.returncode}")
    return _last_json(done.stdout, argv)


def _fork(argv: list[str], timeout: float) -> dict[str, Any]:
    from bench import worker

    with tempfile.NamedTemporaryFile("w+", prefix="bench-worker-", suffix=".json") as out:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                result = worker.run(argv)
                out.write(json.dumps(result) + "\n")
                out.flush()
                code = 0
            except SystemExit as exc:
                print(f"worker {argv[0]}: {exc}", file=sys.stderr)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stderr.flush()
                os._exit(code)
        status = _wait(pid, timeout)
        if status != 0:
            raise WorkerFailed(f"worker {' '.join(argv[:3])} exited with {status}")
        out.seek(0)
        return _last_json(out.read(), argv)


def _wait(pid: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise WorkerFailed(f"worker {pid} took longer than {timeout:.0f}s")
        time.sleep(0.02)


def _last_json(text: str, argv: list[str]) -> dict[str, Any]:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise WorkerFailed(f"worker {argv[0]} printed no result")
    return json.loads(lines[-1])
