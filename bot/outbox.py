"""The durable outgoing queue and its dispatcher.

A handler writes its posts here in the same transaction as its own rows; the dispatcher delivers
them later. Each conversation gets one worker at a time, so posts to a conversation go out in
order and at most one per `min_interval`, while other conversations proceed in parallel. Rate
limits pause the platform for Retry-After; transient errors are retried with capped, jittered
back-off for up to `RETRY_WINDOW_S`; a row is marked sent only once the platform said ok. A row is
never dropped silently: it ends `sent` or `failed` with the reason.

Pacing and pauses are waits in memory, measured on the monotonic clock, so a step of the wall
clock neither freezes a conversation nor lets it run early. The instants stored in rows
(`not_before`, `sent_at`) stay wall-clock times.

If the database refuses a write (disk full, read-only file, a lock held too long), what the
dispatcher meant to record (above all "this row was sent") is kept in memory, in order, and the
dispatcher takes no new work until the database accepts those writes: sending again a row whose
send could not be recorded is how a post gets repeated. That is logged once when it starts and once
when it ends. Only a restart in that state (the memory lost) can post such a row a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import sqlite3
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from sqlite_utils import Database

from bot.clock import Clock
from bot.messages import Message, decode, encode
from bot.store import Store

log = logging.getLogger("candor.outbox")

MAX_BACKOFF_S = 60.0  # once the platform answers again, a conversation moves within a minute
RETRY_WINDOW_S = 6 * 3600.0  # a platform outage shorter than this loses nothing
FORGET_EVERY_S = 60.0  # how often pacing instants that have passed are forgotten
BATCH = 100  # workers one pass may start: their first steps share one loop iteration
# Conversations worked on at once. More would only wait for a send slot, each holding its rows in
# memory: after a fan-out to 5,000 channels every full garbage collection walked them all (60 ms).
MAX_WORKERS = 256
SHUTDOWN_GRACE_S = 10.0

Key = tuple[str, str]  # (platform, conversation)


@dataclass(frozen=True)
class Channel:
    """A conversation many people read: a Slack or Teams channel, a group chat."""

    id: str  # the platform's id of the conversation


@dataclass(frozen=True)
class Person:
    """One person, reached privately the way their platform does it (Slack: a DM opened by user id;
    Teams: the personal conversation whose reference the adapter stored)."""

    id: str  # the platform's user id


Recipient = Channel | Person
_KINDS: dict[str, type[Channel] | type[Person]] = {"channel": Channel, "person": Person}


def recipient_kind(to: Recipient) -> str:
    return "person" if isinstance(to, Person) else "channel"


@dataclass(frozen=True)
class OutboxItem:
    id: int
    platform: str
    to: Recipient
    thread: str | None
    message: Message
    reply_to: int | None = None
    replaces: int | None = None  # the outbox row whose sent message this one edits
    update_ref: str | None = None  # set at send time: the platform's id of the message to edit

    @property
    def conversation(self) -> str:
        """The id the queue is keyed and paced by: the channel's, or the person's."""
        return self.to.id


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
    to: Recipient,
    message: Message,
    now: float,
    thread: str | None = None,
    reply_to: int | None = None,
    replaces: int | None = None,
    not_before: float | None = None,
    created_at: float | None = None,
) -> int:
    """Queue a post to a channel or a person; call inside the transaction that writes the domain
    change. Returns the outbox row's id.

    `reply_to` names an earlier outbox row: the post goes in that message's thread once sent.
    `replaces` names an earlier row whose message this one edits in place once it was sent.
    """
    row = {
        "platform": platform,
        "conversation": to.id,
        "recipient": recipient_kind(to),
        "thread": thread,
        "reply_to": reply_to,
        "replaces": replaces,
        "payload": json.dumps(encode(message), ensure_ascii=False),
        "status": "pending",
        "attempts": 0,
        "not_before": now if not_before is None else not_before,
        "created_at": now if created_at is None else created_at,
    }
    return int(db.table("outbox").insert(row).last_pk or 0)


def edit(db: Database, *, original: int, message: Message, now: float) -> None:
    """Change what an earlier outbox row says: in place while it waits, else by editing the sent
    message (a new row to the same recipient)."""
    payload = json.dumps(encode(message), ensure_ascii=False)
    waiting = db.execute(
        "update outbox set payload = ? where id = ? and status = 'pending'", [payload, original]
    ).rowcount
    if waiting:
        return
    found = db.execute(
        "select platform, conversation, recipient from outbox where id = ?", [original]
    ).fetchone()
    if found is None:  # pruned long ago: nothing left to edit
        return
    platform, conversation, kind = found
    enqueue(db, platform=platform, to=_KINDS[kind](conversation), message=message, now=now, replaces=original)


def backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` failures: doubling from 1 s, capped at
    MAX_BACKOFF_S, and 50-100 % of that at random so conversations that failed together do not
    retry together."""
    return min(MAX_BACKOFF_S, 2.0 ** max(0, attempts - 1)) * random.uniform(0.5, 1.0)


