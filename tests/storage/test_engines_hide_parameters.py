"""Issue 16, item 8: every engine hides its statements' parameters, so a database error (and
the traceback that may log it) never carries row values: a FIN, a phone, an e-mail.

``storage.database.create_engine`` sets ``hide_parameters``; the source of the bot, the
storage, the sandbox and the benchmark is scanned for any other way to make an engine
(SQLAlchemy's ``create_engine``, ``create_async_engine``, ``engine_from_config``,
``async_engine_from_config``), which must then say ``hide_parameters=True`` itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.database import create_engine

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "dialogs", "storage", "workflows", "sandbox", "bench", "bot.py")
FACTORIES = {"create_engine", "create_async_engine", "engine_from_config"}
FACTORIES |= {"async_engine_from_config"}
# The one call that passes the setting in a dict; checked by behaviour below.
THE_FACTORY = ("storage/database.py", "sqlalchemy.ext.asyncio.create_async_engine")
OURS = "storage.database.create_engine"


def _module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")


def _imports(tree: ast.AST, module: str) -> dict[str, str]:
    """Local name -> the dotted name it was imported as (anywhere in the module)."""
    names: dict[str, str] = {}
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                names[alias.asname or alias.name] = f"{base}.{alias.name}"
    return names


def _dotted(node: ast.expr, imports: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return imports.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value, imports)
        return f"{head}.{node.attr}" if head else None
    return None


def engines_without_hidden_parameters(source: str, path: str) -> list[str]:
    """Calls in ``source`` that make an engine without ``hide_parameters=True``."""
    tree = ast.parse(source)
    imports = _imports(tree, _module_name(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func, imports)
        if name is None or name.rsplit(".", 1)[-1] not in FACTORIES or name == OURS:
            continue
        if (path, name) == THE_FACTORY:
            continue
        hidden = any(
            k.arg == "hide_parameters"
            and isinstance(k.value, ast.Constant)
            and k.value.value is True
            for k in node.keywords
        )
        if not hidden:
            found.append(f"{path}:{node.lineno}: {name}(...)")
    return found


def sources() -> list[Path]:
    files: list[Path] = []
    for entry in SCANNED:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def test_every_engine_of_the_code_hides_its_parameters() -> None:
    files = sources()
    assert len(files) > 100  # the scan sees the code
    found = [
        call
        for file in files
        for call in engines_without_hidden_parameters(
            file.read_text(encoding="utf-8"), file.relative_to(ROOT).as_posix()
        )
    ]
    assert not found, "engines that would log row values:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("from sqlalchemy.ext.asyncio import create_async_engine\ncreate_async_engine(u)", 1),
        ("import sqlalchemy as sa\nsa.create_engine(u, hide_parameters=False)", 1),
        ("import sqlalchemy\nsqlalchemy.create_engine(u, echo=True)", 1),
        ("from sqlalchemy import engine_from_config\nengine_from_config(c, **kw)", 1),
        ("from sqlalchemy.ext import asyncio as a\na.async_engine_from_config(c)", 1),
        ("def f():\n    from sqlalchemy import create_engine\n    return create_engine(u)", 1),
        ("from sqlalchemy import create_engine as ce\nce(u, hide_parameters=True)", 0),
        ("from storage.database import create_engine\ncreate_engine(u)", 0),
        ("from .database import create_engine\ncreate_engine(u)", 0),
        ("from sqlalchemy import create_mock_engine\ncreate_mock_engine(u, e)", 0),
    ],
)
def test_the_scan_finds_an_engine_that_shows_its_parameters(source: str, flagged: int) -> None:
    assert len(engines_without_hidden_parameters(source, "storage/other.py")) == flagged


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///{tmp}/bot.db",
        "postgresql+asyncpg://bot@127.0.0.1:1/bot",  # never connected to
    ],
)
async def test_the_factory_hides_parameters_for_every_database(url: str, tmp_path: Path) -> None:
    engine = create_engine(url.format(tmp=tmp_path))
    try:
        assert engine.sync_engine.hide_parameters
    finally:
        await engine.dispose()


async def test_a_failed_statement_names_no_value() -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as info:
                await conn.execute(
                    text("SELECT * FROM nowhere WHERE fin = :fin"), {"fin": "5ABC12D"}
                )
    finally:
        await engine.dispose()
    assert "5ABC12D" not in str(info.value)
    assert "hidden" in str(info.value)
