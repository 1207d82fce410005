"""Copying the write-ahead log into the database file off the event loop, while Candor serves.

By default SQLite checkpoints inside the commit that takes the log past 1,000 pages: that commit
copies the pages and, with synchronous=NORMAL, waits for an fsync, so whichever request or fan-out
batch happens to commit then stalls the event loop for milliseconds. While Candor serves, its
connection does not checkpoint (wal_autocheckpoint=0); this task does, about once a second, from a
thread with its own connection. A PASSIVE checkpoint never blocks a writer, so commits never wait
for it; the store's journal_size_limit still truncates the log when a writer restarts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

from bot.store import Store

log = logging.getLogger("candor.checkpoints")

INTERVAL_S = 1.0
SQLITE_DEFAULT_PAGES = 1000  # wal_autocheckpoint when nothing else checkpoints


class BackgroundCheckpoints:
    def __init__(self, store: Store, interval_s: float = INTERVAL_S) -> None:
        self.store = store
        self.interval_s = interval_s
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn: sqlite3.Connection | None = None

    def start(self) -> None:
        if self.store.path is None:  # an in-memory database has no log to copy
            return
        self._conn = sqlite3.connect(str(self.store.path), check_same_thread=False)
        self.store.db.execute("PRAGMA wal_autocheckpoint=0")
        self._task = asyncio.create_task(self._run(), name="wal-checkpoints")

    async def stop(self) -> None:
        """Wait for a checkpoint in flight (a thread cannot be cancelled), then hand checkpointing
        back to SQLite, so a store still in use does not grow its log without bound."""
        if self._task is None or self._conn is None:
            return
        self._stop.set()
        await self._task
        self._conn.close()
        with contextlib.suppress(sqlite3.Error):
            self.store.db.execute(f"PRAGMA wal_autocheckpoint={SQLITE_DEFAULT_PAGES}")

    async def _run(self) -> None:
        assert self._conn is not None
        failing = False
        while not self._stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_s)
            try:
                await asyncio.to_thread(self._checkpoint, self.store, self._conn)
            except sqlite3.Error as exc:  # a busy or failing disk: the next pass tries again
                if not failing:
                    log.warning("could not checkpoint the database log", extra={"error": type(exc).__name__})
                failing = True
            else:
                failing = False

    @staticmethod
    def _checkpoint(store: Store, conn: sqlite3.Connection) -> None:
        # Under the store's lock: a TRUNCATE asked for meanwhile (an anonymous write) waits for
        # this pass instead of failing against it.
        with store.checkpoint_lock:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
