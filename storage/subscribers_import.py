"""Import of the subscriber registry from a CSV export of billing.

``python bot.py import-subscribers FILE.csv`` loads the utility's whole registry (about
two million rows) into the ``subscribers`` table. Three properties drive the design:

* **All or nothing.** A registry that is half old and half new would give subscribers
  wrong answers (a paid debt still shown, a suspended service shown as active), so the
  file is first validated completely; any invalid row aborts the import with every
  problem listed by line number, and the database is left untouched. ``subscribers``
  is then changed by ONE transaction, so a crash or a database error also leaves the
  old registry intact.
* **Constant memory.** The file is streamed (``csv`` over a text stream) and never held
  in memory; rows are written in batches. The only structure that grows with the file
  is what the check for a code given twice needs: one 64-bit key per row in flat arrays
  (16 MB for two million rows, against ~125 MB for a set of ints). Only when a key
  repeats is the file read once more to name the lines involved.
* **Minutes, not hours, and the bot keeps running.** Each batch is bulk-inserted with an
  executemany into a temporary staging table; two set-based statements then merge it
  into ``subscribers`` (``UPDATE ... FROM`` for known codes, rewriting only rows whose
  values differ, and ``INSERT ... SELECT ... WHERE NOT EXISTS`` for new ones). Staging
  beat ``INSERT ... ON CONFLICT DO UPDATE`` per batch by ~25% on PostgreSQL and matched
  it on SQLite, where it has a decisive advantage: the temporary tables live outside
  the main database, so SQLite's single write lock is held only while the rows that
  actually changed are merged, not during the whole load (see ``_load_sqlite``). On
  PostgreSQL (row locks, MVCC) everything simply runs in one transaction.

Rows of ``subscribers`` that are absent from the file are left as they are.

Progress: ``progress(done, total)`` is called after every batch of both passes. During
the validation pass ``total`` is 0 (not known yet) and ``done`` counts the rows checked;
during the load pass ``total`` is the number of data rows found by the validation pass.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import os
import re
import sys
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TextIO, TypeAlias

from sqlalchemy import (
    Boolean,
    Column,
    MetaData,
    Numeric,
    String,
    Table,
    delete,
    exists,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.schema import CreateTable

from storage.database import create_engine
from storage.models import SubscriberRow
from workflows.models import ServiceState

log = logging.getLogger(__name__)

HEADER: tuple[str, ...] = (
    "subscriber_code",
    "owner_fin",
    "meterless",
    "debt_azn",
    "service_state",
    "address",
)
MAX_REPORTED_ERRORS = 100
MAX_CODE_LENGTH = 32
MAX_ADDRESS_LENGTH = 500
# Numeric(14, 2): at most 12 digits before the point.
MAX_DEBT_INTEGER_DIGITS = 12
# SQLite page cache of the import connection, per database (main, temp), in KiB. 64 MB
# was no faster on 2 million rows and doubled the peak RSS (the sorter uses as much).
SQLITE_CACHE_KIB = 32768

_FIN = re.compile(r"[0-9A-HJ-NP-Z]{7}")
_DEBT = re.compile(rf"[0-9]{{1,{MAX_DEBT_INTEGER_DIGITS}}}(?:\.[0-9]{{1,2}})?")
_SIGNED_NUMBER = re.compile(r"[+-]?([0-9]+)(?:\.([0-9]+))?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_STATES = frozenset(state.value for state in ServiceState)
_COLUMNS = len(HEADER)
_EXACT_KEY_DIGITS = 18  # every 18-digit number fits in a signed 64-bit int
_HASH_MASK = (1 << 62) - 1


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: int
    updated: int  # codes that already existed (rewritten only where a value differs)
    total: int


@dataclass(frozen=True, slots=True)
class RowError:
    # Physical line of the file where the record starts; the header is line 1. 0 stands
    # for the file as a whole (it changed while being imported).
    line: int
    message: str


class ImportFailed(Exception):
    """The file was rejected; nothing was written.

    ``errors`` is ordered by line and holds at most ``MAX_REPORTED_ERRORS`` entries
    (plus, if the file could not be read to its end, the line where reading stopped);
    ``total_errors`` counts every invalid line.
    """

    def __init__(self, errors: list[RowError], total_errors: int | None = None) -> None:
        self.errors = errors
        self.total_errors = len(errors) if total_errors is None else total_errors
        super().__init__(f"{self.total_errors} invalid line(s)")


FinParser: TypeAlias = Callable[[str], str]
Progress: TypeAlias = Callable[[int, int], None]
_Values: TypeAlias = tuple[str, str | None, bool, Decimal, str, str]

_staging_metadata = MetaData()


def _staging_table(name: str) -> Table:
    return Table(
        name,
        _staging_metadata,
        Column("code", String(MAX_CODE_LENGTH), nullable=False),
        Column("owner_fin", String(7)),
        Column("meterless", Boolean, nullable=False),
        Column("debt_azn", Numeric(14, 2, asdecimal=True), nullable=False),
        Column("service_state", String(16), nullable=False),
        Column("address", String(MAX_ADDRESS_LENGTH), nullable=False),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="drop",
    )


# What the merge reads. On SQLite it is a copy of the unsorted one in code order.
_STAGING = _staging_table("subscribers_import")
_STAGING_UNSORTED = _staging_table("subscribers_import_unsorted")
_SUBSCRIBERS = SubscriberRow.__table__
_FIELDS = ("code", "owner_fin", "meterless", "debt_azn", "service_state", "address")


class _FileUnreadable(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(line, message)
        self.line = line
        self.message = message


# ---------------------------------------------------------------------------------------
# Reading and validation (pure, synchronous)
# ---------------------------------------------------------------------------------------


def _open(path: Path) -> TextIO:
    # utf-8-sig drops a BOM; surrogateescape turns invalid bytes into lone surrogates so
    # the faulty row (not the whole file) is reported, with its line number.
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _records(stream: TextIO) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, fields)`` for every data record after checking the header.

    ``line`` is the physical line where the record starts (a quoted field may span
    lines). Blank lines are skipped.
    """
    reader = csv.reader(stream, strict=True)
    previous = 0
    try:
        header = next(reader, None)
        if header is None or [field.strip() for field in header] != list(HEADER):
            message = f"the header must be exactly: {','.join(HEADER)}"
            if header is not None and len(header) == 1 and ";" in header[0]:
                message += " (fields separated by commas, not semicolons)"
            raise _FileUnreadable(1, message)
        previous = reader.line_num
        for fields in reader:
            line = previous + 1
            previous = reader.line_num
            if fields:
                yield line, fields
    except csv.Error as exc:
        raise _FileUnreadable(previous + 1, f"unreadable CSV: {exc}") from None


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _check_code(raw: str) -> str | None:
    code = raw.strip()
    if 0 < len(code) <= MAX_CODE_LENGTH and code.isascii() and code.isdigit():
        return code
    return None


