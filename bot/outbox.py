"""The durable outgoing queue and its dispatcher.

A handler writes its posts here in the same transaction as its own rows; the dispatcher delivers
them later with per-conversation pacing, honours rate limits, retries transient errors with
back-off, and marks a row sent only once the platform said ok. A row is never dropped silently:
it ends `sent` or `failed` with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from sqlite_utils import Database

from bot.clock import Clock
from bot.messages import Message, decode, encode
from bot.store import Store

log = logging.getLogger("candor.outbox")

MAX_ATTEMPTS = 8
MAX_BACKOFF_S = 300.0
BATCH = 2000


@dataclass(frozen=True)
class OutboxItem:
    id: int
    platform: str
    conversation: str
    thread: str | None
    message: Message
    reply_to: int | None = None


@dataclass(frozen=True)
class SendOutcome:
    kind: Literal["sent", "rate_limited", "transient", "permanent"]
    ref: str | None = None
    error: str | None = None
    retry_after: float = 0.0


class Sender(Protocol):
    async def send(self, item: OutboxItem) -> SendOutcome: ...


def enqueue(
    db: Database,
    *,
    platform: str,
    conversation: str,
    message: Message,
    now: float,
    thread: str | None = None,
    reply_to: int | None = None,
    not_before: float | None = None,
) -> int:
    """Queue a post; call inside the transaction that writes the domain change.

    `reply_to` names an earlier outbox row: the post goes in that message's thread once sent.
    """
    return (
        db["outbox"]
        .insert(
            {
                "platform": platform,
                "conversation": conversation,
                "thread": thread,
                "payload": json.dumps(encode(message), ensure_ascii=False),
                "status": "pending",
                "attempts": 0,
                "not_before": now if not_before is None else not_before,
                "created_at": now,
            }
        )
        .last_pk
    )


def backoff(attempts: int) -> float:
    return min(MAX_BACKOFF_S, 2.0 ** max(0, attempts - 1))


class Dispatcher:
    def __init__(
        self,
        store: Store,
        senders: dict[str, Sender],
        clock: Clock,
        *,
        min_interval: float = 1.0,
        concurrency: int = 16,
        idle_poll: float = 1.0,
    ) -> None:
        self.store = store
        self.senders = senders
        self.clock = clock
        self.min_interval = min_interval
        self.idle_poll = idle_poll
        self._slots = asyncio.Semaphore(concurrency)
        self._next_ok: dict[tuple[str, str], float] = {}
        self._paused_until: dict[str, float] = {}
        self._wake = asyncio.Event()
        store.on_commit(self.wake)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver forever; sleeps until woken by a commit or the next row comes due."""
        while True:
            self._wake.clear()
            try:
                delivered = await self.deliver_due()
            except Exception:
                log.exception("outbox pass failed; retrying")
                delivered = 0
            if delivered:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._idle_wait())

    def _idle_wait(self) -> float:
        row = self.store.db.execute("select min(not_before) from outbox where status = 'pending'").fetchone()
        if row[0] is None:
            return self.idle_poll
        return max(0.01, min(self.idle_poll, row[0] - self.clock.now()))

    async def drain(self) -> None:
        """Deliver until nothing is due now (the shell and tests use it)."""
        while await self.deliver_due():
            pass

    async def deliver_due(self) -> int:
        rows = self.store.db.execute(
            "select id, platform, conversation, thread, payload, reply_to from outbox "
            "where status = 'pending' and not_before <= ? order by id limit ?",
            [self.clock.now(), BATCH],
        ).fetchall()
        groups: dict[tuple[str, str], list[OutboxItem]] = defaultdict(list)
        for id_, platform, conversation, thread, payload, reply_to in rows:
            item = OutboxItem(id_, platform, conversation, thread, decode(json.loads(payload)), reply_to)
            groups[(platform, conversation)].append(item)
        await asyncio.gather(*(self._deliver_conversation(key, items) for key, items in groups.items()))
        return len(rows)

    async def _deliver_conversation(self, key: tuple[str, str], items: list[OutboxItem]) -> None:
        async with self._slots:
            for item in items:
                if not await self._deliver_one(key, item):
                    return  # keep a conversation's posts in order: the rest wait for this one

    async def _wait_turn(self, key: tuple[str, str]) -> None:
        while True:
            ready_at = max(self._next_ok.get(key, 0.0), self._paused_until.get(key[0], 0.0))
            delay = ready_at - self.clock.now()
            if delay <= 0:
                return
            await self.clock.sleep(delay)

    async def _deliver_one(self, key: tuple[str, str], item: OutboxItem) -> bool:
        sender = self.senders.get(item.platform)
        if sender is None:
            self._fail(item.id, f"no sender for platform {item.platform!r}")
            return True
        if item.reply_to is not None:
            parent = self.store.db.execute(
                "select status, sent_ref from outbox where id = ?", [item.reply_to]
            ).fetchone()
            if parent and parent[0] == "pending":  # wait for it; later posts here wait too
                self._defer(item.id, 1.0)
                return False
            if not (parent and parent[0] == "sent" and parent[1]):
                self._fail(item.id, "the message it replies to was not delivered")
                return True
            item = replace(item, thread=parent[1])
        while True:
            await self._wait_turn(key)
            try:
                outcome = await sender.send(item)
            except Exception as exc:  # a bug in a sender must not stop the queue
                log.exception("outbox sender raised", extra={"outbox_id": item.id})
                outcome = SendOutcome("transient", error=type(exc).__name__)
            now = self.clock.now()
            if outcome.kind == "rate_limited":
                self._paused_until[item.platform] = now + max(outcome.retry_after, 1.0)
                log.warning(
                    "rate limited; pausing sends",
                    extra={"platform": item.platform, "retry_after": outcome.retry_after},
                )
                continue
            self._next_ok[key] = now + self.min_interval
            if outcome.kind == "sent":
                self.store.db.execute(
                    "update outbox set status = 'sent', sent_at = ?, sent_ref = ?, "
                    "attempts = attempts + 1 where id = ?",
                    [now, outcome.ref, item.id],
                )
                self.store.db.conn.commit()
                return True
            if outcome.kind == "permanent":
                self._fail(item.id, outcome.error or "permanent error")
                return True
            return self._retry_later(item.id, outcome.error or "transient error", now)

    def _defer(self, outbox_id: int, seconds: float) -> None:
        self.store.db.execute(
            "update outbox set not_before = ? where id = ?", [self.clock.now() + seconds, outbox_id]
        )
        self.store.db.conn.commit()

    def _retry_later(self, outbox_id: int, reason: str, now: float) -> bool:
        (attempts,) = self.store.db.execute(
            "select attempts + 1 from outbox where id = ?", [outbox_id]
        ).fetchone()
        if attempts >= MAX_ATTEMPTS:
            self._fail(outbox_id, f"gave up after {attempts} attempts: {reason}")
            return True
        self.store.db.execute(
            "update outbox set attempts = ?, not_before = ?, last_error = ? where id = ?",
            [attempts, now + backoff(attempts), reason, outbox_id],
        )
        self.store.db.conn.commit()
        log.warning("send failed; will retry", extra={"outbox_id": outbox_id, "error": reason})
        return False

    def _fail(self, outbox_id: int, reason: str) -> None:
        self.store.db.execute(
            "update outbox set status = 'failed', last_error = ?, attempts = attempts + 1 where id = ?",
            [reason, outbox_id],
        )
        self.store.db.conn.commit()
        log.error("message could not be delivered", extra={"outbox_id": outbox_id, "error": reason})
