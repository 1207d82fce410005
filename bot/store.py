"""The store: SQLite (one sqlite-utils Database in WAL mode) or PostgreSQL, migrations applied.

Both engines offer the same Store: `run`/`read` a plain function of the transaction, whose `tx`
has `execute(sql, params)` with `?` placeholders. `open_store` picks the engine from its target:
a `postgresql://` URL (CANDOR_DATABASE_URL) or a file path (CANDOR_DB). The PostgreSQL engine is
bot/postgres.py; what follows here is SQLite's, and the parts both share.

Also what keeps the SQLite file trustworthy while Candor runs: a health check that commits a real
write and checks that the path still names the file the connection holds. Several `serve`
processes may share the database: SQLite transactions take the write lock at BEGIN, and whatever
two processes could both pick up is claimed through a row.
"""

from __future__ import annotations

import asyncio
import contextvars
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import psycopg
from sqlite_utils import Database

from bot import pg_schema, postgres
from bot.migrations import candor as migrations

log = logging.getLogger("candor.store")
T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
JOURNAL_SIZE_LIMIT = 0  # see _open_locked
# SQLite's primary result codes that mean "the file cannot take writes now", not a bug of ours.
STORAGE_ERRORS = {
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_NOTADB,
}


class SchemaTooNewError(Exception):
    """The database was migrated by a newer Candor; running older code on it could corrupt it."""


class StoreError(Exception):
    """The database cannot be opened or written at start-up; the message is one line for the CLI."""


class AwaitInTransaction(RuntimeError):
    """A transaction was held open while the event loop ran other tasks (an `await` inside it)."""


class _NoAwait:
    """Notices that the event loop ran while a transaction was open.

    A callback scheduled at the start runs only once control returns to the loop, so if it ran
    by the end, something inside awaited. One call_soon per transaction; outside a running loop
    (the shell's prompt, migrations, scripts) there is nothing to interleave and it does nothing.
    """

    __slots__ = ("_handle", "ran")

    def __init__(self) -> None:
        self.ran = False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._handle: asyncio.Handle | None = None
        else:
            self._handle = loop.call_soon(self._mark)

    def _mark(self) -> None:
        self.ran = True

    def check(self) -> None:
        if self.ran:
            raise AwaitInTransaction(
                "the event loop ran inside a transaction (an await in `with store.transaction()`); "
                "finish the writes first, then await"
            )

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()


@dataclass(frozen=True, slots=True)
class _Waiting:
    """A task's work waiting for the turn's group commit (`Store.run`)."""

    work: Callable[[Database], Any]
    done: asyncio.Future[Any]
    context: contextvars.Context


def _settle(outcomes: list[tuple[asyncio.Future[Any], BaseException | None, Any]]) -> None:
    """Tell each waiting task its result or its error (not one whose task was cancelled)."""
    for done, error, result in outcomes:
        if done.done():  # cancelled after its work ran: its writes stand, as if cancelled later
            continue
        if error is None:
            done.set_result(result)
        elif isinstance(error, StopIteration):  # a future refuses it; a coroutine would convert it
            done.set_exception(RuntimeError(f"the work raised StopIteration: {error!r}"))
        else:
            done.set_exception(error)


class StoreUnavailable(Exception):
    """A write now would be lost: the file was deleted or replaced under the open connection."""


# What either engine raises when a statement fails; code that only reports it catches these.
DB_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)


def is_storage_error(exc: BaseException) -> bool:
    """True for a full disk, a read-only or vanished file, a lock timeout, a lost connection:
    worth "try again"."""
    if isinstance(exc, psycopg.Error):
        return postgres.is_storage_error(exc)
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF in STORAGE_ERRORS


def error_name(exc: BaseException) -> str:
    """A short code for a log line: SQLite's error name, PostgreSQL's SQLSTATE, or the type."""
    return str(getattr(exc, "sqlite_errorname", None) or getattr(exc, "sqlstate", None) or type(exc).__name__)