def _debt_problem(raw: str) -> str:
    if "," in raw:
        return f"debt_azn {_show(raw)}: use a dot as the decimal separator (e.g. 12.50)"
    match = _SIGNED_NUMBER.fullmatch(raw)
    if match is None:
        return f"debt_azn {_show(raw)} is not a decimal number (e.g. 12.50)"
    if raw.startswith("-") and Decimal(raw) != 0:
        return f"debt_azn {_show(raw)} must not be negative"
    if raw[0] in "+-":
        return f"debt_azn {_show(raw)} must be written without a sign"
    if match.group(2) is not None and len(match.group(2)) > 2:
        return f"debt_azn {_show(raw)} has more than 2 decimals"
    return f"debt_azn {_show(raw)} is too large (at most {MAX_DEBT_INTEGER_DIGITS} digits)"


def _default_fin(raw: str) -> str:
    fin = raw.strip().upper()
    if _FIN.fullmatch(fin) is None:
        raise ValueError("not a FIN")
    return fin


def _parse(fields: list[str], fin_parser: FinParser) -> tuple[_Values | None, list[str]]:
    """Validate one record: ``(values, [])`` or ``(None, problems)``."""
    if len(fields) != _COLUMNS:
        return None, [f"expected {_COLUMNS} columns, found {len(fields)}"]
    raw_code, raw_fin, raw_meterless, raw_debt, raw_state, raw_address = fields
    problems: list[str] = []

    code = _check_code(raw_code)
    if code is None:
        problems.append(f"subscriber_code {_show(raw_code)} must be 1 to {MAX_CODE_LENGTH} digits")

    fin: str | None = None
    if raw_fin.strip():
        try:
            fin = fin_parser(raw_fin)
            if len(fin) != 7:  # the column is String(7), whatever the parser accepts
                raise ValueError(fin)
        except ValueError:
            # The value is personal data: the line number is enough to find it.
            problems.append(
                "owner_fin is not a valid FIN (7 characters: digits and Latin capitals "
                "except I and O)"
            )

    meterless = _BOOLEANS.get(raw_meterless.strip().lower())
    if meterless is None:
        problems.append(f"meterless {_show(raw_meterless)} must be one of true/false/1/0/yes/no")

    raw_debt = raw_debt.strip()
    debt: Decimal | None = None
    if _DEBT.fullmatch(raw_debt):
        debt = Decimal(raw_debt)
    else:
        problems.append(_debt_problem(raw_debt))

    state = raw_state.strip().lower()
    if state not in _STATES:
        problems.append(
            f"service_state {_show(raw_state)} must be one of {'/'.join(sorted(_STATES))}"
        )

    address = raw_address.strip()
    if not address:
        problems.append("address is empty")
    elif len(address) > MAX_ADDRESS_LENGTH:
        problems.append(f"address is longer than {MAX_ADDRESS_LENGTH} characters")
    elif _CONTROL.search(address):
        problems.append("address contains a line break or another control character")
    else:
        try:
            address.encode("utf-8")
        except UnicodeEncodeError:
            problems.append("address is not valid UTF-8 text")

    if problems:
        return None, problems
    assert code is not None and meterless is not None and debt is not None
    return (code, fin, meterless, debt, state, address), []


