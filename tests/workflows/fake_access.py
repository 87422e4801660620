"""The agents' access log in memory: every look-up, in order."""

from __future__ import annotations

from dataclasses import dataclass, field

from workflows.ports import AgentLookup


@dataclass
class FakeAccessLog:
    lookups: list[AgentLookup] = field(default_factory=list)
    # Set to an exception to make the next records fail (the log's database is down).
    failure: Exception | None = None

    async def record(self, lookup: AgentLookup) -> None:
        if self.failure is not None:
            raise self.failure
        self.lookups.append(lookup)
