"""Finding the cycle a request is about, and whether it takes nominations or votes now."""

from __future__ import annotations

from handlers.context import Action, Command, Services, Submission
from handlers.nominations import store
from handlers.nominations.ids import Phase
from handlers.nominations.store import Cycle


async def named(services: Services, req: Action | Submission, raw: str) -> Cycle | None:
    """The cycle a button or form names, only in the workspace it came from."""
    if not raw.isdigit() or len(raw) > 12:
        return None
    return await services.store.read(
        lambda db: store.cycle(db, cycle_id=int(raw), platform=req.platform, workspace=req.workspace)
    )


async def running_here(services: Services, cmd: Command) -> list[Cycle]:
    return await services.store.read(
        lambda db: store.running(
            db, platform=cmd.platform, workspace=cmd.workspace, conversation=cmd.conversation
        )
    )


def taking_nominations(cycle: Cycle, now: float) -> bool:
    return cycle.phase == Phase.OPEN and cycle.closes_at > now


def taking_votes(cycle: Cycle, now: float) -> bool:
    return cycle.phase == Phase.VOTING and (cycle.voting_closes_at or 0) > now
