"""The SQLite store: one sqlite-utils Database in WAL mode with Candor's migrations applied."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from bot.migrations import candor as migrations

log = logging.getLogger("candor.store")

BUSY_TIMEOUT_MS = 5000


class SchemaTooNewError(Exception):
    """The database was migrated by a newer Candor; running older code on it could corrupt it."""


class Store:
    """Owns the connection; `transaction()` is the only way a command writes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._after_commit: list[Callable[[], None]] = []
        self._failing: set[int] = set()  # callbacks whose last run raised (logged once)

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` after every committed transaction (the outbox uses it to wake up)."""
        self._after_commit.append(callback)

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        nested = self.db.conn.in_transaction
        with self.db.atomic():
            yield self.db
        if not nested:
            self._committed()

    def _committed(self) -> None:
        """Run the after-commit callbacks. The data is stored by now, so one that raises must not
        make the caller report a failure ("nothing was saved"): it is logged once, and the rest run."""
        for index, callback in enumerate(self._after_commit):
            try:
                callback()
            except Exception:
                if index not in self._failing:
                    self._failing.add(index)
                    log.exception("an after-commit callback failed; the transaction is committed")
            else:
                self._failing.discard(index)

    def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database file and truncate it to zero bytes, so it no
        longer shows the order of earlier commits. Never waits: False if a reader (a backup, an
        sqlite3 shell) holds the log; the next call tries again."""
        self.db.execute("PRAGMA busy_timeout=0")
        try:
            busy = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.OperationalError:
            busy = 1
        finally:
            self.db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return busy == 0

    def ping(self) -> None:
        self.db.execute("select count(*) from _sqlite_migrations").fetchone()

    def close(self) -> None:
        self.db.close()


def unknown_migrations(db: Database) -> list[str]:
    known = {m.name for m in migrations._migrations}
    return [m.name for m in migrations.applied(db) if m.name not in known]


def open_store(path: Path | str, *, migrate: bool = True) -> Store:
    """Open (creating if needed) the database, refuse a newer schema, and apply migrations."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    db = Database(conn)
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    newer = unknown_migrations(db)  # before changing anything, even the journal mode
    if newer:
        db.close()
        raise SchemaTooNewError(
            f"the database at {path} has migrations this version of Candor does not know "
            f"({', '.join(newer)}); upgrade Candor or use another CANDOR_DB"
        )
    db.enable_wal()
    db.execute("PRAGMA synchronous=NORMAL")
    # After a checkpoint the WAL is reused from its start, and frames past the new writes kept old
    # commits (and their order) on disk; a limit of 0 truncates it at the first commit instead.
    db.execute("PRAGMA journal_size_limit=0")
    # Deleted and overwritten content is zeroed, not left in free pages for anyone to read.
    db.execute("PRAGMA secure_delete=ON")
    db.execute("PRAGMA foreign_keys=ON")
    if migrate:
        migrations.apply(db)
    return Store(db)


def claim_once(db: Database, key: str, now: float) -> bool:
    """Record a delivery key inside the caller's transaction; False if it was seen before."""
    cursor = db.execute("insert or ignore into processed (key, at) values (?, ?)", [key, now])
    return cursor.rowcount == 1
