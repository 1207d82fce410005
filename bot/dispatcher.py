"""The outbox's dispatcher: delivers queued posts (bot/outbox.py) through each platform's sender.

Each conversation gets one worker at a time, so posts to a conversation go out in order and at
most one per `min_interval`, while other conversations proceed in parallel. Rate limits pause the
platform for Retry-After; transient errors are retried with capped, jittered back-off for up to
`RETRY_WINDOW_S`; a row is marked sent only once the platform said ok. A row is never dropped
silently: it ends `sent` or `failed` with the reason.

Several dispatchers may share the database: each works only the conversations whose lease it
holds (bot/outbox_leases.py), so a row is sent once and a conversation keeps its order and pacing
whichever one sends.

Pacing and pauses are waits in memory, measured on the monotonic clock, so a step of the wall
clock neither freezes a conversation nor lets it run early. The instants stored in rows
(`not_before`, `sent_at`, `lease_until`) stay wall-clock times.

If the database refuses a write (disk full, read-only file, a lock held too long), what the
dispatcher meant to record (above all "this row was sent") is kept in memory, in order, and the
dispatcher takes no new work until the database accepts those writes: sending again a row whose
send could not be recorded is how a post gets repeated. That is logged once when it starts and once
when it ends. Taking a lease is a write too, so no dispatcher starts a send meanwhile. Only losing
that memory (a crash in that state) can post such a row a second time.

Finding work costs the same however long a queue is: a pass walks the conversations that have
posts waiting, one index seek each, and sleeps until the next row comes due rather than polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import secrets
import socket
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from sqlite_utils import Database

from bot import outbox_leases as leases
from bot.clock import Clock
from bot.messages import Message, decode, files_as_text
from bot.outbox import KINDS, OutboxItem, Sender, SendOutcome
from bot.outbox_leases import Key, Statement
from bot.store import DB_ERRORS, Store
from bot.turnstile import Turnstile

log = logging.getLogger("candor.outbox")

MAX_BACKOFF_S = 60.0  # once the platform answers again, a conversation moves within a minute
RETRY_WINDOW_S = 6 * 3600.0  # a platform outage shorter than this loses nothing
FORGET_EVERY_S = 60.0  # how often pacing instants that have passed are forgotten
# Workers one pass may start: their first steps (reading up to DUE_BATCH rows, decoding, the first
# send) share one loop iteration. 100 held the loop for ~50 ms in a 5,000-channel fan-out; 25 at a
# pass every PASS_INTERVAL_S still starts 500 conversations a second, more than the sends finish.
BATCH = 25
# Conversations worked on at once. More would only wait for a send slot, each holding its rows in
# memory: after a fan-out to 5,000 channels every full garbage collection walked them all (60 ms).
MAX_WORKERS = 256
SHUTDOWN_GRACE_S = 10.0
DUE_BATCH = 100  # rows a worker reads at a time
PASS_INTERVAL_S = 0.05  # at most this often a full pass; a burst of commits shares one


def backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` failures: doubling from 1 s, capped at
    MAX_BACKOFF_S, and 50-100 % of that at random so conversations that failed together do not
    retry together."""
    return min(MAX_BACKOFF_S, 2.0 ** max(0, attempts - 1)) * random.uniform(0.5, 1.0)


class StoreRefused(Exception):
    """The database refused a dispatcher write; the write is kept to be replayed."""


# --- finding work (SQLite: `indexed by` pins the plans that keep a pass cheap; PostgreSQL's
# translation drops it, bot/postgres.py) ------------------------------------------------------

