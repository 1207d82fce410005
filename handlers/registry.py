"""The slash commands Candor answers, in one table every adapter (Slack, shell, …) reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.messages import Reply
from handlers import kudos
from handlers.context import Command, Services

Practice = Callable[[Command, Services], Awaitable[Reply]]

COMMANDS: dict[str, Practice] = {
    "/kudos": kudos.handle,
}
