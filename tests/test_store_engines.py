"""Two engines behind one Store: the same schema from the same migrations, the same SQL surface
(`?` and `:name` placeholders, `lastrowid`, rowcounts), and `candor migrate`/`serve` on PostgreSQL.

The PostgreSQL cases run on a throw-away server (tests/support/postgres.py) and skip, with one
line in the summary, where PostgreSQL is not installed."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import psycopg
import pytest

from bot import pg_schema, postgres
from bot.migrations import candor as migrations
from bot.postgres import Dialect
from bot.store import SchemaTooNewError, StoreError, open_store
from tests.support.processes import CANDOR, Serve, candor_env

pg = pytest.mark.postgresql

# SQLite's declared types as sqlite-utils writes them, and what PostgreSQL calls the same.
SAME_TYPE = {"INTEGER": "bigint", "TEXT": "text", "FLOAT": "double precision", "REAL": "double precision"}


def sqlite_schema(path: Path) -> dict[str, list[tuple[str, str, bool, bool]]]:
    store = open_store(path)
    tables = [
        name
        for (name,) in store.db.execute(
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'"
        ).fetchall()
    ]
    schema = {}
    for table in tables:
        info = store.db.execute(f"pragma table_info([{table}])").fetchall()
        schema[table] = sorted(
            (name, SAME_TYPE[kind], bool(notnull) or pk > 0, pk > 0) for _, name, kind, notnull, _, pk in info
        )
    store.close()
    return schema


def postgres_schema(url: str) -> dict[str, list[tuple[str, str, bool, bool]]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            select c.table_name, c.column_name, c.data_type, c.is_nullable = 'NO',
              exists (select 1 from information_schema.key_column_usage k
                      join information_schema.table_constraints t using (constraint_name, table_name)
                      where t.constraint_type = 'PRIMARY KEY' and k.table_name = c.table_name
                        and k.column_name = c.column_name)
            from information_schema.columns c where c.table_schema = 'public'
            """
        ).fetchall()
    schema: dict[str, list[tuple[str, str, bool, bool]]] = {}
    for table, column, kind, notnull, pk in rows:
        schema.setdefault(table, []).append((column, kind, notnull, pk))
    return {table: sorted(columns) for table, columns in schema.items()}


def sqlite_indexes(path: Path) -> set[str]:
    store = open_store(path)
    rows = store.db.execute(
        "select name from sqlite_master where type = 'index' and name not like 'sqlite_autoindex%'"
    ).fetchall()
    store.close()
    return {name[:63] for (name,) in rows}  # PostgreSQL keeps the first 63 bytes of a name


def postgres_indexes(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select indexname from pg_indexes where schemaname = 'public' and indexname not like '%_pkey'"
        ).fetchall()
    return {name for (name,) in rows}


@pg
def test_both_engines_end_with_the_same_tables_columns_and_indexes(tmp_path, postgres_server):
    url = postgres_server.new_database(migrated=False)
    open_store(url).close()
    assert postgres_schema(url) == sqlite_schema(tmp_path / "s.db")
    assert postgres_indexes(url) == sqlite_indexes(tmp_path / "s.db")
    with psycopg.connect(url) as conn:
        assert pg_schema.applied(conn) == [m.name for m in migrations._migrations]


@pg
def test_an_older_postgresql_database_is_upgraded_and_keeps_its_rows(postgres_server):
    url = postgres_server.new_database(migrated=False)
    with psycopg.connect(url, autocommit=True) as conn:
        pg_schema.apply(conn, stop_before="m003_kudos")  # what an older Candor left behind
        conn.execute("insert into processed (key, at) values ('kept', 1.5)")
        assert "m003_kudos" not in pg_schema.applied(conn)
    store = open_store(url)
    assert store.db.execute("select at from processed where key = ?", ["kept"]).fetchone() == (1.5,)
    assert store.db.execute("select count(*) from kudos").fetchone() == (0,)
    store.close()
    open_store(url).close()  # applying twice changes nothing
    with psycopg.connect(url) as conn:
        assert pg_schema.applied(conn) == [m.name for m in migrations._migrations]


@pg
def test_a_postgresql_database_from_a_newer_candor_is_refused_untouched(postgres_server):
    url = postgres_server.new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "insert into _sqlite_migrations (migration_set, name, applied_at) values ('candor', 'm999_future', 'x')"
        )
        before = conn.execute("select count(*) from _sqlite_migrations").fetchone()
    with pytest.raises(SchemaTooNewError, match=r"m999_future.*CANDOR_DATABASE_URL"):
        open_store(url)
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from _sqlite_migrations").fetchone() == before


