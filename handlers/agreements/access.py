"""Finding the agreement a request names, and who may act on it: only its two parties."""

from __future__ import annotations

import asyncio

from handlers.agreements import store
from handlers.agreements.store import Agreement
from handlers.catalog import AgreementWords
from handlers.context import Action, Command, Services, Submission, timezone_of

MAX_ID_DIGITS = 12


def words(services: Services) -> AgreementWords:
    found = services.catalog.agreements
    if found is None:  # a catalog built without the file: a programming error, not a person's
        raise RuntimeError("the catalog has no agreement words (data/agreements.yml)")
    return found


def parse_ref(value: str) -> tuple[int, int | None] | None:
    """ "12" or "12:3" (agreement, offer) from a button; None for anything else."""
    head, sep, tail = value.strip().partition(":")
    if not head.isdigit() or len(head) > MAX_ID_DIGITS:
        return None
    if not sep:
        return int(head), None
    if not tail.isdigit() or len(tail) > MAX_ID_DIGITS:
        return None
    return int(head), int(tail)


async def find(services: Services, req: Action | Command | Submission, agreement_id: int) -> Agreement | None:
    """The agreement, if the person asking is one of its two parties; to anyone else it does not
    exist (the answer is the same as for a number never used)."""
    found = await services.store.read(
        lambda db: store.agreement(
            db, agreement_id=agreement_id, platform=req.platform, workspace=req.workspace
        )
    )
    return found if found is not None and found.role_of(req.user) is not None else None


async def zones(services: Services, platform: str, *users: str) -> dict[str, str]:
    """Each person's timezone (UTC when the directory is slow or silent), looked up together."""
    found = await asyncio.gather(*(timezone_of(services, platform, user) for user in users))
    return dict(zip(users, found, strict=True))


async def zone_of(services: Services, platform: str, user: str) -> str:
    """The person's timezone, or UTC when the directory is slow or silent."""
    return await timezone_of(services, platform, user)
