"""Who the bot is in the workspace (auth.test), learnt once and cached.

Bolt's default single-team authorization fails every request while auth.test is unreachable;
Candor answers commands anyway with the configured token and learns its ids on a later request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("candor.slack")


class BotIdentity:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._known: AuthorizeResult | None = None

    async def resolve(self, enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        if self._known is not None:
            return self._known
        try:
            auth = await self.client.auth_test()
        except Exception as exc:
            log.warning("auth.test failed; answering without the bot's ids", extra={"error": str(exc)[:200]})
            return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=self.client.token)
        self._known = AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=auth.get("team_id") or team_id,
            bot_user_id=auth.get("user_id"),
            bot_id=auth.get("bot_id"),
            bot_token=self.client.token,
        )
        return self._known


def authorize_with(client: AsyncWebClient) -> Callable[..., Awaitable[AuthorizeResult]]:
    """A plain function for Bolt, which picks arguments by name (a bound method confuses it)."""
    identity = BotIdentity(client)

    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return await identity.resolve(enterprise_id, team_id)

    return authorize
