"""What a practice receives: the parsed request and the services it may use (no platform SDK)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.clock import Clock
from bot.config import Settings
from bot.store import Store
from handlers.catalog import Catalog


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

    def parse_mention(self, token: str) -> str | None:
        """The user id a typed mention refers to, or None if the token is not a mention."""
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

    def person_key(self, user: str | None = None) -> str:
        """Candor's identity of a person: platform:workspace:user."""
        return f"{self.platform}:{self.workspace}:{user or self.user}"


@dataclass(frozen=True)
class Services:
    store: Store
    people: People
    clock: Clock
    settings: Settings
    catalog: Catalog


async def is_admin(services: Services, user: str) -> bool:
    """The one place that decides who is a Candor admin: CANDOR_ADMINS, or a platform admin."""
    if user in services.settings.admins:
        return True
    info = await services.people.lookup(user)
    return bool(info and info.is_platform_admin and not info.deleted)