# Conversations with a post due, walked one conversation at a time over the partial index of
# pending rows (a loose index scan): the cost grows with the conversations waiting, never with the
# length of one queue. Skipped: a conversation where a row is backing off (its posts keep their
# order) and one another dispatcher holds. Stops after :limit found.
_DUE_CONVERSATIONS = """
with recursive walk(platform, conversation, due, found) as (
  select '', '', 0, 0
  union all
  select o.platform, o.conversation,
    case when o.not_before <= :now
      and not exists (
        select 1 from outbox b indexed by idx_outbox_backing_off
        where b.platform = o.platform and b.conversation = o.conversation and b.status = 'pending'
          and b.attempts > 0 and b.not_before > :now)
      and not exists (
        select 1 from outbox_leases l
        where l.platform = o.platform and l.conversation = o.conversation and l.owner != :me
          and l.lease_until > :now)
    then 1 else 0 end,
    walk.found + walk.due
  from walk join outbox o on o.id = coalesce(
    (select n.id from outbox n indexed by idx_outbox_pending
     where n.status = 'pending' and n.platform = walk.platform and n.conversation > walk.conversation
     order by n.platform, n.conversation, n.not_before limit 1),
    (select n.id from outbox n indexed by idx_outbox_pending
     where n.status = 'pending' and n.platform > walk.platform
     order by n.platform, n.conversation, n.not_before limit 1))
  where walk.found + walk.due < :limit
)
select platform, conversation from walk where due = 1
"""
# A conversation's due rows in order, up to the first row that is backing off: the rows after it
# wait for it.
_DUE_IN_CONVERSATION = """
select id, platform, conversation, recipient, thread, payload, reply_to, replaces
from outbox indexed by idx_outbox_platform_conversation_status_id
where platform = :platform and conversation = :conversation and status = 'pending' and not_before <= :now
  and id < coalesce((
    select min(b.id) from outbox b indexed by idx_outbox_backing_off
    where b.platform = :platform and b.conversation = :conversation and b.status = 'pending'
      and b.attempts > 0 and b.not_before > :now), 9223372036854775807)
order by id limit :limit
"""
# A row of _DUE_IN_CONVERSATION: id, platform, conversation, recipient kind, thread, payload,
# reply_to, replaces.
Row = tuple[int, str, str, str, str | None, str, int | None, int | None]
# The next instant a waiting row comes due (rows due already are their workers' business).
_NEXT_DUE = "select min(not_before) from outbox where status = 'pending' and not_before > :now"


