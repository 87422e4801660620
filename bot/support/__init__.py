"""Support agents: ``/status``, ``/find``, ``/open``, ``/stats`` and their command menus.

The composition root (``bot/app.py``) builds :class:`SupportHandlers` once and includes
``setup(handlers)`` *before* the subscriber dialogs router; it awaits
``register_commands(...)`` once at start.
"""

from __future__ import annotations

from bot.support.access import AgentAccess
from bot.support.handlers import SupportHandlers
from bot.support.handlers import build_router as setup
from bot.support.menu import CommandMenus, register_commands

__all__ = ["AgentAccess", "CommandMenus", "SupportHandlers", "register_commands", "setup"]
