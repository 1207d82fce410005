"""Who the bot is in the workspace (auth.test), learnt once and cached.

Bolt's default single-team authorization fails every request while auth.test is unreachable;
Candor answers commands anyway with the configured token and learns its ids on a later request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("candor.slack")
RETRY_S = 30.0


class BotIdentity:
    def __init__(self, client: AsyncWebClient, timeout: float = 2.0) -> None:
        self.client = client
        self.timeout = timeout
        self._known: AuthorizeResult | None = None
        self._retry_at = 0.0  # after a failure, ask again only after RETRY_S

    async def resolve(self, enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        if self._known is not None:
            return self._known
        unknown = AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=self.client.token)
        if time.monotonic() < self._retry_at:
            return unknown
        try:
            auth = await asyncio.wait_for(self.client.auth_test(), self.timeout)
        except Exception as exc:
            self._retry_at = time.monotonic() + RETRY_S
            log.warning(
                "auth.test failed; answering without the bot's ids", extra={"error": type(exc).__name__}
            )
            return unknown
        self._known = AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=auth.get("team_id") or team_id,
            bot_user_id=auth.get("user_id"),
            bot_id=auth.get("bot_id"),
            bot_token=self.client.token,
        )
        return self._known


def authorize_with(client: AsyncWebClient, timeout: float) -> Callable[..., Awaitable[AuthorizeResult]]:
    """A plain function for Bolt, which picks arguments by name (a bound method confuses it)."""
    identity = BotIdentity(client, timeout)

    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return await identity.resolve(enterprise_id, team_id)

    return authorize
