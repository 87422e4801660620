"""The agents' commands, named once: the value is the short code their page buttons carry."""

from __future__ import annotations

from enum import StrEnum


class AgentCommand(StrEnum):
    STATUS = "s"
    FIND = "f"
    OPEN = "o"
    STATS = "t"

    @property
    def command(self) -> str:
        """The command as typed, without the slash: ``status``."""
        return self.name.lower()
