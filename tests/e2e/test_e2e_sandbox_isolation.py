"""The sandbox never touches the database DATABASE_URL names (issue 17, item 1).

An operator who forgets BOT_TOKEN on a production host and runs ``python bot.py`` gets the
sandbox; it used to migrate DATABASE_URL's database and write the 15 demo subscribers into the
real registry. Here DATABASE_URL names a real registry (migrated and filled by the product's
own migrations and import); the sandbox starts as a process of ``python bot.py``, seeds, answers
/start and is stopped with SIGTERM; then the registry's folder holds byte for byte what it
held before. ``python bot.py sandbox --database URL`` uses that URL instead of its data
directory's ``bot.db``. The settings the sandbox derives are checked without a process.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from bot.config import Settings
from sandbox.client import SandboxClient
from storage.database import create_engine
from storage.migrate import upgrade_to_head
from storage.subscribers_import import import_subscribers
from tests.e2e.harness import (
    BOT_PY,
    FIN_PROMPT,
    Chat,
    Telegram,
    bot_env,
    free_port,
    has_text,
    read_subscribers,
    shown,
    start_bot_sandbox,
    stop_cleanly,
)

REGISTRY_CSV = """subscriber_code,owner_fin,meterless,debt_azn,service_state,address
200001,,true,0,active,Bakı ş. 1
200002,,true,0,suspended,Bakı ş. 2
200003,,true,3.40,active,Bakı ş. 3
200004,,false,0,active,Bakı ş. 4
200005,7XYZ12A,true,0,active,Bakı ş. 5
"""
REGISTRY_CODES = {f"20000{i}" for i in range(1, 6)}
DEMO_CODES = {str(code) for code in range(100001, 100016)}


async def make_registry(folder: Path) -> Path:
    """A production registry of five subscribers, alone in ``folder``."""
    await asyncio.to_thread(folder.mkdir)
    path = folder / "registry.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade_to_head, url)  # Alembic's env.py runs a loop of its own
    csv = folder.parent / "registry.csv"
    csv.write_text(REGISTRY_CSV, encoding="utf-8")
    engine = create_engine(url)
    try:
        await import_subscribers(engine, csv)
    finally:
        await engine.dispose()
    assert read_subscribers(path).keys() == REGISTRY_CODES
    return path


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of ``folder`` (a -wal or -journal beside the database too) -> its SHA-256."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


async def sandbox_answers_once(tmp: Path, args: list[str], **settings: object) -> list[str]:
    """``python bot.py *args`` without a token: it answers /start, then SIGTERM; its stdout."""
    web_port = free_port()
    env = bot_env(SANDBOX_PORT=web_port, SANDBOX_API_PORT=free_port(), **settings)
    name = "-".join(["bot", *args[:1]])
    proc = await asyncio.to_thread(
        start_bot_sandbox, name, args, web_port=web_port, env=env, cwd=tmp
    )
    try:
        async with SandboxClient(f"http://127.0.0.1:{web_port}") as client:
            chat = Chat(Telegram(client, diagnose=proc.tail), 700200, locale="en")
            await chat.send("/start", has_text(shown(FIN_PROMPT, "en")))
    except BaseException:
        proc.stop()
        raise
    stop_cleanly(proc)
    return proc.stdout().splitlines()


async def test_without_a_token_the_registry_of_database_url_is_untouched(tmp_path: Path) -> None:
    registry = await make_registry(tmp_path / "production")
    before = snapshot(registry.parent)
    data_dir = tmp_path / "box"

    lines = await sandbox_answers_once(
        tmp_path,
        [],
        DATABASE_URL=f"sqlite+aiosqlite:///{registry}",
        REDIS_URL="redis://127.0.0.1:1/0",
        SANDBOX_DATA_DIR=data_dir,
    )

    assert snapshot(registry.parent) == before
    assert f"data in {data_dir} " in lines[0], lines
    assert "DATABASE_URL" in lines[0] and "REDIS_URL" in lines[0], lines
    assert read_subscribers(data_dir / "bot.db").keys() == DEMO_CODES


async def test_sandbox_database_option_chooses_the_database(tmp_path: Path) -> None:
    registry = await make_registry(tmp_path / "production")
    before = snapshot(registry.parent)
    chosen = tmp_path / "chosen" / "demo.db"
    chosen_url = f"sqlite+aiosqlite:///{chosen}"
    data_dir = tmp_path / "box"

    lines = await sandbox_answers_once(
        tmp_path,
        ["sandbox", "--database", chosen_url],
        DATABASE_URL=f"sqlite+aiosqlite:///{registry}",
        SANDBOX_DATA_DIR=data_dir,
    )

    assert snapshot(registry.parent) == before
    assert f"database {chosen_url} (--database)" in lines[0], lines
    assert "DATABASE_URL" in lines[0], lines
    assert read_subscribers(chosen).keys() == DEMO_CODES
    assert not (data_dir / "bot.db").exists()


# --- the settings the entry script derives (no process) ----------------------------------------
def entry_script() -> ModuleType:
    """``bot.py`` itself (``import bot`` is the package of the same name)."""
    spec = importlib.util.spec_from_file_location("bot_entry_script", BOT_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def production(**env: str) -> Settings:
    return Settings(
        _env_file=None,
        DATABASE_URL="postgresql+asyncpg://azersu:s3cret-pw@db.internal/azersu",
        REDIS_URL="redis://:r3dis-pw@cache.internal/0",
        MAIL_DIR="/srv/mail",
        SMTP_HOST="smtp.internal",
        **env,
    )


def test_sandbox_settings_move_every_store_into_the_data_dir(tmp_path: Path) -> None:
    entry = entry_script()
    settings = production(SANDBOX_DATA_DIR=str(tmp_path / "box"))
    box = entry.sandbox_settings(settings, None)
    assert (
        box.database_url.get_secret_value() == f"sqlite+aiosqlite:///{tmp_path / 'box' / 'bot.db'}"
    )
    assert box.redis_url is None and box.fsm_backend == "database"
    assert box.mail_dir == str(tmp_path / "box" / "mail") and box.smtp_host is None
    assert entry.sandbox_settings(production(FSM_STORAGE="memory"), None).fsm_backend == "memory"
    assert Settings(_env_file=None).sandbox_host == "127.0.0.1"
    assert Settings(_env_file=None).sandbox_data_dir == "data/sandbox"


def test_the_sandbox_opens_no_metrics_listener_and_keeps_no_record_of_updates() -> None:
    """Its page is the only listener beside its Bot API; and its Telegram numbers the
    updates from the same id at every start, so a record of them would swallow the first
    ones after a restart."""
    settings = production(METRICS_TOKEN="metrics-token-0123", SEEN_UPDATES_TTL_HOURS="24")
    box = entry_script().sandbox_settings(settings, None)
    assert box.metrics_listener == "none"
    assert box.seen_updates_ttl_hours == 0


def test_the_data_line_hides_the_password_of_a_chosen_database(tmp_path: Path) -> None:
    entry = entry_script()
    url = "postgresql+asyncpg://demo:hunter2-pw@db.example/demo"
    box = entry.sandbox_settings(production(SANDBOX_DATA_DIR=str(tmp_path)), url)
    assert box.database_url.get_secret_value() == url
    line = entry.data_line(box, url)
    assert "hunter2-pw" not in line and "s3cret-pw" not in line
    assert "postgresql+asyncpg://demo:***@db.example/demo (--database)" in line
    assert "DATABASE_URL" in line and "REDIS_URL" in line


def test_a_data_dir_holding_database_url_s_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = entry_script()
    settings = Settings(
        _env_file=None,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        SANDBOX_DATA_DIR=str(tmp_path),
    )
    assert entry.start_sandbox(settings, None) == 2
    assert "SANDBOX_DATA_DIR" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