@pg
def test_an_unreachable_postgresql_is_one_line_without_the_password(postgres_server):
    url = f"postgresql://candor:s3cret@127.0.0.1:{postgres_server.port}/no_such_database"
    with pytest.raises(StoreError) as refused:
        open_store(url)
    message = str(refused.value)
    assert "no_such_database" in message and "CANDOR_DATABASE_URL" in message
    assert "s3cret" not in message and "\n" not in message


# --- the SQL surface practices use, on either engine ------------------------------------------


async def test_placeholders_rowcounts_and_lastrowid_mean_the_same_on_both_engines(database):
    store = open_store(database)

    def write(tx):
        first = tx.execute(
            "insert into kudos (platform, workspace, conversation, giver, receiver, behaviour, message) "
            "values (?, 'W', 'C', 'g', 'r', 'b', ?)",
            ["stub", "50% done; what? 'quoted'"],
        ).lastrowid
        second = tx.execute(
            "insert into kudos (platform, workspace, conversation, giver, receiver, behaviour, message) "
            "values (:p, 'W', 'C', 'g', 'r', 'b', 'x')",
            {"p": "stub"},
        ).lastrowid
        claimed = tx.execute(
            "insert into processed (key, at) values (?, ?) on conflict do nothing", ["k", 1.0]
        ).rowcount
        again = tx.execute(
            "insert into processed (key, at) values (?, ?) on conflict do nothing", ["k", 2.0]
        ).rowcount
        updated = tx.execute("update kudos set undone_at = ? where giver = ?", [3.0, "g"]).rowcount
        return first, second, claimed, again, updated

    first, second, claimed, again, updated = await store.run(write)
    assert (second - first, claimed, again, updated) == (1, 1, 0, 2)

    def read(db):
        return (
            db.execute("select message from kudos where id = ?", [first]).fetchone(),
            db.execute("select message from kudos where message like '50%'").fetchall(),
            db.execute("select count(*), sum(undone_at), avg(undone_at) from kudos").fetchone(),
            db.execute("select key from processed where at = :at", {"at": 1.0}).fetchall(),
            db.execute("select 1 from processed where key = 'none'").fetchone(),
        )

    one, like, sums, keys, none = await store.read(read)
    assert one == ("50% done; what? 'quoted'",)
    assert like == [("50% done; what? 'quoted'",)]
    assert sums == (2, 6.0, 3.0) and keys == [("k",)] and none is None
    store.close()