def _cannot_use(path: Path | str, exc: OSError | sqlite3.Error) -> StoreError:
    if isinstance(exc, FileExistsError):  # mkdir found a file where the directory should be
        reason = "a file is in the way of its directory"
    elif isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
    else:
        reason = str(exc)
    return StoreError(f"cannot create or write the database at {path} (CANDOR_DB): {reason}")


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class Store:
    """Owns the connection; `transaction()` is the only way a command writes."""

    engine = "sqlite"

    def __init__(self, db: Database, path: Path | None = None) -> None:
        self.db = db
        self._after_commit: list[Callable[[], None]] = []
        self._after_write: list[Callable[[], None]] = []  # also after `call` work that changed rows
        self._failing: set[int] = set()  # ids of callbacks whose last run raised (logged once)
        self._waiting: list[_Waiting] = []  # for the group commit of this turn (`run`)
        self._waiting_loop: asyncio.AbstractEventLoop | None = None
        self.path = path
        # The file the connection holds, as (device, inode): SQLite keeps it open, so a path
        # that names another file (or none) means writes would go to a file nobody will read.
        self._file_id = _file_id(path) if path is not None else None
        self._fenced = False
        self._health = "ok"
        self.checkpoint_lock = threading.Lock()  # one checkpoint of this file at a time
        # Held by this connection's writes (re-entrant: `call` work may open a transaction) and by
        # the background checkpoint while it catches the log up (bot/checkpoints.py): a write waits
        # on it and goes on the moment it is free.
        self.writing = threading.RLock()

    async def values_logged(self) -> str | None:
        """Why the database's own log would keep the values of Candor's statements: SQLite keeps
        no such log."""
        return None

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` after every committed transaction (the outbox uses it to wake up)."""
        self._after_commit.append(callback)

    def on_write(self, callback: Callable[[], None]) -> None:
        """Run `callback` after every committed transaction and every `call` that changed rows
        (the log's checkpoints watch both; it must not raise)."""
        self._after_write.append(callback)

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One atomic unit of work, committed when the block ends (a savepoint when nested).

        No `await` may happen inside: the connection is shared, so another task's commit (the
        outbox dispatcher's, say) would land in this transaction, or this one's rollback undo it.
        Such a block raises AwaitInTransaction and is rolled back.
        """
        guard = _NoAwait()
        try:
            with self._atomic():
                yield self.db
                guard.check()
        finally:
            guard.close()

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        """A savepoint when nested; else BEGIN IMMEDIATE, which takes the write lock up front, and
        the after-commit callbacks once committed. With a plain (deferred) BEGIN, a transaction
        that reads and then writes fails at its first write (SQLITE_BUSY_SNAPSHOT) whenever another
        process committed in between; taking the lock first makes the other process wait its turn
        instead (the busy timeout)."""
        if self.db.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        with self.writing:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self.db.conn.in_transaction:
                    self.db.conn.rollback()
                raise
            self.db.conn.commit()
        self._committed()

    async def run(self, work: Callable[[Database], T], *, alone: bool = False) -> T:
        """Run `work` (a plain function of the transaction) in one transaction, and return what it
        returns. Practices do their database work this way: the function cannot await, so no other
        task ever sees a half-done transaction, and an engine with network round trips can run it
        off the event loop.

        On SQLite, the work of every task that asks within one turn of the event loop shares one
        commit (group commit), so under load a request's share of the log's pages and the file
        locks shrinks. Each work runs in its own savepoint and in its own task's context (its
        request id in the logs), so its error undoes its own writes only, and no task hears
        "done" before the commit that holds its writes. `alone=True` commits this work by itself,
        at once: an anonymous author's write must share no commit with anybody's named writes
        (handlers/anonymity)."""
        if alone or self.db.conn.in_transaction:
            with self._atomic():
                return work(self.db)
        loop = asyncio.get_running_loop()
        if self._waiting_loop is not loop:  # what a closed loop left waiting will never be asked for
            self._waiting, self._waiting_loop = [], loop
        done: asyncio.Future[T] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._commit_waiting, context=contextvars.Context())
        self._waiting.append(_Waiting(work, done, contextvars.copy_context()))
        return await done

    def _commit_waiting(self) -> None:
        """Commit the work that waits, in one transaction, and tell each task its outcome."""
        batch = [waiting for waiting in self._waiting if not waiting.done.cancelled()]
        self._waiting = []
        outcomes: list[tuple[asyncio.Future[Any], BaseException | None, Any]] = []
        try:
            if batch:
                with self._atomic():
                    if len(batch) == 1:  # the quiet case: no savepoint needed
                        (one,) = batch
                        outcomes.append((one.done, None, one.context.run(one.work, self.db)))
                    else:
                        for waiting in batch:
                            error, result = waiting.context.run(self._in_savepoint, waiting.work)
                            outcomes.append((waiting.done, error, result))
        except BaseException as exc:  # BEGIN or COMMIT failed, or a work's error ended them all
            _settle([(waiting.done, exc, None) for waiting in batch])
            if not isinstance(exc, Exception):
                raise
            return
        _settle(outcomes)

    def _in_savepoint(self, work: Callable[[Database], T]) -> tuple[Exception | None, T | None]:
        """One task's share of a group commit: its error rolls back its own writes only. A
        savepoint that can no longer be undone or released means SQLite ended the group's
        transaction (as it does on a full disk), even if the work went on after it: then the
        whole group fails, and no task hears "done"."""
        self.db.execute("SAVEPOINT candor_run")
        try:
            result = work(self.db)
        except Exception as exc:
            try:
                self.db.execute("ROLLBACK TO candor_run")
                self.db.execute("RELEASE candor_run")
            except sqlite3.Error:
                raise exc from None
            return exc, None
        self.db.execute("RELEASE candor_run")
        return None, result

    async def read(self, work: Callable[[Database], T]) -> T:
        """Run `work` for reading only (no transaction of its own); see `run`."""
        return work(self.db)

    async def call(self, work: Callable[[Database], T]) -> T:
        """Run `work(store.db)` as code written against the connection expects: its statements
        autocommit, its own `db.atomic()` blocks are its transactions, and no after-commit callback
        runs (the outbox's dispatcher records its sends this way without waking itself). In place
        on SQLite; off the event loop on PostgreSQL."""
        with self.writing:
            changes = self._changes()
            done = work(self.db)
            wrote = changes is not None and self._changes() not in (None, changes)
        if wrote:
            self._run_callbacks(self._after_write)
        return done

    def _changes(self) -> int | None:
        """Rows changed through this connection so far; None once it is closed (then `work`
        itself meets the closed connection, as code written against the connection expects)."""
        try:
            return self.db.conn.total_changes
        except sqlite3.ProgrammingError:
            return None

    def _committed(self) -> None:
        self._run_callbacks(self._after_write)
        self._run_callbacks(self._after_commit)

    def _run_callbacks(self, callbacks: list[Callable[[], None]]) -> None:
        """Run after-commit (or after-write) callbacks. The data is stored by now, so one that
        raises must not make the caller report a failure ("nothing was saved"): it is logged once,
        and the rest run."""
        for callback in callbacks:
            key = id(callback)
            try:
                callback()
            except Exception:
                if key not in self._failing:
                    self._failing.add(key)
                    log.exception("an after-commit callback failed; the transaction is committed")
            else:
                self._failing.discard(key)

    def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database file and truncate it to zero bytes, so it no
        longer shows the order of earlier commits. Never waits: False if a reader (a backup, an
        sqlite3 shell) holds the log; the next call tries again. A background pass in flight
        (bot/checkpoints.py) is waited for, a few milliseconds (10-20 ms for a RESTART against
        another process): it would make this one fail, and leave an anonymous write's commit in
        the log."""
        with self.checkpoint_lock:
            return self._truncate_log()

    def _truncate_log(self) -> bool:
        self.db.execute("PRAGMA busy_timeout=0")
        try:
            busy = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.OperationalError:
            busy = 1
        finally:
            self.db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return busy == 0

    def check_file(self) -> None:
        """Raise StoreUnavailable unless the path still names the file the connection holds.

        One stat, cheap enough for every request. While it fails the connection is read-only,
        so the outbox and the scheduler do not write into the deleted file either.
        """
        if self._file_id is None or self.path is None:
            return
        if _file_id(self.path) == self._file_id:
            if self._fenced:
                self.db.execute("PRAGMA query_only=OFF")
                self._fenced = False
            return
        if not self._fenced and not self.db.conn.in_transaction:
            self.db.execute("PRAGMA query_only=ON")
            self._fenced = True
        raise StoreUnavailable("the database file was deleted or replaced while Candor had it open")

    def heartbeat(self) -> None:
        """Commit a real write, so a full disk or a read-only file shows before a request fails."""
        if self.db.conn.in_transaction:  # a transaction is open across an await: not ours to commit
            return
        with self.db.atomic():
            self.db.execute(
                "insert into heartbeat (id, beats) values (1, 1) "
                "on conflict (id) do update set beats = beats + 1"
            )

    def health(self) -> str:
        """The database's state for /healthz: ok, replaced (the path names another file or none)
        or unwritable. A change is logged once, not on every check."""
        error = None
        try:
            self.check_file()
            self.heartbeat()
            state = "ok"
        except StoreUnavailable:
            state = "replaced"
        except sqlite3.Error as exc:
            state, error = "unwritable", getattr(exc, "sqlite_errorname", type(exc).__name__)
        return self._record_health(state, error)

    def _record_health(self, state: str, error: str | None) -> str:
        """Keep the state for /healthz; log only its changes, so a failing disk is one line."""
        if state != self._health:
            if state == "ok":
                log.info("the database takes writes again")
            else:
                log.error("the database cannot be written", extra={"state": state, "error": error})
        self._health = state
        return state

    def close(self) -> None:
        self.db.close()


def unknown_migrations(db: Database) -> list[str]:
    known = {m.name for m in migrations._migrations}
    return [m.name for m in migrations.applied(db) if m.name not in known]


def open_store(path: Path | str, *, migrate: bool = True) -> Store:
    """Open (creating if needed) the database, refuse a newer schema, apply migrations, and prove
    a write commits; StoreError (one line) if the file cannot be created or written.

    `path` is a SQLite file, or a `postgresql://` URL for the PostgreSQL engine."""
    if postgres.is_url(path):
        return open_postgres(str(path), migrate=migrate)
    try:
        return _open_store(path, migrate=migrate)
    except (OSError, sqlite3.Error) as exc:
        raise _cannot_use(path, exc) from None


