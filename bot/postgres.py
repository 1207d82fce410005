"""The PostgreSQL engine: the same Store, on a pool of psycopg 3 connections.

Practices see what they see on SQLite: `tx.execute(sql, params)` with `?` (or `:name`)
placeholders, and a cursor with `fetchone()`, `fetchall()`, `rowcount` and `lastrowid`. This module
translates the placeholders, drops SQLite's planner hints (`indexed by`), and adds `returning id` to
an insert into a table with an `id` column, so `lastrowid` means what it means on SQLite.

`Store.run` and `Store.read` run their function off the event loop, in a thread with a pooled
connection: a database across a network answers in a round trip, not in microseconds. A
transaction is READ COMMITTED: each statement sees what was committed before it, so a claim is a
conditional update that carries its whole condition, and the few read-then-write rules that must
hold across instances take a lock first (`bot.store.serialize`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

import psycopg
import psycopg.errors
from psycopg import conninfo
from psycopg.adapt import Loader
from psycopg_pool import ConnectionPool
from sqlite_utils import Database

log = logging.getLogger("candor.store")
T = TypeVar("T")

POOL_SIZE = 8  # connections (and threads) per Candor process
CONNECT_TIMEOUT_S = 10
# A transaction that lost a deadlock or a serialization check is run again: practices' work is a
# plain function of the transaction, so running it twice changes nothing twice.
RETRIES = 3
_RETRYABLE = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)
# SQLSTATE classes that mean "the database cannot take this now" rather than a bug of ours:
# connection exceptions, insufficient resources, operator intervention, a read-only transaction.
_STORAGE_CLASSES = ("08", "53", "57", "25006", "55P03", "57014")


# While Candor serves (requests, jobs, the dispatcher), a round trip to PostgreSQL made on the event
# loop's own thread stalls every other request: such calls are counted and named, once each in the
# log, so a test can show there are none. `Store.run`/`read` calls run in worker threads, where
# no loop is running; the shell, scripts and tests themselves are not serving.
SERVING: ContextVar[bool] = ContextVar("candor_serving", default=False)
on_loop_calls: Counter[str] = Counter()
_HERE = ("bot/postgres.py", "bot/store.py", "contextlib.py")
_ROOT = str(Path(__file__).resolve().parents[1]) + "/"  # places are shown from the project's root


def _caller() -> str:
    frame = sys._getframe(2)
    while frame.f_back is not None and frame.f_code.co_filename.endswith(_HERE):
        frame = frame.f_back
    return f"{frame.f_code.co_filename.removeprefix(_ROOT)}:{frame.f_code.co_name}"


def _check_off_loop() -> None:
    if SERVING.get() and asyncio._get_running_loop() is not None:
        where = _caller()
        if where not in on_loop_calls:
            log.warning("a database call ran on the event loop", extra={"where": where})
        on_loop_calls[where] += 1


def is_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def shown(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://…"
    host, db = parts.get("host", "localhost"), parts.get("dbname", "")
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{db}"


def is_storage_error(exc: BaseException) -> bool:
    """A lost connection, a full disk, a read-only server, a pool with no connection to give."""
    if isinstance(exc, psycopg.OperationalError) and not isinstance(exc, _RETRYABLE):
        return True
    state = getattr(exc, "sqlstate", None) or ""
    return isinstance(exc, psycopg.Error) and state.startswith(_STORAGE_CLASSES)


# --- the dialect -------------------------------------------------------------------------------

# Outside quoted text and comments: a `?`, a `:name`, a literal `%`, SQLite's `indexed by`, or the
# column name `user` (a reserved word in PostgreSQL, an ordinary name in SQLite).
_TOKENS = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|(\?)|(?<![:\w]):([A-Za-z_]\w*)|(%)|(\bindexed\s+by\s+\w+)"""
    r"""|\b(user)\b""",
    re.IGNORECASE,
)
_INSERT_INTO = re.compile(r"^\s*insert\s+into\s+(\w+)", re.IGNORECASE)
_RETURNING = re.compile(r"\breturning\b", re.IGNORECASE)


