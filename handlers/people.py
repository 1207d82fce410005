"""Whether a person named in a request can be its other side: someone else, real, not a bot.

Agreements, escalation cases and coaching notes are each about one other person; each practice
says a refusal in its own words (`refusal(..., words)`), the check is the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

from handlers.context import Services


class Who(StrEnum):
    """Why a person cannot be named in a request."""

    NOBODY = "nobody"  # no one chosen
    YOURSELF = "yourself"
    UNKNOWN = "unknown"  # not in the directory, deactivated, or not a user id at all
    BOT = "bot"


_USER_ID = re.compile(r"^\S{1,64}$")


async def check_person(services: Services, platform: str, asker: str, person: str) -> Who | None:
    """None if `person` is someone else, a real person in the platform's directory."""
    if not person:
        return Who.NOBODY
    if person == asker:
        return Who.YOURSELF
    if not _USER_ID.match(person):
        return Who.UNKNOWN
    info = await services.people_for(platform).lookup(person)
    if info is None or info.deleted:
        return Who.UNKNOWN
    return Who.BOT if info.is_bot else None


async def refusal(
    services: Services, platform: str, asker: str, person: str, words: Mapping[Who, str]
) -> str | None:
    """The practice's words for why `person` cannot be named, or None when they can."""
    found = await check_person(services, platform, asker, person)
    return None if found is None else words[found]
