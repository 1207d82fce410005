"""What a practice receives: the parsed request and the services it may use (no platform SDK)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.clock import Clock
from bot.config import Settings
from bot.messages import Message, Values
from bot.store import Store
from handlers.anonymity.limits import Limits
from handlers.catalog import Catalog
from handlers.text import Mentioned

if TYPE_CHECKING:
    from handlers.practice import Registry


@dataclass(frozen=True)
class PersonInfo:
    user: str  # the platform's user id
    name: str
    is_bot: bool = False
    is_platform_admin: bool = False  # Slack workspace admin or owner
    deleted: bool = False
    tz: str | None = None


class People(Protocol):
    """The directory of one platform, as the practices need it."""

    platform: str

    async def lookup(self, user: str) -> PersonInfo | None: ...

    async def bot_is_member(self, conversation: str) -> bool:
        """Whether the bot can post in this channel (it has been invited)."""
        ...

    async def members(self, conversation: str) -> list[str]:
        """User ids of the channel's members (bots included; filter with lookup)."""
        ...

    async def channel_name(self, conversation: str) -> str:
        """How people know the channel, e.g. "#team-alpha"."""
        ...

    async def send_private(self, user: str, message: Message) -> bool:
        """Deliver straight to one person, bypassing the outbox, so nothing durable or logged
        links them to the message (speak-up authors). True if the platform took it."""
        ...


async def lookup_all(people: People, users: Sequence[str]) -> list[PersonInfo | None]:
    """Each user's entry, the lookups running at once. A single one is awaited in place: found in
    the directory's cache it then costs the request no turn of the event loop, where gather makes a
    task of it and resumes the request two loop iterations later (`/kudos` is the busiest path)."""
    if len(users) == 1:
        return [await people.lookup(users[0])]
    return list(await asyncio.gather(*(people.lookup(user) for user in users)))


class Syntax(Protocol):
    """How people write to Candor on one platform, for help texts and error messages: Slack
    has slash commands ("/kudos stats"), Teams plain words to the bot ("kudos stats")."""

    def command(self, name: str, args: str = "") -> str:
        """`command("kudos", "stats")` → "/kudos stats" on Slack."""
        ...

    @property
    def invite_hint(self) -> str:
        """What to do so the bot may post in a channel, e.g. "type /invite @candor there"."""
        ...


@dataclass(frozen=True)
class Command:
    """A slash command, whatever platform it came from."""

    platform: str
    workspace: str
    user: str
    conversation: str
    text: str
    delivery_id: str | None = None  # the platform's id of this delivery, to ignore a retry
    # The people mentioned in `text`, in order, as the adapter read them (Slack's tokens, Teams'
    # <at> tags, the shell's @name words): practices read these, never the text, to find people.
    mentions: tuple[Mentioned, ...] = ()

    def person_key(self, user: str | None = None) -> str:
        """Candor's identity of a person: platform:workspace:user."""
        return f"{self.platform}:{self.workspace}:{user or self.user}"


@dataclass(frozen=True)
class Action:
    """A button pressed on a message Candor posted."""

    platform: str
    workspace: str
    user: str
    conversation: str
    action_id: str
    value: str
    delivery_id: str | None = None


@dataclass(frozen=True)
class Submission:
    """A form filled in and submitted; `values` maps field ids to what was entered."""

    platform: str
    workspace: str
    user: str
    callback: str
    values: Values
    context: str = ""
    # The people the platform marked in each text_with_mentions field, at their places in its text
    # (like `Command.mentions`): a practice reads these, never the text, to find people.
    mentions: Mapping[str, tuple[Mentioned, ...]] = field(default_factory=dict)


async def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Services:
    """What a practice may use. Each platform has its own directory and way of writing commands:
    a request (or a stored row) says which platform it belongs to."""

    store: Store
    clock: Clock
    settings: Settings
    catalog: Catalog
    registry: Registry
    directories: Mapping[str, People]  # platform → its directory
    syntaxes: Mapping[str, Syntax]  # platform → how commands are written (its help texts)
    # Awaited after a practice changes schedules, so the scheduler rebuilds its jobs (it reads the
    # rows, off the event loop on PostgreSQL).
    schedules_changed: Callable[[], Awaitable[None]] = _nothing
    # Abuse limits of the anonymous practices, in memory only (see handlers/anonymity/limits.py).
    anonymity_limits: Limits = field(default_factory=Limits)

    def people_for(self, platform: str) -> People:
        return self.directories[platform]

    def syntax_for(self, platform: str) -> Syntax:
        return self.syntaxes[platform]


async def is_admin(services: Services, platform: str, user: str) -> bool:
    """The one place that decides who is a Candor admin: CANDOR_ADMINS, or a platform admin."""
    if user in services.settings.admins:
        return True
    info = await services.people_for(platform).lookup(user)
    return bool(info and info.is_platform_admin and not info.deleted)


async def is_manager(services: Services, platform: str, user: str) -> bool:
    """Who may take a manager's formal steps (run a pulse, open an escalation case): the people
    CANDOR_MANAGERS names, and admins. A peer cannot open a formal case about a colleague."""
    return user in services.settings.managers or await is_admin(services, platform, user)


TZ_LOOKUP_BUDGET_S = 0.8  # a form must open within the platform's answer window (3 s on Slack); UTC is fine


async def timezone_of(services: Services, platform: str, user: str) -> str:
    """The person's timezone for a form's default, or UTC if the directory is slow or silent."""
    try:
        info = await asyncio.wait_for(services.people_for(platform).lookup(user), TZ_LOOKUP_BUDGET_S)
    except Exception:
        return "UTC"
    return (info.tz if info else None) or "UTC"
