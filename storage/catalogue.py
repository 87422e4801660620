"""The reason catalogue's data files, and their sync into the database on every start.

``storage/seed/reasons.csv`` (``code,kind,position,active,deadline_hours``) lists every
reason (``deadline_hours`` empty: the global ``WORK_ORDER_DEADLINE_HOURS``), and
``storage/seed/reason_labels.csv`` (``code,locale,label``) its label in each language. They
are the catalogue's source of truth: after the migrations, :func:`sync_reason_catalogue`
brings the ``reasons`` and ``reason_labels`` tables in line with them. It reads both tables
and writes only what differs (on most starts nothing), with upserts, so that workers starting
together do no harm. A reason that leaves the file is deactivated, never deleted (old
applications refer to it) and keeps its labels; a label that leaves the file, of a reason
still in it, is deleted. (Migration 0001 keeps the catalogue's historical seed.)
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Table, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import create_engine, dialect_insert
from storage.models import ReasonLabelRow, ReasonRow
from workflows.models import ApplicationKind

SEED_DIR = Path(__file__).resolve().parent / "seed"
REASONS_FILE = "reasons.csv"
LABELS_FILE = "reason_labels.csv"
# A new column (a reason's deadline, say) is one more name here, in the model and the file.
REASON_COLUMNS = ("code", "kind", "position", "active", "deadline_hours")
LABEL_COLUMNS = ("code", "locale", "label")
_ACTIVE = {"true": True, "false": False}
_KINDS = {kind.value for kind in ApplicationKind}

reasons: Table = ReasonRow.__table__  # type: ignore[assignment]
reason_labels: Table = ReasonLabelRow.__table__  # type: ignore[assignment]


class CatalogueFileError(ValueError):
    """A catalogue file that cannot be loaded; the message names the file and the line."""


class ReasonEntry(NamedTuple):
    """One line of ``reasons.csv``: a reason of a kind, at its place in the menu."""

    code: str
    kind: str
    position: int
    active: bool
    deadline_hours: int | None = None  # None: the global default


@dataclass(frozen=True, slots=True)
class CatalogueData:
    """The catalogue as the files say: the reasons in order, and (code, locale) -> label."""

    reasons: tuple[ReasonEntry, ...]
    labels: Mapping[tuple[str, str], str]


def _records(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[str, dict[str, str]]]:
    """``(where, fields)`` of each non-blank line; ``where`` is "file, line N"."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        header = tuple(name.strip() for name in next(reader, []))
        if header != columns:
            raise CatalogueFileError(f"{path.name}: the header must be {','.join(columns)}")
        for fields in reader:
            if not any(field.strip() for field in fields):
                continue
            where = f"{path.name}, line {reader.line_num}"
            if len(fields) != len(columns):
                raise CatalogueFileError(f"{where}: {len(columns)} fields expected")
            yield where, dict(zip(columns, (field.strip() for field in fields), strict=True))


def _text(where: str, fields: dict[str, str], name: str, limit: int) -> str:
    value = fields[name]
    if not value or len(value) > limit:
        raise CatalogueFileError(f"{where}: {name} must have 1 to {limit} characters")
    return value


def _reason(where: str, fields: dict[str, str]) -> ReasonEntry:
    code = _text(where, fields, "code", 32)
    if fields["kind"] not in _KINDS:
        raise CatalogueFileError(f"{where}: kind must be one of {', '.join(sorted(_KINDS))}")
    if fields["active"] not in _ACTIVE:
        raise CatalogueFileError(f"{where}: active must be true or false")
    try:
        position = int(fields["position"])
    except ValueError:
        raise CatalogueFileError(f"{where}: position must be a whole number") from None
    hours = _deadline(where, fields["deadline_hours"])
    return ReasonEntry(code, fields["kind"], position, _ACTIVE[fields["active"]], hours)


def _deadline(where: str, value: str) -> int | None:
    """Empty: the global default; else whole hours, 1 to a year."""
    if not value:
        return None
    try:
        hours = int(value)
    except ValueError:
        hours = 0
    if not 1 <= hours <= 8760:
        raise CatalogueFileError(f"{where}: deadline_hours must be empty or 1 to 8760 hours")
    return hours


def load_reason_catalogue(folder: Path = SEED_DIR) -> CatalogueData:
    """Read and check both files of ``folder``; raises :class:`CatalogueFileError`."""
    found: dict[str, ReasonEntry] = {}
    for where, fields in _records(folder / REASONS_FILE, REASON_COLUMNS):
        reason = _reason(where, fields)
        if reason.code in found:
            raise CatalogueFileError(f"{where}: the reason {reason.code} is listed twice")
        found[reason.code] = reason
    labels: dict[tuple[str, str], str] = {}
    for where, fields in _records(folder / LABELS_FILE, LABEL_COLUMNS):
        key = (fields["code"], _text(where, fields, "locale", 8))
        if key[0] not in found:
            raise CatalogueFileError(f"{where}: no reason {key[0]} in {REASONS_FILE}")
        if key in labels:
            raise CatalogueFileError(f"{where}: a second {key[1]} label of {key[0]}")
        labels[key] = _text(where, fields, "label", 200)
    return CatalogueData(tuple(found.values()), labels)


async def _upsert(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    stmt = dialect_insert(conn.dialect.name)(table)
    keys = [column.name for column in table.primary_key.columns]
    changing = {name: stmt.excluded[name] for name in rows[0] if name not in keys}
    await conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changing), rows)


async def sync_reason_catalogue(conn: AsyncConnection, catalogue: CatalogueData) -> int:
    """Bring the tables in line with ``catalogue`` (the caller commits); returns how many
    rows it wrote, 0 when they already were."""
    stored = {
        row.code: (row.kind, row.position, row.active, row.deadline_hours)
        for row in await conn.execute(select(reasons))
    }
    wanted = {r.code: (r.kind, r.position, r.active, r.deadline_hours) for r in catalogue.reasons}
    for code, (kind, position, _active, hours) in stored.items():
        wanted.setdefault(code, (kind, position, False, hours))  # gone from the file: deactivated
    changed = [
        {"code": code, "kind": kind, "position": position, "active": active, "deadline_hours": h}
        for code, (kind, position, active, h) in wanted.items()
        if stored.get(code) != (kind, position, active, h)
    ]
    stored_labels = {
        (row.reason_code, row.locale): row.label
        for row in await conn.execute(select(reason_labels))
    }
    relabelled = [
        {"reason_code": code, "locale": locale, "label": label}
        for (code, locale), label in catalogue.labels.items()
        if stored_labels.get((code, locale)) != label
    ]
    listed = {reason.code for reason in catalogue.reasons}
    dropped = [key for key in stored_labels if key[0] in listed and key not in catalogue.labels]
    if changed:
        await _upsert(conn, reasons, changed)
    if relabelled:
        await _upsert(conn, reason_labels, relabelled)
    if dropped:
        await conn.execute(
            delete(reason_labels).where(
                tuple_(reason_labels.c.reason_code, reason_labels.c.locale).in_(dropped)
            )
        )
    return len(changed) + len(relabelled) + len(dropped)


async def _sync_at(url: str, catalogue: CatalogueData) -> int:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            return await sync_reason_catalogue(conn, catalogue)
    finally:
        await engine.dispose()


def sync_reason_files(url: str, folder: Path = SEED_DIR) -> int:
    """Load ``folder``'s files and sync the database at ``url`` (call outside an event loop,
    as the migrations are)."""
    return asyncio.run(_sync_at(url, load_reason_catalogue(folder)))