def new_owner() -> str:
    """A name for this dispatcher, unique across processes and restarts, readable by an operator."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Dispatcher:
    """Delivers the outbox. Several may share a database (processes, hosts): each conversation is
    worked by the one that holds its lease, so a row is sent once and a conversation's posts keep
    their order and pacing."""

    def __init__(
        self,
        store: Store,
        senders: dict[str, Sender],
        clock: Clock,
        *,
        min_interval: float = 1.0,
        concurrency: int = 16,
        idle_poll: float = 1.0,
        owner: str | None = None,
        max_workers: int = MAX_WORKERS,
        lease_s: float = leases.LEASE_S,
    ) -> None:
        self.store = store
        self.senders = senders
        self.clock = clock
        self.min_interval = min_interval
        self.idle_poll = idle_poll
        self.owner = owner or new_owner()
        self.max_workers = max_workers
        # How long a conversation stays this dispatcher's after its last renewal (CANDOR_OUTBOX_LEASE).
        self.lease_s = lease_s
        self._slots = asyncio.Semaphore(concurrency)
        self._turnstile = Turnstile()  # one send starts per turn of the loop (bot/turnstile.py)
        # Monotonic instants: a conversation's next allowed send, a platform's end of pause.
        self._next_ok: dict[Key, float] = {}
        self._paused_until: dict[str, float] = {}
        self._next_forget = 0.0
        self._workers: dict[Key, asyncio.Task[None]] = {}
        # Leases this dispatcher holds (its workers' conversations), with when each was renewed.
        self._held: dict[Key, float] = {}
        # Writes the database refused, in order; while there are any, no new work starts.
        self._unwritten: list[Statement] = []
        self._store_error: str | None = None
        self._wake = asyncio.Event()
        # One pass at a time: a pass reads and claims across awaits (PostgreSQL answers off the
        # loop), and two at once could each start a worker for the same conversation.
        self._pass = asyncio.Lock()
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
        """Deliver until stopped; sleeps until woken by a commit, the next row coming due, or
        `idle_poll` (rows another process queued, a lease another dispatcher let go)."""
        while not self._stopping:
            self._wake.clear()
            try:
                started = await self.deliver_due()
                wait = 0.0 if started >= BATCH else await self._idle_wait()  # a full batch: more may wait
            except DB_ERRORS as exc:
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
        if not await self._store_writable():
            log.error(
                "stopping with sends the database did not record; those messages will be posted again",
                extra={"count": len(self._unwritten), "error": self._store_error},
            )

    async def _idle_wait(self) -> float:
        """Until the next row comes due. Rows due already belong to a worker, or to another
        dispatcher's lease (looked at again within `idle_poll`)."""
        if self.store_failing:
            return self.idle_poll  # try the database again about once a second, not in a loop
        now = self.clock.now()
        (soonest,) = await self.store.call(lambda db: db.execute(_NEXT_DUE, {"now": now}).fetchone())
        if soonest is None:
            return self.idle_poll
        return max(0.01, min(self.idle_poll, soonest - now))

    async def drain(self) -> None:
        """Deliver until nothing is due now and no worker is busy (the shell and tests use it)."""
        while True:
            started = await self.deliver_due()
            if self._workers:
                await asyncio.wait(list(self._workers.values()))
            elif not started:
                return

    async def deliver_due(self) -> int:
        """Claim each conversation with due rows that has no worker here and start one; workers
        started.

        None while the database refuses writes: what it has not recorded is written first.
        """
        async with self._pass:
            return await self._deliver_due()

    async def _deliver_due(self) -> int:
        if not await self._store_writable():
            return 0
        await self._forget_idle()
        await self._renew_held()
        room = min(BATCH, self.max_workers - len(self._workers))
        if room <= 0:
            return 0
        limit = BATCH + len(self._workers)  # busy conversations come back too; they are skipped
        now = self.clock.now()
        try:
            params = {"now": now, "limit": limit, "me": self.owner}
            keys = await self.store.call(lambda db: db.execute(_DUE_CONVERSATIONS, params).fetchall())
        except DB_ERRORS as exc:
            self._store_failed(exc)
            return 0
        # A busy worker takes its conversation's new rows itself.
        wanted = [
            (platform, conversation)
            for platform, conversation in keys
            if (platform, conversation) not in self._workers
        ]
        started = 0
        for key in await self._claim(wanted[:room]):
            self._workers[key] = asyncio.create_task(self._work(key), name=f"outbox:{key[1]}")
            started += 1
        return started

    async def _forget_idle(self) -> None:
        """Drop pacing instants that have passed (one entry per conversation ever posted to adds
        up), and lapsed leases nobody is sending under."""
        now = self.clock.monotonic()
        if now < self._next_forget:
            return
        self._next_forget = now + FORGET_EVERY_S
        self._next_ok = {key: at for key, at in self._next_ok.items() if at > now}
        self._paused_until = {key: at for key, at in self._paused_until.items() if at > now}
        with contextlib.suppress(*DB_ERRORS):  # only tidying: if refused, the next round tries again
            now = self.clock.now()
            await self.store.call(lambda db: leases.forget(db, now=now, lease_s=self.lease_s))

    # --- leases ----------------------------------------------------------------------------------
    async def _claim(self, keys: list[Key]) -> list[Key]:
        """Take the leases of these conversations in one transaction; the ones won."""
        if not keys:
            return []
        try:
            now = self.clock.now()
            won, held = await self.store.call(
                lambda db: leases.claim(db, keys=keys, owner=self.owner, now=now, lease_s=self.lease_s)
            )
        except DB_ERRORS as exc:
            self._store_failed(exc)
            return []
        self._store_recovered()
        for outbox_id in held:
            log.warning(
                "took over a conversation whose sender stopped during a send; that post waits in "
                "case it went out",
                extra={"outbox_id": outbox_id, "wait_s": self.lease_s},
            )
        ticks = self.clock.monotonic()
        self._held.update(dict.fromkeys(won, ticks))
        return won

    async def _renew_held(self) -> None:
        """Renew the leases of workers that have waited a while (a rate-limit pause, a slow send)."""
        ticks = self.clock.monotonic()
        due = [key for key, renewed in self._held.items() if ticks - renewed >= self.lease_s / 3]
        if not due:
            return
        try:
            now = self.clock.now()
            lost = await self.store.call(
                lambda db: leases.renew(db, keys=due, owner=self.owner, now=now, lease_s=self.lease_s)
            )
        except DB_ERRORS as exc:
            self._store_failed(exc)
            return
        self._held.update(dict.fromkeys(due, ticks))
        for key in lost:  # taken over; its worker stops before its next send
            self._held.pop(key, None)

    async def _begin_send(self, key: Key, outbox_id: int) -> tuple[str, str] | None:
        """Renew the conversation's lease and name the row in flight, just before sending it; the
        row's status and payload as they are now. None if the lease is gone or the database
        refuses: the row is not sent."""
        if self.store_failing:
            return None
        try:
            now = self.clock.now()
            row = await self.store.call(
                lambda db: leases.begin_send(
                    db, key=key, owner=self.owner, outbox_id=outbox_id, now=now, lease_s=self.lease_s
                )
            )
        except DB_ERRORS as exc:
            self._store_failed(exc)
            return None
        if row is None:
            self._held.pop(key, None)
            log.info("another dispatcher took over a conversation", extra={"outbox_id": outbox_id})
            return None
        self._held[key] = self.clock.monotonic()
        return row

    def _after_send(self, key: Key, keep: bool) -> Statement:
        """The lease write that goes with a send's record: kept while the worker has the next row in
        hand, else running out when the conversation's next post may go."""
        if keep:
            self._held[key] = self.clock.monotonic()
            return leases.released(key=key, owner=self.owner, until=self.clock.now() + self.lease_s)
        self._held.pop(key, None)
        return leases.released(key=key, owner=self.owner, until=self._next_post_at(key))

    def _next_post_at(self, key: Key) -> float:
        """The wall-clock moment this conversation's pacing lets its next post go."""
        return self.clock.now() + max(0.0, self._next_ok.get(key, 0.0) - self.clock.monotonic())

    async def _let_go(self, key: Key) -> None:
        """A worker ends: its lease runs out when the conversation's next post may go."""
        if self._held.pop(key, None) is None or self._unwritten:
            return
        with contextlib.suppress(*DB_ERRORS):  # if the database refuses, the lease runs out anyway
            until = self._next_post_at(key)
            await self.store.call(lambda db: leases.let_go(db, key=key, owner=self.owner, until=until))

    # --- the database refusing writes ------------------------------------------------------
    async def _write(self, *statements: Statement) -> None:
        """Run a record in its own transaction; keep it for later if it is refused."""
        if self._unwritten:  # behind earlier refused writes, in order
            self._unwritten.extend(statements)
            raise StoreRefused
        try:
            await self.store.call(partial(_record, statements))
        except DB_ERRORS as exc:
            self._unwritten.extend(statements)
            self._store_failed(exc)
            raise StoreRefused from exc

    async def _store_writable(self) -> bool:
        """Write what the database refused before; False while it still refuses."""
        if not self._unwritten:
            return True
        try:
            await self.store.call(partial(_record, list(self._unwritten)))
        except DB_ERRORS as exc:
            self._store_failed(exc)
            return False
        recorded, self._unwritten = len(self._unwritten), []
        self._store_recovered(recorded)
        return True

    def _store_failed(self, exc: Exception) -> None:
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
    async def _message(self, outbox_id: int, payload: str) -> Message | None:
        try:
            return decode(json.loads(payload))
        except Exception:
            await self._fail(outbox_id, "the stored message could not be read")
            return None

    async def _due_in(self, key: Key) -> list[Row]:
        """The conversation's next due rows, as read; each is decoded when the worker comes to it.
        A paced conversation's worker holds up to DUE_BATCH rows for up to DUE_BATCH seconds, and
        plain tuples of strings are no work for the garbage collector, where decoded messages (a
        dozen objects each, in every worker) made each full collection walk thousands of them."""
        params = {"now": self.clock.now(), "limit": DUE_BATCH, "platform": key[0], "conversation": key[1]}
        return await self.store.call(lambda db: db.execute(_DUE_IN_CONVERSATION, params).fetchall())

    async def _item(self, row: Row) -> OutboxItem | None:
        """The row ready to send; None if it cannot be read (then failed and recorded)."""
        id_, platform, conversation, kind, thread, payload, reply_to, replaces = row
        if kind not in KINDS:  # a kind this version does not know: failed like an unreadable payload,
            await self._fail(id_, f"unknown recipient kind {kind!r}")  # not retried every pass
            return None
        message = await self._message(id_, payload)
        if message is None:
            return None
        return OutboxItem(id_, platform, KINDS[kind](conversation), thread, message, reply_to, replaces)

    async def _work(self, key: Key) -> None:
        """Deliver a conversation's due rows in order, including any that come due meanwhile."""
        rows: list[Row] = []
        try:
            while rows := await self._due_in(key):
                for index, row in enumerate(rows):
                    more = index + 1 < len(rows) or len(rows) == DUE_BATCH
                    if self._stopping or self.store_failing:
                        return
                    item = await self._item(row)
                    if item is None:
                        continue  # failed and recorded: the next row goes on
                    if not await self._deliver_one(key, item, row[5], more):
                        return  # keep a conversation's posts in order: the rest wait for this one
        except StoreRefused:
            pass  # logged once; the conversation goes on when the database records again
        except DB_ERRORS as exc:
            self._store_failed(exc)
        except Exception:
            log.exception("outbox worker failed", extra={"outbox_id": rows[0][0] if rows else None})
        finally:
            self._workers.pop(key, None)
            await self._let_go(key)

    def _ready_at(self, key: Key) -> float:
        """The monotonic instant this conversation may send: its pacing, its platform's pause."""
        return max(self._next_ok.get(key, 0.0), self._paused_until.get(key[0], 0.0))

    async def _wait_turn(self, key: Key) -> None:
        while True:
            delay = self._ready_at(key) - self.clock.monotonic()
            if delay <= 0:
                return
            await self.clock.sleep(delay)

    async def _deliver_one(self, key: Key, item: OutboxItem, payload: str, more: bool) -> bool:
        """Send one row; False when the conversation must stop here for now. `payload`: what the
        row said when it was read; `more`: the worker has the conversation's next row in hand."""
        sender = self.senders.get(item.platform)
        if sender is None:
            await self._fail(item.id, f"no sender for platform {item.platform!r}")
            return True
        for parent_id, field in ((item.reply_to, "thread"), (item.replaces, "update_ref")):
            if parent_id is None:
                continue
            parent = await self.store.call(partial(_parent, parent_id))
            if parent and parent[0] == "pending":  # not before its parent (which may be delayed)
                await self._update(item.id, not_before=max(self.clock.now() + 1.0, parent[2] + 1.0))
                return False
            if not (parent and parent[0] == "sent" and parent[1]):
                await self._fail(item.id, "the message it refers to was not delivered")
                return True
            ref: Any = parent[1]
            item = replace(item, **{field: ref})
        while True:
            await self._wait_turn(key)
            async with self._slots:
                # Taken with the slot held: a semaphore may wake several waiters in one turn.
                await self._turnstile.through()
                if self._ready_at(key) > self.clock.monotonic():
                    continue  # a rate limit began while it waited its turn
                now_row = await self._begin_send(key, item.id)
                if now_row is None:
                    return False  # the conversation is another dispatcher's now, or unwritable
                status, stored = now_row
                if status != "pending":
                    return True  # recorded meanwhile: nothing to send
                if stored != payload:  # edited since it was read (say, /kudos undo)
                    message = await self._message(item.id, stored)
                    if message is None:
                        return True
                    item = replace(item, message=message)
                if item.message.files and not getattr(sender, "carries_files", False):
                    item = replace(item, message=files_as_text(item.message))
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
                await self._write(
                    (
                        "update outbox set status = 'sent', sent_at = :now, sent_ref = :ref, "
                        "attempts = attempts + 1 where id = :id",
                        {"now": now, "ref": outcome.ref, "id": item.id},
                    ),
                    self._after_send(key, keep=more),
                )
                return True
            if outcome.kind == "permanent":
                await self._fail(
                    item.id, outcome.error or "permanent error", self._after_send(key, keep=more)
                )
                return True
            return await self._retry_later(
                item.id, outcome.error or "transient error", now, self._after_send(key, keep=False)
            )

    async def _retry_later(self, outbox_id: int, reason: str, now: float, *lease: Statement) -> bool:
        attempts, failing_since = await self.store.call(partial(_failures, outbox_id, now))
        if now - failing_since > RETRY_WINDOW_S:
            await self._fail(outbox_id, f"gave up after {attempts} attempts: {reason}", *lease)
            return True
        await self._update(
            outbox_id,
            *lease,
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

    async def _update(self, outbox_id: int, *lease: Statement, **values: object) -> None:
        columns = ", ".join(f"{k} = :{k}" for k in values)
        await self._write(
            (f"update outbox set {columns} where id = :id", {**values, "id": outbox_id}), *lease
        )

    async def _fail(self, outbox_id: int, reason: str, *lease: Statement) -> None:
        log.error("message could not be delivered", extra={"outbox_id": outbox_id, "error": reason})
        await self._write(
            (
                "update outbox set status = 'failed', last_error = :reason, attempts = attempts + 1 "
                "where id = :id",
                {"reason": reason, "id": outbox_id},
            ),
            *lease,
        )


# --- the dispatcher's statements, as functions of the connection (Store.call) ------------------


def _record(statements: Sequence[Statement], db: Database) -> None:
    with db.atomic():  # rolls back a half-done write, so a replay is exact
        for sql, params in statements:
            db.execute(sql, params)


def _parent(parent_id: int, db: Database) -> tuple[str, str, float] | None:
    row = db.execute("select status, sent_ref, not_before from outbox where id = ?", [parent_id]).fetchone()
    return (row[0], row[1], row[2]) if row else None


def _failures(outbox_id: int, now: float, db: Database) -> tuple[int, float]:
    attempts, failing_since = db.execute(
        "select attempts + 1, coalesce(failing_since, ?) from outbox where id = ?", [now, outbox_id]
    ).fetchone()
    return int(attempts), float(failing_since)
