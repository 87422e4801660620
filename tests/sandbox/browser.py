"""Headless Chromium for the sandbox's page tests, and a local web server to point it at.

Skips the test when Playwright or a Chromium to launch is missing (set
``PLAYWRIGHT_CHROMIUM_EXECUTABLE`` or install Debian's ``chromium``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.support import GENEROUS_S

PLAYWRIGHT_DEFAULT_MS = 5_000


def chromium_path() -> str | None:
    return os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE") or shutil.which("chromium")


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A launched headless Chromium (a Playwright ``Browser``), closed after the block."""
    playwright_api = pytest.importorskip("playwright.async_api")
    # A page on a loaded machine is slow: expect() waits generously, then its default again.
    playwright_api.expect.set_options(timeout=GENEROUS_S * 1000)
    async with playwright_api.async_playwright() as pw:
        try:
            browser = await pw.chromium.launch(
                executable_path=chromium_path(), args=["--no-sandbox"]
            )
        except Exception as exc:  # no browser on this machine
            pytest.skip(f"no Chromium for Playwright: {exc}")
        try:
            yield browser
        finally:
            await browser.close()
            playwright_api.expect.set_options(timeout=PLAYWRIGHT_DEFAULT_MS)


@contextlib.asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """``app`` on a free port of 127.0.0.1 for the block; its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
