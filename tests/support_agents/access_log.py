"""The agents' access log as the tests read it: (agent id, command, query, time) rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage.models import AgentAccessRow
from tests.support_agents.agents import World


async def access_rows(world: World) -> list[tuple[int, str, str, datetime]]:
    table = AgentAccessRow.__table__
    async with world.engine.connect() as conn:
        rows = await conn.execute(select(table).order_by(table.c.id))
        return [(r.agent_id, r.command, r.query, r.at) for r in rows]
