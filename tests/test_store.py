"""The schema: migrations on empty and existing databases, WAL, refusing a newer schema; the lock
and the database file's health; no await inside a transaction."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sqlite3

import pytest
from sqlite_utils import Database

from bot.migrations import candor as migrations
from bot.store import (
    AwaitInTransaction,
    SchemaTooNewError,
    StoreError,
    open_store,
)


def test_an_empty_database_gets_every_table_in_wal_mode(tmp_path):
    store = open_store(tmp_path / "new.db")
    assert {"outbox", "processed", "kudos", "_sqlite_migrations"} <= set(store.db.table_names())
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("pragma busy_timeout").fetchone()[0] == 5000
    assert [m.name for m in migrations.applied(store.db)] == [m.name for m in migrations._migrations]
    store.close()


def test_an_existing_database_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m003_kudos")  # what an older Candor left behind
    db["processed"].insert({"key": "kept", "at": 1.0})
    db.close()

    store = open_store(path)
    assert "kudos" in store.db.table_names()
    assert store.db["processed"].get("kept")["at"] == 1.0
    store.close()
    again = open_store(path)  # applying twice changes nothing
    assert again.db["processed"].count == 1
    again.close()


def test_a_database_from_a_newer_candor_is_refused_untouched(tmp_path):
    path = tmp_path / "future.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "insert into _sqlite_migrations (migration_set, name, applied_at) values ('candor', 'm999_future', 'x')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNewError, match="m999_future"):
        open_store(path)


def test_a_failed_transaction_leaves_nothing_behind(tmp_path):
    store = open_store(tmp_path / "t.db")
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx["processed"].insert({"key": "half", "at": 1.0})
        raise RuntimeError("boom")
    assert store.db["processed"].count == 0
    store.close()


def test_a_path_that_cannot_hold_a_database_is_one_clear_error(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(
        StoreError, match=r"cannot create or write the database at .*afile/x\.db \(CANDOR_DB\)"
    ):
        open_store(tmp_path / "afile" / "x.db")
    with pytest.raises(StoreError, match="unable to open database file"):
        open_store(tmp_path)


def test_health_sees_a_replaced_file_and_recovers_when_it_is_back(tmp_path):
    path = tmp_path / "h.db"
    store = open_store(path)
    assert store.health() == "ok"
    path.rename(tmp_path / "elsewhere.db")
    path.write_bytes(b"")  # another file where the database was
    assert store.health() == "replaced"
    (tmp_path / "elsewhere.db").rename(path)
    assert store.health() == "ok"
    store.close()


# --- no await inside a transaction ------------------------------------------------------------


async def test_an_await_inside_a_transaction_is_refused_and_nothing_is_kept(tmp_path):
    store = open_store(tmp_path / "a.db")
    other_task_ran = []
    other = asyncio.get_running_loop().call_soon(other_task_ran.append, True)  # e.g. the outbox
    with pytest.raises(AwaitInTransaction, match="inside a transaction"), store.transaction() as tx:
        tx.execute("insert into processed (key, at) values ('half', 1.0)")
        await asyncio.sleep(0)  # the loop runs other tasks here, on this same connection
        tx.execute("insert into processed (key, at) values ('other half', 1.0)")
    assert other_task_ran and not other.cancelled()
    assert store.db.table("processed").count == 0
    assert not store.db.conn.in_transaction
    store.close()


async def test_an_await_inside_a_nested_transaction_is_refused_too(tmp_path):
    store = open_store(tmp_path / "n.db")
    with pytest.raises(AwaitInTransaction), store.transaction() as tx:
        tx.execute("insert into processed (key, at) values ('outer', 1.0)")
        with store.transaction() as inner:
            inner.execute("insert into processed (key, at) values ('inner', 1.0)")
            await asyncio.sleep(0)
    assert store.db.table("processed").count == 0
    store.close()


async def test_a_transaction_without_await_commits_inside_the_event_loop(tmp_path):
    store = open_store(tmp_path / "c.db")
    committed = []
    store.on_commit(lambda: committed.append(True))
    with store.transaction() as tx:
        tx.execute("insert into processed (key, at) values ('kept', 1.0)")
    await asyncio.sleep(0)  # the guard's marker was withdrawn: running the loop now trips nothing
    with store.transaction() as tx:
        tx.execute("insert into processed (key, at) values ('kept too', 1.0)")
    await asyncio.sleep(0)
    assert store.db.table("processed").count == 2 and committed == [True, True]
    store.close()


def test_a_transaction_outside_an_event_loop_is_not_guarded(tmp_path):
    # The shell's prompt, migrations and scripts run without a loop: nothing can interleave.
    store = open_store(tmp_path / "s.db")
    with store.transaction() as tx:
        tx.execute("insert into processed (key, at) values ('kept', 1.0)")
    assert store.db.table("processed").count == 1
    store.close()


def test_a_transaction_holds_the_write_lock_from_its_start(tmp_path):
    """Two processes on one file: a transaction that reads, then writes, must not fail because the
    other wrote in between (SQLite's BUSY_SNAPSHOT); the other waits for it instead."""
    import sqlite3

    from bot.store import open_store

    first = open_store(tmp_path / "shared.db")
    second = sqlite3.connect(tmp_path / "shared.db", timeout=0)
    with first.transaction() as tx:
        (before,) = tx.execute("select count(*) from processed").fetchone()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            second.execute("insert into processed (key, at) values ('other', 1)")  # must wait its turn
        tx.execute("insert into processed (key, at) values ('mine', ?)", [before])
    second.execute("insert into processed (key, at) values ('other', 1)")
    second.commit()
    assert {k for (k,) in second.execute("select key from processed")} == {"mine", "other"}
    second.close()
    first.close()


# --- group commit: the work of one turn of the loop shares a commit ---------------------------


def _insert(key: str):
    def work(tx: Database) -> str:
        tx.execute("insert into processed (key, at) values (?, 1.0)", [key])
        return key

    return work


def _failing(key: str):
    def work(tx: Database) -> str:
        tx.execute("insert into processed (key, at) values (?, 1.0)", [key])
        raise ValueError(f"{key} changed its mind")

    return work


def _keys(store) -> set[str]:
    return {key for (key,) in store.db.execute("select key from processed")}


async def test_work_asked_for_in_one_turn_of_the_loop_shares_one_commit(tmp_path):
    store = open_store(tmp_path / "g.db")
    commits: list[set[str]] = []
    store.on_commit(lambda: commits.append(_keys(store)))
    done = await asyncio.gather(*(store.run(_insert(f"k{i}")) for i in range(5)))
    assert done == [f"k{i}" for i in range(5)]  # each task gets its own result
    assert commits == [{f"k{i}" for i in range(5)}]  # one commit, holding all five
    assert await store.run(_insert("later")) == "later"  # a later turn: a commit of its own
    assert len(commits) == 2 and not store.db.conn.in_transaction
    store.close()


async def test_in_a_group_commit_an_error_undoes_only_its_own_writes(tmp_path):
    store = open_store(tmp_path / "e.db")
    store.db.execute("insert into processed (key, at) values ('before', 1.0)")
    commits: list[set[str]] = []
    store.on_commit(lambda: commits.append(_keys(store)))
    outcomes = await asyncio.gather(
        store.run(_insert("first")),
        store.run(_failing("second")),
        store.run(_insert("third")),
        return_exceptions=True,
    )
    assert outcomes[0] == "first" and outcomes[2] == "third"
    assert isinstance(outcomes[1], ValueError) and "second changed its mind" in str(outcomes[1])
    assert _keys(store) == {"before", "first", "third"}
    assert commits == [{"before", "first", "third"}]  # the two others still shared one commit
    store.close()


async def test_when_a_group_commit_fails_nobody_hears_done(tmp_path):
    """A work that ends the whole transaction (here by hand; SQLite does so itself on some I/O
    errors) takes the others' writes with it: every task hears the error, none a result."""
    store = open_store(tmp_path / "f.db")

    def ends_it(tx: Database) -> str:
        tx.conn.rollback()
        return "thinks it is done"

    outcomes = await asyncio.gather(
        store.run(_insert("first")), store.run(ends_it), store.run(_insert("third")), return_exceptions=True
    )
    assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes), outcomes
    assert _keys(store) == set() and not store.db.conn.in_transaction
    assert await store.run(_insert("next")) == "next"  # the store goes on
    store.close()


