"""The seam between the runtime and one chat platform (Slack, Teams): what an adapter gives the
server, and what the server gives it back.

An adapter package exposes one entry point, `mount(app, settings, clock) -> Adapter`, that adds
its routes to the one aiohttp app. The server knows no platform: it opens each adapter (its
clients, its credentials checked), builds the services with each adapter's people directory and
command syntax, hands the outbox each adapter's sender, and then lets the adapters serve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from bot.clock import Clock
from bot.config import Settings
from bot.outbox import Sender
from bot.replays import ReplayGuard
from bot.store import Store
from handlers.context import People, Services, Syntax


class CredentialsRejected(Exception):
    """The platform refused Candor's credentials at start-up: nothing could be posted. The message
    is one line that says which setting to fix."""


@dataclass(frozen=True)
class Connected:
    """What an opened adapter hands the runtime."""

    people: People
    sender: Sender


@dataclass(frozen=True)
class Health:
    """One platform's part of /healthz: its state, and whether it makes the whole service
    unavailable (a rejected credential: nothing can be posted) or only degraded."""

    state: str  # ok | checking | unreachable | rejected
    unavailable: bool = False


class Adapter(Protocol):
    platform: str  # "slack", "teams": the name rows and requests carry
    syntax: Syntax

    async def open(self, store: Store) -> Connected:
        """Create clients and check credentials; raise to stop start-up (a rejected token). The
        store is for what an adapter keeps itself (Teams: its conversation references)."""
        ...

    def serve(self, services: Services, replays: ReplayGuard) -> None:
        """From now on, hand requests to the practices."""
        ...

    def health(self) -> Health: ...

    async def close(self) -> None: ...


Mount = Callable[[web.Application, Settings, Clock], Adapter]
