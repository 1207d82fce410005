"""Whether Microsoft accepts Candor's credentials, for start-up and /healthz.

`serve` asks for a Bot Connector token before it answers anything, as it asks Slack's auth.test:
credentials the token endpoint refuses (a wrong or expired client secret, an unknown app id or
tenant) stop start-up with one line, since nothing could be sent. An endpoint that does not answer
does not: Candor starts, /healthz says "degraded", and the token is asked for again in the
background. After that, every token Candor fetches for its sends (about hourly) updates the state,
so a secret that expires while Candor runs shows as "rejected" (503) at the next renewal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.platform import CredentialsRejected
from bot.teams.connector import CandorToken, TokenRefused

log = logging.getLogger("candor.teams")

MAX_RETRY_S = 60.0


class TeamsCredentialsRejected(CredentialsRejected):
    """The token endpoint refused MICROSOFT_APP_ID / MICROSOFT_APP_PASSWORD at start-up."""


def failure_code(exc: BaseException) -> str:
    """A short code for one log line: the endpoint's error, or the network's; never a message
    that could carry a URL or what was sent."""
    if isinstance(exc, TokenRefused):
        return exc.code
    return type(exc).__name__


class TokenCheck:
    """Candor's connector token asked for at start-up, then again in the background while the
    endpoint does not answer. `state` is the token's (CandorToken.state), or "ok" when Teams runs
    without credentials (the Emulator: there is nothing to check)."""

    def __init__(self, token: CandorToken | None, retry_s: float) -> None:
        self.token = token
        self.retry_s = retry_s
        self._retrying: asyncio.Task[None] | None = None

    @property
    def state(self) -> str:
        return self.token.state if self.token is not None else "ok"

    async def check_at_start(self) -> None:
        if self.token is None:
            return
        code = await self._ask()
        if self.state == "rejected":
            raise TeamsCredentialsRejected(
                f"Microsoft refused Candor's credentials ({code}); check MICROSOFT_APP_ID, "
                "MICROSOFT_APP_PASSWORD (the client secret's value, not its id; it may have expired) "
                "and MICROSOFT_APP_TENANT_ID"
            )
        if self.state == "unreachable":
            log.warning(
                "Microsoft's token endpoint did not answer; starting anyway, asking again in the background",
                extra={"error": code},
            )
            self._retrying = asyncio.create_task(self._keep_asking(code), name="teams-token-check")

    async def stop(self) -> None:
        if self._retrying is not None:
            self._retrying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retrying
            self._retrying = None

    async def _keep_asking(self, last_code: str) -> None:
        wait = self.retry_s
        while self.state == "unreachable":
            await asyncio.sleep(wait)
            wait = min(wait * 2, MAX_RETRY_S)
            code = await self._ask()
            if self.state == "ok":
                log.info("Microsoft's token endpoint answered")
            elif self.state == "rejected":
                log.error(
                    "Microsoft refused Candor's credentials; nothing can be sent", extra={"error": code}
                )
            elif code != last_code:  # one line per change, not one per attempt
                log.warning("Microsoft's token endpoint still does not answer", extra={"error": code})
            last_code = code

    async def _ask(self) -> str:
        """One token request (a cached token counts); returns the failure's code, "" when it worked."""
        assert self.token is not None
        try:
            await self.token.get()
        except Exception as exc:
            return failure_code(exc)
        return ""
