"""`candor copy-db`: move a SQLite installation to PostgreSQL, every table, counts checked after.

Both ends are brought to this Candor's schema first (the same migrations), so the tables and columns
match by name. Rows go parents before children (foreign keys), with their ids as they were; each
identity column's sequence then continues after the largest id. The whole copy is one PostgreSQL
transaction: a failure leaves the target as it was.
"""

from __future__ import annotations

import graphlib
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bot import postgres
from bot.store import StoreError, open_store

SKIPPED = {"_sqlite_migrations"}  # each end keeps its own schema history
UNTRACKED = {"heartbeat"}  # the health check's own write: it says nothing about the target holding data
BATCH = 1000


class CopyRefused(StoreError):
    """The copy did not start or did not finish; the target is unchanged. One line."""


def _tables(source: sqlite3.Connection) -> list[str]:
    """The source's tables, parents before the tables that refer to them."""
    names = [
        name
        for (name,) in source.execute("select name from sqlite_master where type = 'table' order by name")
        if name not in SKIPPED and not name.startswith("sqlite_")
    ]
    order: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name in names:
        parents = {row[2] for row in source.execute(f'pragma foreign_key_list("{name}")')}
        order.add(name, *(parent for parent in parents if parent != name and parent in names))
    return list(order.static_order())


def _columns(source: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in source.execute(f'pragma table_info("{table}")')]


def _count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0


def copy(source_path: Path, target_url: str, *, replace: bool = False) -> dict[str, int]:
    """Copy every table of the SQLite file into the PostgreSQL database; rows copied per table."""
    if not postgres.is_url(target_url):
        raise CopyRefused(f"--to must be a postgresql:// URL, not {target_url[:60]!r}")
    if not Path(source_path).is_file():
        raise CopyRefused(f"--from: no SQLite database at {source_path}")
    open_store(source_path).close()  # the same schema history on both ends
    open_store(target_url).close()
    where = postgres.shown(target_url)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        tables = _tables(source)
        with psycopg.connect(target_url) as conn:
            missing = [t for t in tables if _columns(source, t) and not _exists(conn, t)]
            if missing:
                raise CopyRefused(f"the database at {where} has no table {missing[0]}")
            filled = [t for t in tables if t not in UNTRACKED and _count(conn, t)]
            if filled and not replace:
                raise CopyRefused(
                    f"the database at {where} already has data (table {filled[0]}); "
                    "copy into an empty database, or pass --replace to empty it first"
                )
            if filled or any(_count(conn, t) for t in tables):
                conn.execute(
                    sql.SQL("truncate {} cascade").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
                )
            copied = {table: _copy_table(source, conn, table) for table in tables}
            for table, rows in copied.items():
                got = _count(conn, table)
                if got != rows:  # checked before the commit: a short copy leaves nothing behind
                    raise CopyRefused(
                        f"table {table}: {rows} rows in the file, {got} in the copy; nothing kept"
                    )
            _continue_identities(conn)
        return copied
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CopyRefused(f"cannot copy into the database at {where}: {reason}") from None
    finally:
        source.close()


def _exists(conn: psycopg.Connection[Any], table: str) -> bool:
    row = conn.execute(
        "select to_regclass(%s) is not null", [sql.Identifier(table).as_string(conn)]
    ).fetchone()
    return bool(row and row[0])


def _copy_table(source: sqlite3.Connection, conn: psycopg.Connection[Any], table: str) -> int:
    columns = _columns(source, table)
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    select = f'select {", ".join(chr(34) + c + chr(34) for c in columns)} from "{table}"'
    copied = 0
    with (
        conn.cursor() as cur,
        cur.copy(sql.SQL("copy {} ({}) from stdin").format(sql.Identifier(table), names)) as out,
    ):
        for row in source.execute(select):
            out.write_row(row)
            copied += 1
    return copied


def _continue_identities(conn: psycopg.Connection[Any]) -> None:
    """New rows get ids after the copied ones."""
    identities = conn.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = current_schema() and is_identity = 'YES'"
    ).fetchall()
    for table, column in identities:
        conn.execute(
            sql.SQL(
                "select setval(pg_get_serial_sequence({}, {}), coalesce(max({}), 0) + 1, false) from {}"
            ).format(
                sql.Literal(sql.Identifier(table).as_string(conn)),
                sql.Literal(column),
                sql.Identifier(column),
                sql.Identifier(table),
            )
        )
