"""Whether Microsoft accepts Candor's credentials, for start-up and /healthz.

`serve` asks for a Bot Connector token before it answers anything, as it asks Slack's auth.test:
credentials the token endpoint refuses (a wrong or expired client secret, an unknown app id or
tenant) stop start-up with one line, since nothing could be sent. An endpoint that does not answer
does not: Candor starts, /healthz says "degraded", and the token is asked for again in the
background. After that, every token Candor fetches for its sends (about hourly) updates the state,
so a secret that expires while Candor runs shows as "rejected" (503) at the next renewal.
"""

from __future__ import annotations

import logging

from bot.credential_check import CredentialCheck
from bot.platform import CredentialsRejected
from bot.teams.connector import CandorToken, TokenRefused

log = logging.getLogger("candor.teams")


class TeamsCredentialsRejected(CredentialsRejected):
    """The token endpoint refused MICROSOFT_APP_ID / MICROSOFT_APP_PASSWORD at start-up."""


def failure_code(exc: BaseException) -> str:
    """A short code for one log line: the endpoint's error, or the network's; never a message
    that could carry a URL or what was sent."""
    if isinstance(exc, TokenRefused):
        return exc.code
    return type(exc).__name__


class TokenCheck(CredentialCheck):
    """Candor's connector token asked for at start-up, then again in the background while the
    endpoint does not answer. `state` is the token's (CandorToken.state), or "ok" when Teams runs
    without credentials (the Emulator: there is nothing to check)."""

    log = log
    task_name = "teams-token-check"
    unreachable_at_start = (
        "Microsoft's token endpoint did not answer; starting anyway, asking again in the background"
    )
    answered = "Microsoft's token endpoint answered"
    rejected_later = "Microsoft refused Candor's credentials; nothing can be sent"
    still_unreachable = "Microsoft's token endpoint still does not answer"

    def __init__(self, token: CandorToken | None, retry_s: float) -> None:
        super().__init__(retry_s)
        self.token = token

    @property
    def state(self) -> str:
        return self.token.state if self.token is not None else "ok"

    def rejected(self, code: str) -> TeamsCredentialsRejected:
        return TeamsCredentialsRejected(
            f"Microsoft refused Candor's credentials ({code}); check MICROSOFT_APP_ID, "
            "MICROSOFT_APP_PASSWORD (the client secret's value, not its id; it may have expired) "
            "and MICROSOFT_APP_TENANT_ID"
        )

    async def check_at_start(self) -> None:
        if self.token is not None:
            await super().check_at_start()

    async def _ask(self) -> str:
        """One token request (a cached token counts); returns the failure's code, "" when it worked."""
        assert self.token is not None
        try:
            await self.token.get()
        except Exception as exc:
            return failure_code(exc)
        return ""