class _CodeKeys:
    """Every code of the file as a 64-bit key, 8 bytes a row, for the duplicate check.

    A set of two million ``int`` objects would take about 125 MB; arrays take 16 MB.
    The keys are spread over buckets so that the repeated ones can be found afterwards
    with one small set per bucket.
    """

    _BUCKETS = 251  # prime: codes in a regular progression still spread evenly

    def __init__(self) -> None:
        self._buckets = [array("q") for _ in range(self._BUCKETS)]

    def add(self, key: int) -> None:
        self._buckets[key % self._BUCKETS].append(key)

    def repeated(self) -> set[int]:
        found: set[int] = set()
        for bucket in self._buckets:
            if len(set(bucket)) == len(bucket):
                continue
            seen: set[int] = set()
            for key in bucket:
                if key in seen:
                    found.add(key)
                else:
                    seen.add(key)
        return found


def _code_key(code: str) -> int:
    """The code itself when it is a lossless int64 (no leading zero), else a hash of it.

    Hashed keys are negative, so they never meet exact ones; a hash collision can only
    make ``_report`` compare the actual codes, never hide a duplicate.
    """
    if code[0] != "0" and len(code) <= _EXACT_KEY_DIGITS:
        return int(code)
    return -1 - (hash(code) & _HASH_MASK)


async def _validate(
    path: Path, batch_size: int, progress: Progress | None, fin_parser: FinParser
) -> int:
    """First pass: check every row; return the number of data rows or raise ImportFailed."""
    keys = _CodeKeys()
    rows = invalid = 0
    errors: list[RowError] = []
    try:
        with _open(path) as stream:
            for line, fields in _records(stream):
                rows += 1
                _values, problems = _parse(fields, fin_parser)
                if problems:
                    invalid += 1
                    if len(errors) < MAX_REPORTED_ERRORS:
                        errors.append(RowError(line, "; ".join(problems)))
                code = _check_code(fields[0]) if len(fields) == _COLUMNS else None
                if code is not None:
                    keys.add(_code_key(code))
                if rows % batch_size == 0:
                    if progress is not None:
                        progress(rows, 0)
                    await asyncio.sleep(0)  # let the event loop breathe between batches
    except _FileUnreadable as exc:
        invalid += 1
        errors.append(RowError(exc.line, exc.message))
    if progress is not None and rows % batch_size:
        progress(rows, 0)
    repeated = keys.repeated()
    del keys
    if repeated:
        failed = _report(path, repeated, fin_parser)
        if failed is not None:
            raise failed
    if invalid:
        raise ImportFailed(errors, invalid)
    return rows


def _report(path: Path, repeated: set[int], fin_parser: FinParser) -> ImportFailed | None:
    """Re-read the file to list every problem, naming the first line of repeated codes."""
    first_line: dict[str, int] = {}
    errors: list[RowError] = []
    invalid = 0

    def add(line: int, problems: list[str]) -> None:
        nonlocal invalid
        invalid += 1
        if len(errors) < MAX_REPORTED_ERRORS:
            errors.append(RowError(line, "; ".join(problems)))

    with _open(path) as stream:
        try:
            for line, fields in _records(stream):
                _values, problems = _parse(fields, fin_parser)
                code = _check_code(fields[0]) if len(fields) == _COLUMNS else None
                if code is not None and _code_key(code) in repeated:
                    first = first_line.setdefault(code, line)
                    if first != line:
                        repeat = f"subscriber_code {code} already appears on line {first}"
                        problems = [repeat, *problems]
                if problems:
                    add(line, problems)
        except _FileUnreadable as exc:
            add(exc.line, [exc.message])
    return ImportFailed(errors, invalid) if invalid else None


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------