def _token(match: re.Match[str]) -> str:
    if match.group(1):
        return "%s"
    if match.group(2):
        return f"%({match.group(2)})s"
    if match.group(3):
        return "%%"
    if match.group(4):
        return ""
    if match.group(5):
        return '"user"'
    return match.group(0).replace("%", "%%")  # psycopg reads % even inside quoted text


class Dialect:
    """SQLite-flavoured SQL as psycopg takes it; cached, since the same statements come back."""

    def __init__(self, id_tables: frozenset[str]) -> None:
        self.id_tables = id_tables
        self._cache: dict[str, tuple[str, bool]] = {}

    def translate(self, sql: str) -> tuple[str, bool]:
        """The statement for psycopg, and whether `returning id` was added to it."""
        found = self._cache.get(sql)
        if found is None:
            text = _TOKENS.sub(_token, sql).rstrip().rstrip(";")
            insert = _INSERT_INTO.match(text)
            returning = bool(
                insert and insert.group(1).lower() in self.id_tables and not _RETURNING.search(text)
            )
            found = (text + " returning id" if returning else text, returning)
            if len(self._cache) < 4096:
                self._cache[sql] = found
        return found


def _params(params: Sequence[Any] | Mapping[str, Any] | None) -> Sequence[Any] | Mapping[str, Any] | None:
    # SQLite stores True as 1 and columns are integers: say so, or PostgreSQL compares int to bool.
    if params is None:
        return None
    if isinstance(params, Mapping):
        return {k: int(v) if isinstance(v, bool) else v for k, v in params.items()}
    return [int(v) if isinstance(v, bool) else v for v in params]


class NumericLoader(Loader):
    """sum() and avg() answer `numeric`: an int when whole, else a float, as SQLite gives them."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if "." in text or "e" in text.lower() or text == "NaN" else int(text)


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.adapters.register_loader("numeric", NumericLoader)


# --- cursors and connections ---------------------------------------------------------------


class Cursor:
    """What sqlite3's cursor offers practices, with the rows already read."""

    __slots__ = ("_at", "_rows", "description", "lastrowid", "rowcount")

    def __init__(
        self, rows: list[tuple[Any, ...]], rowcount: int, lastrowid: int | None, description: Any
    ) -> None:
        self._rows = rows
        self._at = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.description = description

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._at = self._rows[self._at :], len(self._rows)
        return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


def run_statement(
    conn: psycopg.Connection[Any],
    dialect: Dialect,
    sql: str,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
) -> Cursor:
    text, returning = dialect.translate(sql)
    cur = conn.execute(cast(Any, text), _params(params))
    rows = cur.fetchall() if cur.description is not None else []
    if returning:
        return Cursor([], cur.rowcount, rows[-1][0] if rows else None, None)
    return Cursor(rows, cur.rowcount, None, cur.description)


class _InTransaction:
    """`db.conn.in_transaction`, as the code written for sqlite3 asks it."""

    def __init__(self, conn: psycopg.Connection[Any] | None) -> None:
        self._conn = conn

    @property
    def in_transaction(self) -> bool:
        if self._conn is None:
            return False
        return self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE


class Session:
    """One pooled connection as a practice's `tx`: `execute` and `atomic` (a savepoint when nested)."""

    def __init__(self, conn: psycopg.Connection[Any], dialect: Dialect) -> None:
        self._conn = conn
        self._dialect = dialect
        self.conn = _InTransaction(conn)

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Cursor:
        return run_statement(self._conn, self._dialect, sql, params)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        with self._conn.transaction():
            yield

    def serialize(self, key: str) -> None:
        """Hold `key` until this transaction ends (bot.store.serialize)."""
        self.execute("select pg_advisory_xact_lock(hashtextextended(?, 0))", [key])

    def as_database(self) -> Database:
        # Practices annotate their transaction as sqlite-utils' Database and use only `execute`.
        return cast(Database, self)