async def test_work_whose_task_was_cancelled_before_the_commit_is_not_run(tmp_path):
    store = open_store(tmp_path / "c.db")
    waiting = asyncio.ensure_future(store.run(_insert("withdrawn")))
    await asyncio.sleep(0)  # the task has queued its work
    waiting.cancel()
    assert await store.run(_insert("kept")) == "kept"
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert _keys(store) == {"kept"}
    store.close()


async def test_work_alone_commits_at_once_and_shares_no_commit(tmp_path):
    """An anonymous author's write (handlers/anonymity) must not sit in one transaction with the
    named writes of whoever else asked in the same turn."""
    store = open_store(tmp_path / "a.db")
    commits: list[set[str]] = []
    store.on_commit(lambda: commits.append(_keys(store)))
    named = asyncio.ensure_future(store.run(_insert("named")))
    await asyncio.sleep(0)  # queued for the turn's group commit
    assert await store.run(_insert("anonymous"), alone=True) == "anonymous"
    await named
    assert commits == [{"anonymous"}, {"anonymous", "named"}]
    store.close()


async def test_when_sqlite_ends_the_group_transaction_inside_a_work_nobody_hears_done(tmp_path):
    """A RAISE(ROLLBACK) trigger ends the whole transaction, as SQLite itself does on a full disk:
    every task of the group hears the error, none a result, and nothing of theirs is stored."""
    store = open_store(tmp_path / "r.db")
    store.db.execute(
        "create temp trigger doom before insert on processed when new.key = 'doomed' "
        "begin select raise(rollback, 'the whole transaction ends here'); end"
    )
    outcomes = await asyncio.gather(
        store.run(_insert("first")),
        store.run(_insert("doomed")),
        store.run(_insert("third")),
        return_exceptions=True,
    )
    assert all(isinstance(o, sqlite3.IntegrityError) for o in outcomes), outcomes
    assert _keys(store) == set()

    def carries_on(tx: Database) -> str:
        """Catches the end of the transaction and writes on: sqlite-utils then opens a new one."""
        with contextlib.suppress(sqlite3.IntegrityError):
            tx.execute("insert into processed (key, at) values ('doomed', 1.0)")
        tx.execute("insert into processed (key, at) values ('after', 1.0) returning key").fetchall()
        return "thinks it is done"

    outcomes = await asyncio.gather(
        store.run(_insert("first")), store.run(carries_on), return_exceptions=True
    )
    assert all(isinstance(o, sqlite3.Error) for o in outcomes), outcomes
    assert _keys(store) == set() and not store.db.conn.in_transaction
    store.close()


