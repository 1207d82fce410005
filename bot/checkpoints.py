"""Copying the write-ahead log into the database file off the event loop, while Candor serves.

By default SQLite checkpoints inside the commit that takes the log past 1,000 pages: that commit
copies the pages and, with synchronous=NORMAL, waits for an fsync, so whichever request or fan-out
batch happens to commit then stalls the event loop for milliseconds. While Candor serves, its
connection does not checkpoint (wal_autocheckpoint=0); this task does, about once a second, from a
thread with its own connection. A PASSIVE checkpoint never blocks a writer, so commits do not wait
for it.

A writer restarts the log only once a checkpoint has copied all of it. Under a steady stream of
commits (a fan-out's deliveries) a pass never catches up with the last one, so the log grew to
290 MB in the fan-out bench, and the one truncation at its end held the event loop for over
100 ms (about 0.3 ms a megabyte on this disk). So once the log holds CATCH_UP_BYTES, a second
pass copies what was committed during the first while this connection's writes wait for it (the
store's `writing` lock, 1-6 ms measured): the next commit then restarts the log, which never
holds more than a few megabytes. (SQLite's RESTART mode makes every writer wait instead, in its busy
handler's sleeps of 1, 2 and 5 ms.) A second Candor process on the file commits through no lock of
this one, so its commits can keep the log from catching up: past FORCE_BYTES the second pass is a
RESTART, which makes its writers wait too.

While this task runs, a restarted log is written again from its start rather than truncated
(journal_size_limit=-1 on the serving connection): truncating at every restart and growing the
file again cost about a sixth of a `/kudos` request's CPU on this disk. Frames past the new
writes then stay in the file, so this task empties it instead (a TRUNCATE checkpoint): at the
first pass after commits pause (about a second), and at least every TRUNCATE_EVERY_S while they
keep coming. Before, a restart emptied the file (within a second or so under steady traffic), but
the last commits before a quiet spell stayed until the next commit came, however long after. A
reader holding an old snapshot (a backup) delays either. Anonymous writes empty the log right
after their own commit (Store.checkpoint), whatever this task does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from dataclasses import dataclass

from bot.store import JOURNAL_SIZE_LIMIT, Store

log = logging.getLogger("candor.checkpoints")

INTERVAL_S = 1.0
CATCH_UP_BYTES = 2**20  # past this the log is caught up and restarted, not left to grow
FORCE_BYTES = 16 * CATCH_UP_BYTES  # past this, other processes' writers wait for the restart too
RESTART_WAIT_MS = 10
RESTART_BACKOFF_S = 1.0  # after RESTARTs refused twice in a row (a long reader, not a commit)
WATCH_S = 0.05  # during a burst of commits, a pass at most this long after the last one
BURST_COMMITS = 8  # commits between two passes that make a burst worth watching
CATCH_UP_WAIT_S = 1.0  # a write holding the lock longer (waiting for another process) skips it
SQLITE_DEFAULT_PAGES = 1000  # wal_autocheckpoint when nothing else checkpoints
TRUNCATE_EVERY_S = 5.0  # while commits keep coming, the longest stale frames stay in the file


@dataclass(frozen=True)
class Pass:
    refused: bool  # a RESTART or TRUNCATE gave up: a reader (or another process's writer) held on
    frames: int  # in the log when the pass began
    emptied: bool  # a TRUNCATE emptied the log file


class BackgroundCheckpoints:
    def __init__(
        self, store: Store, interval_s: float = INTERVAL_S, truncate_every_s: float = TRUNCATE_EVERY_S
    ) -> None:
        self.store = store
        self.interval_s = interval_s
        self.truncate_every_s = truncate_every_s
        self._stop = False
        self._wake = asyncio.Event()  # the interval is up early: stopping, or a burst of commits
        self._task: asyncio.Task[None] | None = None
        self._watch: asyncio.TimerHandle | None = None
        self._conn: sqlite3.Connection | None = None
        self._page_size = 4096
        self._commits = 0  # since the last pass
        self._no_restart_until = 0.0  # loop time
        self._refused = 0  # RESTARTs refused in a row
        self._frames = -1  # in the log at the last pass
        self._truncate_at = 0.0  # loop time: the next TRUNCATE is due, even while commits come
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        if self.store.path is None:  # an in-memory database has no log to copy
            return
        self._conn = sqlite3.connect(str(self.store.path), check_same_thread=False)
        (self._page_size,) = self._conn.execute("PRAGMA page_size").fetchone()
        # Only a RESTART waits (for another process's writer or readers), holding this process's
        # writes meanwhile: a backup or a shell reading for longer makes it give up, not stall.
        self._conn.execute(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")
        self.store.db.execute("PRAGMA wal_autocheckpoint=0")
        self.store.db.execute("PRAGMA journal_size_limit=-1")  # reused; this task empties it
        self._task = asyncio.create_task(self._run(), name="wal-checkpoints")
        self._loop = asyncio.get_running_loop()
        self._truncate_at = self._loop.time() + self.truncate_every_s
        self.store.on_write(self._committed)  # the dispatcher's `call` writes grow the log too

    async def stop(self) -> None:
        """Wait for a checkpoint in flight (a thread cannot be cancelled), then hand checkpointing
        back to SQLite, so a store still in use does not grow its log without bound."""
        if self._task is None or self._conn is None:
            return
        self._stop = True
        self._wake.set()
        if self._watch is not None:
            self._watch.cancel()
        await self._task
        self._conn.close()
        with contextlib.suppress(sqlite3.Error):
            self.store.db.execute(f"PRAGMA wal_autocheckpoint={SQLITE_DEFAULT_PAGES}")
            self.store.db.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")

    def _committed(self) -> None:
        """Commits come in a burst: look at the log soon. A trickle (a post a second) is the
        interval's pass's business: a timer firing 20 times a second cost an idle Candor 0.5 % of
        a core on this machine, and each look a trickle arms about 0.1 %."""
        self._commits += 1
        if self._commits >= BURST_COMMITS:
            self._arm()

    def _arm(self) -> None:
        """Wake the pass in WATCH_S, unless that is due already."""
        if self._watch is None and not self._stop and self._loop is not None:
            self._watch = self._loop.call_later(WATCH_S, self._look)

    def _look(self) -> None:
        """A burst of commits: wake the pass, which copies what they wrote and catches the log up
        once it holds CATCH_UP_BYTES. (Not by the log file's size: while Candor serves, the file
        is rewound after each restart, so its size no longer says what the log holds. Nor by the
        -shm index's header: closing any descriptor of that file would drop SQLite's locks on it.)"""
        self._watch = None
        self._wake.set()

    async def _run(self) -> None:
        assert self._conn is not None
        failing = False
        while not self._stop:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
            self._wake.clear()
            loop = asyncio.get_running_loop()
            may_wait = loop.time() >= self._no_restart_until
            due = loop.time() >= self._truncate_at
            try:
                args = (self.store, self._conn, self._page_size, may_wait, self._frames, due)
                done = await asyncio.to_thread(self._checkpoint, *args)
                self._frames = done.frames
                self._refused = self._refused + 1 if done.refused else 0
                if done.emptied:
                    self._truncate_at = loop.time() + self.truncate_every_s
                if self._refused >= 2:
                    # A long reader (the dashboard's own connection, a backup) holds the log:
                    # each try would hold this process's writes RESTART_WAIT_MS for nothing.
                    self._no_restart_until, self._refused = loop.time() + RESTART_BACKOFF_S, 0
            except sqlite3.Error as exc:  # a busy or failing disk: the next pass tries again
                if not failing:
                    log.warning("could not checkpoint the database log", extra={"error": type(exc).__name__})
                failing = True
            else:
                failing = False
            self._commits = 0

    @staticmethod
    def _checkpoint(
        store: Store,
        conn: sqlite3.Connection,
        page_size: int,
        may_wait: bool,
        last_frames: int,
        truncate_due: bool,
    ) -> Pass:
        """One pass. A PASSIVE copy first, with commits going on; then, while this connection's
        writes wait: a TRUNCATE, if the file holds anything, once commits have paused (the log holds
        what it held at the last pass) or when `truncate_due`; else a catch-up once the log
        holds CATCH_UP_BYTES (a RESTART past FORCE_BYTES when `may_wait`)."""
        # Under the store's lock: a TRUNCATE asked for meanwhile (an anonymous write) waits for
        # this pass instead of failing against it.
        with store.checkpoint_lock:
            _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            # (Its counts are those of the log when it began, so they cannot tell whether commits
            # came meanwhile; the same count as the last pass's says none came since, from this
            # process or any other.)
            paused = frames == last_frames
            truncate = may_wait and (truncate_due or paused) and wal_file_bytes(store) > 0
            catch_up = frames * page_size >= CATCH_UP_BYTES and not paused
            if not (truncate or catch_up):
                return Pass(refused=False, frames=frames, emptied=False)
            if not store.writing.acquire(timeout=CATCH_UP_WAIT_S):
                return Pass(refused=False, frames=frames, emptied=False)
            try:  # what was committed during the pass above: a few milliseconds
                # Past FORCE_BYTES the catch-ups have not restarted the log: another process kept
                # committing during them (a second replica). RESTART makes its writers wait too.
                if truncate:
                    mode = "TRUNCATE"
                elif may_wait and frames * page_size >= FORCE_BYTES:
                    mode = "RESTART"
                else:
                    mode = "PASSIVE"
                busy, _, _ = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
                refused = mode != "PASSIVE" and busy == 1
                return Pass(refused=refused, frames=frames, emptied=mode == "TRUNCATE" and not busy)
            finally:
                store.writing.release()


def wal_file_bytes(store: Store) -> int:
    """The size of the log file: one stat. Frames past what the log holds now are stale."""
    assert store.path is not None
    try:
        return store.path.with_name(store.path.name + "-wal").stat().st_size
    except OSError:  # none yet, or unreadable
        return 0
