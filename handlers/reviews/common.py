"""What the review flows share: the content, the delay, who the limits count, the blame check's
memory in a form, the owners' names."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, timedelta

from handlers.anonymity import Delay
from handlers.context import Action, Command, PersonInfo, Services, Submission
from handlers.reviews import store
from handlers.reviews.blame import Finding
from handlers.reviews.content import Content, content_for
from handlers.reviews.forms import MAX_SEEN, FormState
from handlers.reviews.ids import Section
from handlers.reviews.local_time import digest_week
from handlers.reviews.store import ChannelSetting


def content(services: Services) -> Content:
    return content_for(services.settings.data_dir)


def delay(services: Services) -> Delay:
    """Anonymous reviews wait the same random delay as speak-up concerns (CANDOR_SPEAKUP_DELAY)."""
    return services.settings.speakup_delay_s


def person(req: Command | Action | Submission) -> str:
    """Who is counted by the in-memory limits (under an HMAC there, never stored)."""
    return f"{req.platform}:{req.workspace}:{req.user}"


async def setting(services: Services, req: Command | Action | Submission) -> ChannelSetting | None:
    return await services.store.read(
        lambda db: store.channel_setting(db, platform=req.platform, workspace=req.workspace)
    )


def first_digest(now: float, tz: str) -> str:
    """The digest Monday to record when a channel is chosen: the next digest is the first due."""
    monday, due_at = digest_week(now, tz)
    if now >= due_at:
        return monday
    return (date.fromisoformat(monday) - timedelta(days=7)).isoformat()


def seen(state: FormState, findings: Sequence[Finding]) -> tuple[str, ...]:
    """The findings shown so far, newest kept: the form carries them (Slack: 3,000 characters)."""
    return tuple(dict.fromkeys((*state.seen, *(f.key for f in findings))))[-MAX_SEEN:]


def factors_blame(findings: Sequence[Finding]) -> bool:
    return any(f.section == Section.FACTORS for f in findings)


async def owner_names(
    services: Services, req: Command | Submission, actions: Sequence[store.Action]
) -> list[str]:
    """The names of a review's action owners, for the blame check ("Sam forgot")."""
    people = services.people_for(req.platform)
    found = await asyncio.gather(
        *(people.lookup(u) for u in dict.fromkeys(a.owner for a in actions)), return_exceptions=True
    )
    return [p.name for p in found if isinstance(p, PersonInfo)]  # one that did not answer: no name
