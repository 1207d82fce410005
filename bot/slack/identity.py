"""Who the bot is in the workspace (auth.test): checked when `serve` starts, then known.

A token Slack rejects stops start-up (SlackTokenRejected), since every post would fail. An
unreachable Slack does not: Candor starts, /healthz says "degraded", and auth.test is asked again
in the background. Meanwhile commands are answered with the configured token (Bolt's default
single-team authorization would fail every request while auth.test is unreachable).
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Awaitable, Callable
from weakref import WeakKeyDictionary

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.credential_check import CredentialCheck
from bot.platform import CredentialsRejected

log = logging.getLogger("candor.slack")
# Slack's answers that say "not now" rather than "not this token".
TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}


class SlackTokenRejected(CredentialsRejected):
    """Slack answered auth.test with an error about the token (invalid_auth, token_revoked, …)."""


def failure_code(exc: BaseException) -> str:
    """A short code for a failed Web API call, for one log line: Slack's error, or the network's.

    Never the exception's text, which can name a conversation or carry a URL.
    """
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"http_{exc.response.status_code}")
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, OSError) and exc.errno is not None and exc.errno in errno.errorcode:
        return errno.errorcode[exc.errno]  # ECONNREFUSED, ENETUNREACH, …
    return type(exc).__name__


def is_rejection(exc: BaseException) -> bool:
    """Slack answered, and the answer is about the token, not a passing trouble."""
    return (
        isinstance(exc, SlackApiError)
        and exc.response.status_code == 200
        and failure_code(exc) not in TRANSIENT
    )


class BotIdentity(CredentialCheck):
    """The bot's ids from auth.test, and whether Slack accepted the token: ok, checking,
    unreachable or rejected (what /healthz shows)."""

    log = log
    task_name = "slack-auth-test"
    unreachable_at_start = (
        "Slack did not answer auth.test; starting anyway and asking again in the background"
    )
    answered = "Slack answered auth.test"
    rejected_later = "Slack rejected SLACK_BOT_TOKEN; nothing can be posted"
    still_unreachable = "Slack still does not answer auth.test"

    def __init__(self, client: AsyncWebClient, timeout: float = 10.0, retry_s: float = 5.0) -> None:
        super().__init__(retry_s)
        self.client = client
        self.timeout = timeout
        self._state = "checking"
        self._known: AuthorizeResult | None = None

    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        self._state = value

    def rejected(self, code: str) -> SlackTokenRejected:
        return SlackTokenRejected(
            f"Slack rejected SLACK_BOT_TOKEN ({code}); copy the Bot User OAuth Token "
            "from the app's Install App page"
        )

    async def _ask(self) -> str:
        """One auth.test; sets `state` and returns the failure's code ("" when it worked)."""
        try:
            auth = await asyncio.wait_for(self.client.auth_test(), self.timeout)
        except Exception as exc:  # a network failure in any form is "unreachable", in one line
            self.state = "rejected" if is_rejection(exc) else "unreachable"
            return failure_code(exc)
        self._known = AuthorizeResult(
            enterprise_id=auth.get("enterprise_id"),
            team_id=auth.get("team_id"),
            bot_user_id=auth.get("user_id"),
            bot_id=auth.get("bot_id"),
            bot_token=self.client.token,
        )
        self.state = "ok"
        return ""

    def resolve(self, enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        if self._known is not None:
            return self._known
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=self.client.token)


# One identity per Web API client, shared by the start-up check and Bolt's authorize; whoever
# asks first (the server's lifecycle) sets its timeouts.
_IDENTITIES: WeakKeyDictionary[AsyncWebClient, BotIdentity] = WeakKeyDictionary()


def identity_for(client: AsyncWebClient, timeout: float = 10.0, retry_s: float = 5.0) -> BotIdentity:
    if client not in _IDENTITIES:
        _IDENTITIES[client] = BotIdentity(client, timeout, retry_s)
    return _IDENTITIES[client]


def authorize_with(client: AsyncWebClient, timeout: float) -> Callable[..., Awaitable[AuthorizeResult]]:
    """A plain function for Bolt, which picks arguments by name (a bound method confuses it)."""
    identity = identity_for(client, timeout)

    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return identity.resolve(enterprise_id, team_id)

    return authorize