async def test_a_work_raising_stop_iteration_fails_alone_and_nobody_waits_forever(tmp_path):
    store = open_store(tmp_path / "s.db")

    def stops(tx: Database) -> str:
        tx.execute("insert into processed (key, at) values ('stopped', 1.0)")
        return next(iter(()))  # a bare next() on an empty sequence

    outcomes = await asyncio.wait_for(
        asyncio.gather(
            store.run(_insert("a")), store.run(stops), store.run(_insert("c")), return_exceptions=True
        ),
        timeout=5,
    )
    assert outcomes[0] == "a" and outcomes[2] == "c"
    assert isinstance(outcomes[1], RuntimeError) and "StopIteration" in str(outcomes[1])
    assert _keys(store) == {"a", "c"}
    alone = await asyncio.wait_for(asyncio.gather(store.run(stops), return_exceptions=True), timeout=5)
    assert isinstance(alone[0], RuntimeError)
    store.close()


async def test_each_work_runs_in_its_own_tasks_context_and_the_callbacks_in_none(tmp_path):
    """A work's log lines carry its own request's id, never another's (an anonymous author's)."""
    store = open_store(tmp_path / "v.db")
    request = contextvars.ContextVar("request", default=None)
    seen: dict[str, str | None] = {}
    store.on_commit(lambda: seen.setdefault("after commit", request.get()))

    async def asks(name: str) -> None:
        request.set(f"request {name}")

        def work(tx: Database) -> None:
            seen[name] = request.get()

        await store.run(work)

    await asyncio.gather(asks("a"), asks("b"), asks("c"))
    assert seen == {"a": "request a", "b": "request b", "c": "request c", "after commit": None}
    store.close()


def test_work_left_waiting_by_a_closed_loop_does_not_stall_the_next_loop(tmp_path):
    # The shell and scripts run a loop per step: what a loop closed on was never committed, and
    # the next loop's work must not wait behind it.
    store = open_store(tmp_path / "l.db")
    loop = asyncio.new_event_loop()
    left: list[asyncio.Task[str]] = []

    async def ask_and_leave() -> None:
        left.append(loop.create_task(store.run(_insert("never"))))  # the loop stops before its commit

    loop.run_until_complete(ask_and_leave())
    left[0].cancel()  # (only so that closing the loop does not warn of a pending task)
    loop.close()
    assert asyncio.run(asyncio.wait_for(store.run(_insert("next")), timeout=5)) == "next"
    assert _keys(store) == {"next"}
    store.close()