def _file_identity(path: Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


async def _stage(
    conn: AsyncConnection,
    table: Table,
    path: Path,
    total: int,
    batch_size: int,
    progress: Progress | None,
    fin_parser: FinParser,
) -> None:
    """Second pass: executemany every batch into the staging ``table``."""
    stmt = insert(table)
    batch: list[dict[str, object]] = []
    done = 0
    with _open(path) as stream:
        try:
            for line, fields in _records(stream):
                values, problems = _parse(fields, fin_parser)
                if values is None:
                    raise ImportFailed([RowError(line, "; ".join(problems))])
                batch.append(dict(zip(_FIELDS, values, strict=True)))
                if len(batch) >= batch_size:
                    await conn.execute(stmt, batch)
                    done += len(batch)
                    batch = []
                    if progress is not None:
                        progress(done, total)
        except _FileUnreadable as exc:
            raise ImportFailed([RowError(exc.line, exc.message)]) from None
    if batch:
        await conn.execute(stmt, batch)
        done += len(batch)
        if progress is not None:
            progress(done, total)
    if done != total:
        raise _changed_error()


def _changed_error() -> ImportFailed:
    return ImportFailed([RowError(0, "the file changed during the import; run it again")])


async def _prune(conn: AsyncConnection) -> int:
    """Drop staged rows identical to the stored ones; return how many.

    A daily registry differs from the last one in few rows: after this only the new and
    changed rows remain, so the merge (which holds SQLite's write lock) is short.
    """
    s, t = _SUBSCRIBERS.c, _STAGING.c
    identical = exists().where(
        s.code == t.code, *(s[name].is_not_distinct_from(t[name]) for name in _FIELDS[1:])
    )
    return (await conn.execute(delete(_STAGING).where(identical))).rowcount


async def _merge(conn: AsyncConnection) -> tuple[int, int]:
    """Merge staging into subscribers; return (inserted, rewritten) row counts."""
    s, t = _SUBSCRIBERS.c, _STAGING.c
    changed = or_(*(s[name].is_distinct_from(t[name]) for name in _FIELDS[1:]))
    rewrite = (
        update(_SUBSCRIBERS)
        .where(s.code == t.code)
        .where(changed)
        .values({name: t[name] for name in _FIELDS[1:]})
    )
    rewritten = (await conn.execute(rewrite)).rowcount
    new_rows = select(*(t[name] for name in _FIELDS)).where(~exists().where(s.code == t.code))
    add = insert(_SUBSCRIBERS).from_select(list(_FIELDS), new_rows)
    inserted = (await conn.execute(add)).rowcount
    return inserted, rewritten


@dataclass(slots=True)
class _Timing:
    started: float
    validated: float = 0.0
    staged: float = 0.0
    merged: float = 0.0


async def _load_postgresql(
    conn: AsyncConnection,
    path: Path,
    total: int,
    batch_size: int,
    progress: Progress | None,
    fin_parser: FinParser,
    identity: tuple[int, int],
    timing: _Timing,
) -> tuple[int, int]:
    """Everything in one transaction; the staging table is dropped at its end."""
    async with conn.begin():
        await conn.execute(CreateTable(_STAGING))  # ON COMMIT DROP
        await _stage(conn, _STAGING, path, total, batch_size, progress, fin_parser)
        if _file_identity(path) != identity:
            raise _changed_error()
        timing.staged = time.monotonic()
        # Hash joins make the order irrelevant and the merge skips unchanged rows itself,
        # so no sorting and no pruning here; fresh statistics pick those joins.
        await conn.execute(text("ANALYZE subscribers_import"))
        inserted, rewritten = await _merge(conn)
        timing.merged = time.monotonic()
    return inserted, rewritten


async def _load_sqlite(
    conn: AsyncConnection,
    path: Path,
    total: int,
    batch_size: int,
    progress: Progress | None,
    fin_parser: FinParser,
    identity: tuple[int, int],
    timing: _Timing,
) -> tuple[int, int]:
    """Stage, sort and prune in the temp database, then merge in one short write transaction.

    SQLite has one writer at a time: the bot's own writes wait while ``subscribers`` is
    being changed (up to its busy timeout), so only the merge may hold the write lock.
    The staging tables are private to this connection and filled in their own
    transaction; ``subscribers`` is changed by the merge transaction alone, so the import
    is still all or nothing.

    The staged rows are copied in code order (an external sort) before they are compared
    with ``subscribers``: its primary-key index is then walked sequentially instead of at
    random. On 2 million changed rows this took the merge from 142 s to 13 s, and new
    rows are appended at the end of the index.
    """
    async with conn.begin():
        # pysqlite opens a transaction only at the first INSERT: an explicit BEGIN
        # puts all the staging work in one transaction of the temp database.
        await conn.exec_driver_sql("BEGIN")
        await _drop_sqlite_staging(conn)
        await conn.execute(CreateTable(_STAGING_UNSORTED))
        await conn.execute(CreateTable(_STAGING))
        await _stage(conn, _STAGING_UNSORTED, path, total, batch_size, progress, fin_parser)
        in_code_order = select(_STAGING_UNSORTED).order_by(_STAGING_UNSORTED.c.code)
        await conn.execute(insert(_STAGING).from_select(list(_FIELDS), in_code_order))
        await conn.execute(text("DROP TABLE temp.subscribers_import_unsorted"))
        await _prune(conn)
    timing.staged = time.monotonic()
    async with conn.begin():
        # IMMEDIATE: take the write lock now (waiting for the bot, within the busy
        # timeout). Had this transaction read main first, it would hold a WAL snapshot
        # that could not become a write once the bot has committed (SQLITE_BUSY_SNAPSHOT).
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
        if _file_identity(path) != identity:
            raise _changed_error()
        inserted, rewritten = await _merge(conn)
    timing.merged = time.monotonic()
    return inserted, rewritten


async def _drop_sqlite_staging(conn: AsyncConnection) -> None:
    await conn.execute(text("DROP TABLE IF EXISTS temp.subscribers_import_unsorted"))
    await conn.execute(text("DROP TABLE IF EXISTS temp.subscribers_import"))


async def import_subscribers(
    engine: AsyncEngine,
    path: Path,
    *,
    batch_size: int = 5000,
    progress: Progress | None = None,
    fin_parser: FinParser | None = None,
) -> ImportResult:
    """Validate ``path`` completely, then load it; ``subscribers`` changes in one transaction.

    Raises ``ImportFailed`` (nothing written) when any row is invalid. ``fin_parser``
    returns the normalised FIN or raises ``ValueError``; by default the FIN is stripped,
    upper-cased and matched against ``[0-9A-HJ-NP-Z]{7}``.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    parse_fin = fin_parser or _default_fin
    timing = _Timing(started=time.monotonic())
    identity = _file_identity(path)
    total = await _validate(path, batch_size, progress, parse_fin)
    timing.validated = time.monotonic()
    log.info(
        "subscribers import: %d rows valid in %.1fs", total, timing.validated - timing.started
    )

    sqlite = engine.dialect.name == "sqlite"
    load = _load_sqlite if sqlite else _load_postgresql
    async with engine.connect() as conn:
        cache_sizes = await _sqlite_prepare(conn) if sqlite else {}
        try:
            inserted, rewritten = await load(
                conn, path, total, batch_size, progress, parse_fin, identity, timing
            )
        finally:
            if sqlite:
                await _sqlite_cleanup(conn, cache_sizes)
    result = ImportResult(added=inserted, updated=total - inserted, total=total)
    log.info(
        "subscribers import: %d rows, %d added, %d updated (%d rewritten, %d unchanged) "
        "in %.1fs: validated %.1fs, staged %.1fs, merged %.1fs",
        result.total,
        result.added,
        result.updated,
        rewritten,
        total - inserted - rewritten,
        time.monotonic() - timing.started,
        timing.validated - timing.started,
        timing.staged - timing.validated,
        timing.merged - timing.staged,
    )
    return result


async def _sqlite_prepare(conn: AsyncConnection) -> dict[str, int]:
    """Give the import connection a larger page cache; return the previous sizes."""
    previous = {}
    for schema in ("main", "temp"):
        result = await conn.exec_driver_sql(f"PRAGMA {schema}.cache_size")
        previous[schema] = int(result.scalar_one())
        await conn.exec_driver_sql(f"PRAGMA {schema}.cache_size = -{SQLITE_CACHE_KIB}")
    await conn.commit()
    return previous


async def _sqlite_cleanup(conn: AsyncConnection, cache_sizes: dict[str, int]) -> None:
    """The connection goes back to the pool: no staging table, its usual page cache."""
    try:
        if conn.in_transaction():
            await conn.rollback()
        await _drop_sqlite_staging(conn)
        for schema, size in cache_sizes.items():
            await conn.exec_driver_sql(f"PRAGMA {schema}.cache_size = {size}")
        await conn.commit()
    except SQLAlchemyError:
        log.warning("subscribers import: could not reset the connection; discarding it")
        await conn.invalidate()


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


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