class PooledDatabase:
    """`store.db` on PostgreSQL: inside a transaction on this thread, that transaction's
    connection; otherwise one statement on a pooled connection in autocommit."""

    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]], dialect: Dialect) -> None:
        self._pool = pool
        self._dialect = dialect
        self._local = threading.local()

    @property
    def current(self) -> Session | None:
        return cast(Session | None, getattr(self._local, "session", None))

    @property
    def conn(self) -> _InTransaction:
        session = self.current
        return session.conn if session else _InTransaction(None)

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Cursor:
        session = self.current
        if session is not None:
            return session.execute(sql, params)
        _check_off_loop()
        with self._pool.connection() as conn:
            return run_statement(conn, self._dialect, sql, params)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """This thread's transaction connection (a new one, or the one already open here)."""
        current = self.current
        if current is not None:
            yield current
            return
        _check_off_loop()
        with self._pool.connection() as conn:
            session = Session(conn, self._dialect)
            self._local.session = session
            try:
                yield session
            finally:
                self._local.session = None

    @contextmanager
    def atomic(self) -> Iterator[None]:
        with self.session() as session, session.atomic():
            yield

    def serialize(self, key: str) -> None:
        session = self.current
        if session is not None:
            session.serialize(key)

    def close(self) -> None:
        self._pool.close()


def connect(url: str, *, size: int = POOL_SIZE) -> ConnectionPool[psycopg.Connection[Any]]:
    """A pool of autocommit connections (transactions are explicit), ready or raising."""
    pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
        url,
        min_size=1,
        max_size=size,
        kwargs={
            "autocommit": True,
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": "candor",
        },
        configure=_configure,
        open=False,
        name="candor",
    )
    pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
    return pool


class Worker:
    """The threads `Store.run` sends work to: one per pooled connection, so none waits for one."""

    def __init__(self, size: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="candor-db")

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(fn, *args))

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def retrying(fn: Callable[[], T]) -> T:
    """Run a transaction again when PostgreSQL chose it to lose a deadlock or serialization check."""
    for attempt in range(RETRIES):
        try:
            return fn()
        except _RETRYABLE:
            if attempt == RETRIES - 1:
                raise
            log.info("a transaction lost a deadlock or serialization check; running it again")
    raise AssertionError("unreachable")


# The server settings under which PostgreSQL writes a statement's bound values to its log. Values
# come back from current_setting() with their units ("250ms", "64B"), "-1" meaning "off" for the
# durations and "in full" for the lengths.
LOG_SETTINGS = (
    "log_statement",
    "log_min_duration_statement",
    "log_min_duration_sample",
    "log_statement_sample_rate",
    "log_transaction_sample_rate",
    "log_parameter_max_length",
    "log_parameter_max_length_on_error",
)
VALUES_LOGGED_SQL = "select " + ", ".join(f"current_setting('{name}')" for name in LOG_SETTINGS)


def values_logged(settings: Sequence[str]) -> str | None:
    """Why the server log would keep the values Candor sends with a statement, or None."""
    got = dict(zip(LOG_SETTINGS, settings, strict=True))
    if got["log_parameter_max_length_on_error"] != "0":
        return f"log_parameter_max_length_on_error = {got['log_parameter_max_length_on_error']}"
    if got["log_parameter_max_length"] == "0":
        return None  # statements may be logged, but never with their values
    sampled = got["log_min_duration_sample"] != "-1" and float(got["log_statement_sample_rate"]) > 0
    for name, on in (
        ("log_statement", got["log_statement"] in ("mod", "all")),
        ("log_min_duration_statement", got["log_min_duration_statement"] != "-1"),
        ("log_min_duration_sample", sampled),
        ("log_transaction_sample_rate", float(got["log_transaction_sample_rate"]) > 0),
    ):
        if on:
            return f"{name} = {got[name]} with log_parameter_max_length = {got['log_parameter_max_length']}"
    return None