class StoreRefused(Exception):
    """The database refused a dispatcher write; the write is kept to be replayed."""


# Conversations with something due, except those where a row failed and is backing off: posts
# in one conversation keep their order. Each gets a worker that reads its own rows.
_DUE_CONVERSATIONS = """
select platform, conversation from outbox o
where status = 'pending' and not_before <= :now
  and not exists (
    select 1 from outbox p indexed by idx_outbox_backing_off
    where p.platform = o.platform and p.conversation = o.conversation and p.status = 'pending'
      and p.attempts > 0 and p.not_before > :now
  )
group by platform, conversation limit :limit
"""
_DUE_IN_CONVERSATION = """
select id, platform, conversation, recipient, thread, payload, reply_to, replaces
from outbox indexed by idx_outbox_platform_conversation_status_id
where platform = :platform and conversation = :conversation and status = 'pending' and not_before <= :now
order by id limit :limit
"""
PASS_INTERVAL_S = 0.05  # at most this often a full pass; a burst of commits shares one


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
        max_workers: int = MAX_WORKERS,
    ) -> None:
        self.store = store
        self.senders = senders
        self.clock = clock
        self.min_interval = min_interval
        self.idle_poll = idle_poll
        self.max_workers = max_workers
        self._slots = asyncio.Semaphore(concurrency)
        # Monotonic instants: a conversation's next allowed send, a platform's end of pause.
        self._next_ok: dict[Key, float] = {}
        self._paused_until: dict[str, float] = {}
        self._next_forget = 0.0
        self._workers: dict[Key, asyncio.Task[None]] = {}
        # Writes the database refused, in order; while there are any, no new work starts.
        self._unwritten: list[tuple[str, list[object]]] = []
        self._store_error: str | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        store.on_commit(self.wake)

    def wake(self) -> None:
        self._wake.set()

    @property
    def remembered(self) -> int:
        """Conversations and platforms whose pacing or pause is still held in memory."""
        return len(self._next_ok) + len(self._paused_until)

    @property
    def store_failing(self) -> bool:
        return self._store_error is not None

    async def run(self) -> None:
        """Deliver until stopped; sleeps until woken by a commit, a finished worker or a due row."""
        while not self._stopping:
            self._wake.clear()
            try:
                self.deliver_due()
                wait = self._idle_wait()
            except sqlite3.Error as exc:
                self._store_failed(exc)
                wait = self.idle_poll
            except Exception:
                log.exception("outbox pass failed; retrying")
                wait = self.idle_poll
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            await asyncio.sleep(PASS_INTERVAL_S)

    async def stop(self) -> None:
        """Take no new rows; let sends in flight finish (so none is sent twice after a restart)."""
        self._stopping = True
        self.wake()
        workers = list(self._workers.values())
        if workers:
            _, late = await asyncio.wait(workers, timeout=SHUTDOWN_GRACE_S)
            for task in late:
                task.cancel()
        if not self._store_writable():
            log.error(
                "stopping with sends the database did not record; those messages will be posted again",
                extra={"count": len(self._unwritten), "error": self._store_error},
            )

    def _idle_wait(self) -> float:
        if self.store_failing:
            return self.idle_poll  # try the database again about once a second, not in a loop
        (soonest,) = self.store.db.execute(
            "select min(not_before) from outbox where status = 'pending'"
        ).fetchone()
        if soonest is None:
            return self.idle_poll
        return max(0.01, min(self.idle_poll, soonest - self.clock.now()))

    async def drain(self) -> None:
        """Deliver until nothing is due now and no worker is busy (the shell and tests use it)."""
        while True:
            started = self.deliver_due()
            if self._workers:
                await asyncio.wait(list(self._workers.values()))
            elif not started:
                return

    def deliver_due(self) -> int:
        """Start a worker for each conversation with due rows that has none; workers started.

        None while the database refuses writes: what it has not recorded is written first.
        """
        self._forget_idle()
        if not self._store_writable():
            return 0
        limit = BATCH + len(self._workers)  # busy conversations come back too; they are skipped
        try:
            keys = self.store.db.execute(
                _DUE_CONVERSATIONS, {"now": self.clock.now(), "limit": limit}
            ).fetchall()
        except sqlite3.Error as exc:
            self._store_failed(exc)
            return 0
        self._store_recovered()
        started = 0
        room = min(BATCH, self.max_workers - len(self._workers))
        for platform, conversation in keys:
            key = (platform, conversation)
            if (
                key not in self._workers and started < room
            ):  # a busy worker takes its conversation's new rows itself
                self._workers[key] = asyncio.create_task(self._work(key), name=f"outbox:{conversation}")
                started += 1
        return started

    def _forget_idle(self) -> None:
        """Drop pacing instants that have passed: one entry per conversation ever posted to adds up."""
        now = self.clock.monotonic()
        if now < self._next_forget:
            return
        self._next_forget = now + FORGET_EVERY_S
        self._next_ok = {key: at for key, at in self._next_ok.items() if at > now}
        self._paused_until = {key: at for key, at in self._paused_until.items() if at > now}

    # --- the database refusing writes ------------------------------------------------------
    def _write(self, sql: str, params: list[object]) -> None:
        """Run one dispatcher write in its own transaction; keep it for later if it is refused."""
        if self._unwritten:  # behind earlier refused writes, in order
            self._unwritten.append((sql, params))
            raise StoreRefused
        try:
            with self.store.db.atomic():  # rolls back a half-done write, so a replay is exact
                self.store.db.execute(sql, params)
        except sqlite3.Error as exc:
            self._unwritten.append((sql, params))
            self._store_failed(exc)
            raise StoreRefused from exc

    def _store_writable(self) -> bool:
        """Write what the database refused before; False while it still refuses."""
        if not self._unwritten:
            return True
        try:
            with self.store.db.atomic():
                for sql, params in self._unwritten:
                    self.store.db.execute(sql, params)
        except sqlite3.Error as exc:
            self._store_failed(exc)
            return False
        recorded, self._unwritten = len(self._unwritten), []
        self._store_recovered(recorded)
        return True

    def _store_failed(self, exc: sqlite3.Error) -> None:
        if self._store_error is None:  # once per episode, not once per pass
            self._store_error = str(exc)
            log.error(
                "outbox paused: the database refuses writes; what was sent is recorded once it accepts them",
                extra={"error": self._store_error},
            )

    def _store_recovered(self, recorded: int = 0) -> None:
        if self._store_error is not None:
            self._store_error = None
            log.warning("outbox resumed: the database accepts writes again", extra={"recorded": recorded})

    # --- one conversation ------------------------------------------------------------------
    def _item(self, row: tuple) -> OutboxItem | None:
        id_, platform, conversation, kind, thread, payload, reply_to, replaces = row
        try:
            message = decode(json.loads(payload))
        except Exception:
            self._fail(id_, "the stored message could not be read")
            return None
        return OutboxItem(id_, platform, _KINDS[kind](conversation), thread, message, reply_to, replaces)

    def _due_in(self, key: Key) -> list[OutboxItem]:
        rows = self.store.db.execute(
            _DUE_IN_CONVERSATION,
            {"now": self.clock.now(), "limit": 100, "platform": key[0], "conversation": key[1]},
        ).fetchall()
        return [item for item in map(self._item, rows) if item]

    async def _work(self, key: Key) -> None:
        """Deliver a conversation's due rows in order, including any that come due meanwhile."""
        items: list[OutboxItem] = []
        try:
            while items := self._due_in(key):
                for item in items:
                    if self._stopping or self.store_failing or not await self._deliver_one(key, item):
                        return  # keep a conversation's posts in order: the rest wait for this one
        except StoreRefused:
            pass  # logged once; the conversation goes on when the database records again
        except sqlite3.Error as exc:
            self._store_failed(exc)
        except Exception:
            log.exception("outbox worker failed", extra={"outbox_id": items[0].id if items else None})
        finally:
            self._workers.pop(key, None)

    async def _wait_turn(self, key: Key) -> None:
        while True:
            ready_at = max(self._next_ok.get(key, 0.0), self._paused_until.get(key[0], 0.0))
            delay = ready_at - self.clock.monotonic()
            if delay <= 0:
                return
            await self.clock.sleep(delay)

    async def _deliver_one(self, key: Key, item: OutboxItem) -> bool:
        """Send one row; False when the conversation must stop here for now."""
        sender = self.senders.get(item.platform)
        if sender is None:
            self._fail(item.id, f"no sender for platform {item.platform!r}")
            return True
        for parent_id, field in ((item.reply_to, "thread"), (item.replaces, "update_ref")):
            if parent_id is None:
                continue
            parent = self.store.db.execute(
                "select status, sent_ref, not_before from outbox where id = ?", [parent_id]
            ).fetchone()
            if parent and parent[0] == "pending":  # not before its parent (which may be delayed)
                self._update(item.id, not_before=max(self.clock.now() + 1.0, parent[2] + 1.0))
                return False
            if not (parent and parent[0] == "sent" and parent[1]):
                self._fail(item.id, "the message it refers to was not delivered")
                return True
            item = replace(item, **{field: parent[1]})
        while True:
            await self._wait_turn(key)
            async with self._slots:
                try:
                    outcome = await sender.send(item)
                except Exception as exc:  # a bug in a sender must not stop the queue
                    log.exception("outbox sender raised", extra={"outbox_id": item.id})
                    outcome = SendOutcome("transient", error=type(exc).__name__)
            now, ticks = self.clock.now(), self.clock.monotonic()
            if outcome.kind == "rate_limited":
                self._paused_until[item.platform] = ticks + max(outcome.retry_after, 1.0)
                log.warning(
                    "rate limited; pausing sends",
                    extra={"platform": item.platform, "retry_after": outcome.retry_after},
                )
                continue
            self._next_ok[key] = ticks + self.min_interval
            if outcome.kind == "sent":
                self._write(
                    "update outbox set status = 'sent', sent_at = ?, sent_ref = ?, attempts = attempts + 1 "
                    "where id = ?",
                    [now, outcome.ref, item.id],
                )
                return True
            if outcome.kind == "permanent":
                self._fail(item.id, outcome.error or "permanent error")
                return True
            return self._retry_later(item.id, outcome.error or "transient error", now)

    def _retry_later(self, outbox_id: int, reason: str, now: float) -> bool:
        attempts, failing_since = self.store.db.execute(
            "select attempts + 1, coalesce(failing_since, ?) from outbox where id = ?", [now, outbox_id]
        ).fetchone()
        if now - failing_since > RETRY_WINDOW_S:
            self._fail(outbox_id, f"gave up after {attempts} attempts: {reason}")
            return True
        self._update(
            outbox_id,
            attempts=attempts,
            not_before=now + backoff(attempts),
            last_error=reason,
            failing_since=failing_since,
        )
        # The first failure of a row says so; later ones would repeat it every minute of an outage.
        log.log(
            logging.WARNING if attempts == 1 else logging.DEBUG,
            "send failed; will retry",
            extra={"outbox_id": outbox_id, "error": reason, "attempts": attempts},
        )
        return False

    def _update(self, outbox_id: int, **values: object) -> None:
        columns = ", ".join(f"{k} = ?" for k in values)
        self._write(f"update outbox set {columns} where id = ?", [*values.values(), outbox_id])

    def _fail(self, outbox_id: int, reason: str) -> None:
        log.error("message could not be delivered", extra={"outbox_id": outbox_id, "error": reason})
        self._write(
            "update outbox set status = 'failed', last_error = ?, attempts = attempts + 1 where id = ?",
            [reason, outbox_id],
        )
