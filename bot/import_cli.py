"""``python bot.py import-subscribers FILE.csv``: the registry import on a terminal.

The import itself is ``storage.subscribers_import``; this module only reports on it: a
progress bar on a TTY, the rejected lines, a summary and the exit status.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from storage.database import create_engine
from storage.subscribers_import import ImportFailed, Progress, import_subscribers

log = logging.getLogger(__name__)


class _TerminalProgress:
    """Redraws one status line with ``\\r``; a new line starts when the phase changes."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._phase_total: int | None = None
        self._phase_start = self._last = time.monotonic()
        self._open_line = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if total != self._phase_total:
            self.end_line()
            self._phase_total, self._phase_start = total, self._last
        self._last = now
        elapsed = now - self._phase_start
        rate = done / elapsed if elapsed > 0 else 0.0
        if total > 0:
            share = min(done / total, 1.0)
            filled = int(share * 30)
            line = (
                f"Loading    [{'#' * filled}{'.' * (30 - filled)}] {share:6.1%} "
                f"{done:,}/{total:,} rows, {rate:,.0f} rows/s"
            )
        else:
            line = f"Validating {done:,} rows, {rate:,.0f} rows/s"
        self._out.write(f"\r{line}\x1b[K")
        self._open_line = True
        if total > 0 and done >= total:
            self.end_line()
        self._out.flush()

    def end_line(self) -> None:
        if self._open_line:
            self._out.write("\n")
            self._out.flush()
            self._open_line = False


def terminal_progress(stream: TextIO | None = None) -> Progress:
    """A text progress bar (percentage, rows, rows/s) on a terminal; silent otherwise.

    ``stream`` defaults to ``sys.stderr`` as it is at call time. When it is not a TTY
    nothing is printed per batch: the caller prints a summary at the end.
    """
    out: TextIO = sys.stderr if stream is None else stream
    try:
        interactive = out.isatty()
    except (AttributeError, ValueError):
        interactive = False
    if not interactive:
        return lambda done, total: None
    return _TerminalProgress(out)


def _end_progress(progress: Progress) -> None:
    if isinstance(progress, _TerminalProgress):
        progress.end_line()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


async def run_import_cli(database_url: str, path: Path) -> int:
    """``import-subscribers``: 0 imported, 1 rejected (nothing written), 2 no such file."""
    if not await asyncio.to_thread(path.is_file):
        print(f"No such file: {path}", file=sys.stderr)
        return 2
    engine = create_engine(database_url)
    progress = terminal_progress()
    try:
        result = await import_subscribers(engine, path, progress=progress)
    except ImportFailed as exc:
        _end_progress(progress)
        for error in exc.errors:
            where = f"line {error.line}: " if error.line else ""
            print(f"{where}{error.message}", file=sys.stderr)
        hidden = exc.total_errors - len(exc.errors)
        if hidden > 0:
            print(f"... and {_plural(hidden, 'more error')}", file=sys.stderr)
        print(f"Nothing was imported ({_plural(exc.total_errors, 'error')}).", file=sys.stderr)
        return 1
    except OSError as exc:
        _end_progress(progress)
        print(f"Cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        _end_progress(progress)
        log.exception("subscribers import: database error")
        print(f"Nothing was imported: database error ({type(exc).__name__}).", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    _end_progress(progress)
    print(f"Imported {result.total} rows: {result.added} added, {result.updated} updated.")
    return 0