@contextmanager
def _opening(path: Path | str) -> Iterator[None]:
    """Processes opening one file take turns, for the moment they set its journal mode and apply
    migrations: two new Candor processes racing on a fresh file would otherwise meet a locked
    file mid-switch to WAL, or both try to create the same table. Once open, they share the file
    (transactions and claims through rows do the rest)."""
    if str(path) == ":memory:":
        yield
        return
    lock_path = Path(path).with_name(Path(path).name + ".lock")
    with open(lock_path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        yield


def _open_store(path: Path | str, *, migrate: bool) -> Store:
    in_memory = str(path) == ":memory:"
    if not in_memory:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    with _opening(path):
        return _open_locked(path, migrate=migrate, in_memory=in_memory)


def _open_locked(path: Path | str, *, migrate: bool, in_memory: bool) -> Store:
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
    # (While serving, bot/checkpoints.py empties the log itself and lets it be reused.)
    db.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
    # Deleted and overwritten content is zeroed, not left in free pages for anyone to read.
    db.execute("PRAGMA secure_delete=ON")
    db.execute("PRAGMA foreign_keys=ON")
    if migrate:
        migrations.apply(db)
    store = Store(db, None if in_memory else Path(path))
    if migrate:
        store.heartbeat()
    return store


def claim_once(db: Database, key: str, now: float) -> bool:
    """Record a delivery key inside the caller's transaction; False if it was seen before."""
    cursor = db.execute("insert into processed (key, at) values (?, ?) on conflict do nothing", [key, now])
    return cursor.rowcount == 1


def shown_database(target: Path | str) -> str:
    """A database as messages name it: the file, or the URL without its password."""
    return postgres.shown(str(target)) if postgres.is_url(target) else str(target)


def serialize(tx: Database, key: str) -> None:
    """Hold `key` until the transaction ends, so a read-then-write rule (a daily cap) holds across
    processes. SQLite's transactions already hold the write lock from BEGIN IMMEDIATE; on
    PostgreSQL this is an advisory lock for the transaction. Never with an anonymous author's id."""
    lock = getattr(tx, "serialize", None)
    if lock is not None:
        lock(key)


# --- PostgreSQL ------------------------------------------------------------------------------


class PostgresStore(Store):
    """The Store on a pool of PostgreSQL connections (bot/postgres.py). `run` and `read` run their
    function in a worker thread with its own pooled connection; `transaction()` and `store.db` still
    work on the event loop's thread, for the shell, scripts and tests."""

    engine = "postgresql"

    def __init__(self, pool: Any, dialect: postgres.Dialect, url: str) -> None:
        self.pooled = postgres.PooledDatabase(pool, dialect)
        super().__init__(cast(Database, self.pooled), None)
        self.url = url
        self._worker = postgres.Worker(postgres.POOL_SIZE)

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        with self.pooled.session() as session:
            nested = session.conn.in_transaction
            guard = _NoAwait()
            try:
                with session.atomic():
                    yield session.as_database()
                    guard.check()
            finally:
                guard.close()
        if not nested:
            self._committed()

    def _run(self, work: Callable[[Database], T]) -> T:
        def once() -> T:
            with self.pooled.session() as session, session.atomic():
                return work(session.as_database())

        return postgres.retrying(once)

    def _read(self, work: Callable[[Database], T]) -> T:
        with self.pooled.session() as session:
            return work(session.as_database())

    async def run(self, work: Callable[[Database], T], *, alone: bool = False) -> T:
        """As on SQLite, but off the event loop: a thread with a pooled connection runs `work` in a
        transaction of its own, always `alone` (again, should PostgreSQL pick it to lose a
        deadlock)."""
        result = await self._worker.call(self._run, work)
        self._committed()
        return result

    async def read(self, work: Callable[[Database], T]) -> T:
        return await self._worker.call(self._read, work)

    async def call(self, work: Callable[[Database], T]) -> T:
        return await self._worker.call(work, self.db)

    async def values_logged(self) -> str | None:
        """Why the server's log would keep the values of Candor's statements, or None: the pulse
        asks before any statement that names a member, since a logged "who" beside a logged
        answer would link them (see the README on PostgreSQL's logs)."""
        row = await self.read(lambda db: db.execute(postgres.VALUES_LOGGED_SQL).fetchone())
        return postgres.values_logged([str(v) for v in row or ()])

    def checkpoint(self) -> bool:
        """SQLite's WAL checkpoint; PostgreSQL's own WAL is the server's (see the README)."""
        return True

    def check_file(self) -> None:
        return

    def heartbeat(self) -> None:
        with self.pooled.atomic():
            self.pooled.execute(
                "insert into heartbeat (id, beats) values (1, 1) "
                "on conflict (id) do update set beats = heartbeat.beats + 1"
            )

    def health(self) -> str:
        error = None
        try:
            self.heartbeat()
            state = "ok"
        except psycopg.Error as exc:
            state, error = "unwritable", error_name(exc)
        return self._record_health(state, error)

    def close(self) -> None:
        self._worker.close()
        self.pooled.close()


def open_postgres(url: str, *, migrate: bool = True) -> PostgresStore:
    """The PostgreSQL engine: refuse a newer schema, apply migrations, open the pool."""
    where = postgres.shown(url)
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=postgres.CONNECT_TIMEOUT_S) as conn:
            newer = pg_schema.unknown(conn)
            if newer:
                raise SchemaTooNewError(
                    f"the database at {where} has migrations this version of Candor does not know "
                    f"({', '.join(newer)}); upgrade Candor or use another CANDOR_DATABASE_URL"
                )
            if migrate:
                pg_schema.apply(conn)
            dialect = postgres.Dialect(pg_schema.id_tables(conn))
        pool = postgres.connect(url)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"cannot use the database at {where} (CANDOR_DATABASE_URL): {reason}") from None
    store = PostgresStore(pool, dialect, url)
    if migrate:
        store.heartbeat()
    return store
