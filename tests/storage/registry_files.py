"""Registry files and databases shared by the import tests and the command-line tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine
from storage.models import Base, SubscriberRow
from storage.subscribers_import import HEADER

DEMO = Path(__file__).resolve().parents[2] / "storage" / "seed" / "demo_subscribers.csv"
DEMO_ROWS = 15
HEADER_LINE = ",".join(HEADER)

Snapshot = list[tuple[Any, ...]]


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"


async def fresh_engine(url: str) -> AsyncEngine:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    return engine


def write_csv(tmp_path: Path, *lines: str, name: str = "registry.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    content = "\n".join(lines) + "\n"
    path.write_bytes(("\ufeff" if bom else "").encode() + content.encode("utf-8"))
    return path


async def snapshot(engine: AsyncEngine) -> Snapshot:
    table = SubscriberRow.__table__
    async with engine.connect() as conn:
        rows = await conn.execute(select(table).order_by(table.c.code))
        return [tuple(row) for row in rows]