async def test_a_failed_transaction_leaves_nothing_behind_on_both_engines(database):
    store = open_store(database)

    def half(tx):
        tx.execute("insert into processed (key, at) values ('half', 1.0)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await store.run(half)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.execute("insert into processed (key, at) values ('other half', 1.0)")
        raise RuntimeError("boom")
    assert store.db.execute("select count(*) from processed").fetchone() == (0,)
    store.close()


async def test_commits_wake_whoever_listens_on_both_engines(database):
    store = open_store(database)
    woken: list[bool] = []
    store.on_commit(lambda: woken.append(True))
    await store.run(lambda tx: tx.execute("insert into processed (key, at) values ('a', 1.0)"))
    with store.transaction() as tx:
        tx.execute("insert into processed (key, at) values ('b', 1.0)")
    assert woken == [True, True]
    assert store.health() == "ok"
    store.close()


def test_the_dialect_translates_only_outside_quoted_text():
    dialect = Dialect(frozenset({"outbox"}))
    text, returning = dialect.translate(
        "select r.user, '?:x%' from outbox indexed by idx_a where user = ? and at < :now and t = 'a'::text"
    )
    assert (
        text
        == "select r.\"user\", '?:x%%' from outbox  where \"user\" = %s and at < %(now)s and t = 'a'::text"
    )
    assert not returning
    assert dialect.translate("insert into outbox (a) values (?);") == (
        "insert into outbox (a) values (%s) returning id",
        True,
    )
    assert dialect.translate("insert into processed (key) values (?)")[1] is False  # no id column
    assert dialect.translate("insert into outbox (a) values (?) returning id")[1] is False


# --- the command line on PostgreSQL -----------------------------------------------------------


@pg
def test_candor_migrate_applies_the_schema_history_to_postgresql(tmp_path, postgres_server):
    url = postgres_server.new_database(migrated=False)
    done = subprocess.run(
        [*CANDOR, "migrate"],
        env=candor_env(tmp_path / "unused.db", CANDOR_DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"database at {url} is up to date"
    assert not (tmp_path / "unused.db").exists()
    with psycopg.connect(url) as conn:
        assert pg_schema.applied(conn) == [m.name for m in migrations._migrations]


@pg
def test_serve_refuses_a_newer_postgresql_schema_with_one_line(tmp_path, postgres_server):
    url = postgres_server.new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "insert into _sqlite_migrations (migration_set, name, applied_at) values ('candor', 'm999_x', '')"
        )
    with Serve(tmp_path / "unused.db", CANDOR_DATABASE_URL=url) as serve:
        assert serve.exit_code() == 2
        assert serve.stderr().strip().splitlines() == [
            f"candor: the database at {url} has migrations this version of Candor does not know (m999_x); "
            "upgrade Candor or use another CANDOR_DATABASE_URL"
        ]


@pg
def test_two_serves_share_one_postgresql_database_no_lock_is_taken(tmp_path, postgres_server):
    url = postgres_server.new_database()
    with (
        Serve(tmp_path / "a.db", CANDOR_DATABASE_URL=url) as first,
        Serve(tmp_path / "a.db", CANDOR_DATABASE_URL=url) as second,
    ):
        assert first.wait_until_listening()[0] == 200
        assert second.wait_until_listening()[0] == 200
    assert not (tmp_path / "a.db.lock").exists()


def test_a_url_that_is_not_postgresql_is_refused(tmp_path):
    done = subprocess.run(
        [*CANDOR, "migrate"],
        env=candor_env(tmp_path / "x.db", CANDOR_DATABASE_URL="mysql://x@y/z"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "CANDOR_DATABASE_URL must start with postgresql://" in done.stderr


@pg
async def test_store_run_on_postgresql_does_not_hold_the_event_loop(postgres_server):
    store = open_store(postgres_server.new_database())
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    await store.run(lambda tx: tx.execute("select pg_sleep(0.2)"))
    task.cancel()
    store.close()
    assert ticks > 10  # the loop kept running other tasks while the statement waited


@pg
async def test_a_database_call_on_the_event_loop_while_serving_is_counted_and_named(postgres_server):
    """What the PostgreSQL tests' guard (tests/conftest.py) relies on: a round trip made on the
    loop's thread while serving is counted under its place; one through run/read is not, nor one
    made by code that is not serving (a test, the shell)."""
    store = open_store(postgres_server.new_database())
    postgres.on_loop_calls.clear()

    async def serving() -> None:
        postgres.SERVING.set(True)  # as a request's middleware sets it, in this task only
        await store.read(lambda db: db.execute("select 1").fetchone())
        await store.run(lambda tx: tx.execute("select 1"))
        store.db.execute("select 2")
        with store.transaction() as tx:
            tx.execute("select 3")

    try:
        await asyncio.create_task(serving())
        store.db.execute("select 4")  # the test's own read: not serving
        found = dict(postgres.on_loop_calls)
    finally:
        postgres.on_loop_calls.clear()
        store.close()
    assert found == {"tests/test_store_engines.py:serving": 2}


DEFAULTS = {
    "log_statement": "none",
    "log_min_duration_statement": "-1",
    "log_min_duration_sample": "-1",
    "log_statement_sample_rate": "1",
    "log_transaction_sample_rate": "0",
    "log_parameter_max_length": "-1",
    "log_parameter_max_length_on_error": "0",
}


@pytest.mark.parametrize(
    ("changed", "logged"),
    [
        ({}, None),
        ({"log_statement": "ddl"}, None),
        ({"log_statement": "mod"}, "log_statement = mod"),
        ({"log_statement": "all", "log_parameter_max_length": "0"}, None),
        ({"log_statement": "all", "log_parameter_max_length": "64B"}, "log_statement = all"),
        ({"log_min_duration_statement": "0"}, "log_min_duration_statement = 0"),
        ({"log_min_duration_statement": "250ms"}, "log_min_duration_statement = 250ms"),
        ({"log_min_duration_sample": "100ms", "log_statement_sample_rate": "0"}, None),
        ({"log_min_duration_sample": "100ms"}, "log_min_duration_sample = 100ms"),
        ({"log_transaction_sample_rate": "0.01"}, "log_transaction_sample_rate = 0.01"),
        ({"log_parameter_max_length_on_error": "-1"}, "log_parameter_max_length_on_error = -1"),
    ],
)
def test_the_server_settings_that_would_log_the_values_candor_sends(changed, logged):
    from bot.postgres import LOG_SETTINGS, values_logged

    reason = values_logged([(DEFAULTS | changed)[name] for name in LOG_SETTINGS])
    assert (reason is None) == (logged is None)
    assert logged is None or reason.startswith(logged)
