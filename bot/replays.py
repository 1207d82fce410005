"""Each button click and form submission is handled once, even if the same request comes again.

Slack gives every interaction its own `trigger_id`. A second request with the same one is a
replay (a proxy retrying, or someone resending a signed request they captured) and is answered
without doing anything. Interactions of a named person are remembered in the `processed` table,
like commands and events, as a hash of the trigger id. Those of an anonymous author are never
written anywhere: they are remembered in memory only, as an HMAC under a random key this process
never stores, and only while the request's signature is still accepted (5 minutes either side of
its timestamp); after that the signature check refuses a replay anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.clock import Clock
from bot.store import Store, claim_once

SIGNATURE_WINDOW_S = 300  # Slack's signature check refuses a timestamp more than 5 minutes off


class ReplayGuard:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._anonymous: dict[bytes, float] = {}  # HMAC of a trigger id -> when it can be forgotten

    async def first_time(self, trigger_id: str, *, anonymous: bool, signed_at: float) -> bool:
        """True the first time this interaction is seen; False for a replay of it."""
        now = self._clock.now()
        if anonymous:
            self.forget_expired()
            mark = hmac.new(self._key, trigger_id.encode(), hashlib.sha256).digest()
            if mark in self._anonymous:
                return False
            # The signature check accepts a replay (same timestamp) until exactly then.
            self._anonymous[mark] = signed_at + SIGNATURE_WINDOW_S
            return True
        key = "interaction:" + hashlib.sha256(trigger_id.encode()).hexdigest()
        return await self._store.run(lambda tx: claim_once(tx, key, now))

    def forget_expired(self) -> None:
        now = self._clock.now()
        for mark, until in list(self._anonymous.items()):
            if until < now:
                del self._anonymous[mark]

    def __len__(self) -> int:
        """How many anonymous interactions are remembered (tests check that they are forgotten)."""
        return len(self._anonymous)
