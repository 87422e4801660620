"""Apply the Alembic migrations and sync the reason catalogue from its data files; called at
start (outside any event loop, or from a thread: env.py runs its own loop)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from storage.catalogue import SEED_DIR, sync_reason_files
from storage.database import ensure_sqlite_dir

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    cfg = Config(toml_file=str(ROOT / "pyproject.toml"))
    cfg.set_main_option("script_location", str(ROOT / "storage" / "migrations"))
    # The option is interpolated (configparser): a "%" of a percent-encoded password must be
    # doubled, or Alembic fails with an error quoting the whole URL, password included.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_to_head(url: str, *, seed: Path = SEED_DIR) -> None:
    """Migrate to head, then bring the reason catalogue in line with ``seed``'s files (on
    most starts two small reads and no write)."""
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), "head")
    sync_reason_files(url, seed)
