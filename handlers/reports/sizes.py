"""How many people a team has, for rates "per 100 members" and response rates.

Asked of the platform's directory (its members, bots and deactivated accounts left out) within a
budget, since a command must answer within seconds; remembered per team, so the dashboard and
the export use the last size known without asking again.
"""

from __future__ import annotations

import asyncio

from handlers.anonymity import day_of
from handlers.context import Services
from handlers.reports import store

BUDGET_S = 1.2
MAX_MEMBERS = 5000


async def _people(services: Services, platform: str, conversation: str) -> int:
    people = services.people_for(platform)
    members = (await people.members(conversation))[:MAX_MEMBERS]
    infos = await asyncio.gather(*(people.lookup(user) for user in members))
    return sum(1 for info in infos if info and not info.is_bot and not info.deleted)


async def team_size(services: Services, platform: str, workspace: str, conversation: str) -> int | None:
    """The team's size now, or the last size known if the directory is slow or fails."""
    try:
        size = await asyncio.wait_for(_people(services, platform, conversation), BUDGET_S)
    except Exception:
        return await known(services, platform, workspace, conversation)
    day = day_of(services.clock.now())
    await services.store.run(
        lambda tx: store.remember_size(
            tx, platform=platform, workspace=workspace, conversation=conversation, day=day, members=size
        )
    )
    return size


async def known(services: Services, platform: str, workspace: str, conversation: str | None) -> int | None:
    if conversation is None:
        return None
    return await services.store.read(
        lambda db: store.known_size(db, platform=platform, workspace=workspace, conversation=conversation)
    )
