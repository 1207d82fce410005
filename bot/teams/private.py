"""Answers only their asker may read, kept in memory until the asker opens them in a dialog.

Teams has no ephemeral messages: an answer posted in a channel is read by everyone there, and one
posted in a personal chat stays in its history (and in the organisation's compliance exports).
So instead of such an answer (`Reply.private`: someone's notes, evidence, agreements, a case
record), the conversation gets a card whose button carries a random token; pressing it shows the
answer that was computed when it was asked, in a dialog only the presser sees, and only if the
presser asked. The command is not run again: some private answers come from commands that change
things (moving an escalation case).

The answers live in this process's memory only (never a table, an outbox row or a log line), for
`TTL_S`, at most `MAX_KEPT` of them; after a restart, or on another Candor process, the button says
to ask again.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass

from bot.clock import Clock
from bot.messages import Message

TTL_S = 15 * 60.0
MAX_KEPT = 1_000


@dataclass(frozen=True)
class Kept:
    user: str
    message: Message
    until: float


class PrivateAnswers:
    def __init__(self, clock: Clock, ttl_s: float = TTL_S, max_kept: int = MAX_KEPT) -> None:
        self.clock = clock
        self.ttl_s = ttl_s
        self.max_kept = max_kept
        self._kept: OrderedDict[str, Kept] = OrderedDict()

    def keep(self, user: str, message: Message) -> str:
        """Keep `message` for `user`; the token their button carries."""
        now = self.clock.now()
        self._forget_expired(now)
        token = secrets.token_urlsafe(18)
        self._kept[token] = Kept(user, message, now + self.ttl_s)
        while len(self._kept) > self.max_kept:
            self._kept.popitem(last=False)
        return token

    def for_user(self, token: str, user: str) -> Message | None:
        """The answer kept under `token`, if `user` asked for it and it has not expired."""
        kept = self._kept.get(token)
        if kept is None or kept.until <= self.clock.now() or kept.user != user:
            return None
        return kept.message

    def exists(self, token: str) -> bool:
        kept = self._kept.get(token)
        return kept is not None and kept.until > self.clock.now()

    def __len__(self) -> int:
        return len(self._kept)

    def _forget_expired(self, now: float) -> None:
        while self._kept:
            token, kept = next(iter(self._kept.items()))
            if kept.until > now:
                break
            del self._kept[token]
