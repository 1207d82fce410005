"""Whether a platform accepts Candor's credentials: asked once when `serve` starts, then again in
the background while the platform does not answer.

Credentials the platform refuses stop start-up with one line (nothing could be sent). A platform
that does not answer does not: Candor starts, /healthz says "degraded", and each platform's check
asks again with a doubling wait, logging one line per change of answer, not one per attempt.
Slack's auth.test (bot/slack/identity.py) and Teams' connector token (bot/teams/credentials.py)
differ only in how they ask and what they say.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod

from bot.platform import CredentialsRejected

MAX_RETRY_S = 60.0


class CredentialCheck(ABC):
    """`state` is ok, checking, unreachable or rejected (what /healthz shows)."""

    log: logging.Logger
    task_name: str
    unreachable_at_start: str  # the warning when the platform does not answer at start-up
    answered: str
    rejected_later: str
    still_unreachable: str

    def __init__(self, retry_s: float) -> None:
        self.retry_s = retry_s
        self._retrying: asyncio.Task[None] | None = None

    @property
    @abstractmethod
    def state(self) -> str: ...

    @abstractmethod
    async def _ask(self) -> str:
        """Ask once; the failure's short code, "" when it worked."""

    @abstractmethod
    def rejected(self, code: str) -> CredentialsRejected:
        """The one-line start-up error for refused credentials."""

    async def check_at_start(self) -> None:
        """Ask once; raise the platform's CredentialsRejected, or keep asking if unreachable."""
        code = await self._ask()
        if self.state == "rejected":
            raise self.rejected(code)
        if self.state == "unreachable":
            self.log.warning(self.unreachable_at_start, extra={"error": code})
            self._retrying = asyncio.create_task(self._keep_asking(code), name=self.task_name)

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
                self.log.info(self.answered)
            elif self.state == "rejected":
                self.log.error(self.rejected_later, extra={"error": code})
            elif code != last_code:  # one line per change, not one per attempt
                self.log.warning(self.still_unreachable, extra={"error": code})
            last_code = code
