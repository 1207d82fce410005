"""The write-ahead log reaches the database file while Candor serves, with no commit doing the copy."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time

import pytest

from tests.support.candor import blocks_text


def kudos_in_the_database_file(db_path, tmp_path) -> int:
    """Kudos rows in the database file alone: what a checkpoint has copied there from the log."""
    copy = tmp_path / "file-only.db"
    shutil.copyfile(db_path, copy)
    conn = sqlite3.connect(copy)
    try:
        return conn.execute("select count(*) from kudos").fetchone()[0]
    except sqlite3.OperationalError:  # not even the schema was copied yet
        return 0
    finally:
        conn.close()


async def test_a_commit_reaches_the_database_file_without_waiting_for_sqlite_s_page_threshold(
    candor, tmp_path
):
    status, reply = await candor.command("/kudos", "<@UBOB|bob> #mentoring thanks for the pairing")
    assert status == 200 and "Kudos sent to <@UBOB>" in blocks_text(reply), blocks_text(reply)
    assert candor.count("kudos") == 1
    # The serving connection leaves checkpoints to the background task: it never copies pages
    # (and waits for an fsync) inside a request's commit.
    assert candor.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    db_path = candor.settings.db_path
    for _ in range(100):  # the task checkpoints about once a second
        if kudos_in_the_database_file(db_path, tmp_path) == 1:
            break
        await asyncio.sleep(0.1)
    assert kudos_in_the_database_file(db_path, tmp_path) == 1


async def test_a_background_pass_in_flight_never_makes_an_anonymous_write_s_truncate_fail(tmp_path):
    """An anonymous write (a pulse answer, a speak-up batch) empties the log right after its commit.
    A background pass running at that moment used to make that TRUNCATE fail (SQLite allows one
    checkpoint at a time), leaving the commit in the log; now the TRUNCATE waits for the pass."""
    from bot.checkpoints import BackgroundCheckpoints
    from bot.store import open_store

    store = open_store(tmp_path / "candor.db")
    store.db.execute("create table t (x text)")
    background = BackgroundCheckpoints(store, interval_s=0)  # passes back to back
    background.start()
    wal = tmp_path / "candor.db-wal"
    failed = 0
    try:
        for i in range(300):
            with store.transaction() as tx:
                tx.execute("insert into t (x) values (?)", ["x" * 3000 + str(i)])
            await asyncio.sleep(0)  # let the next background pass start
            failed += not store.checkpoint() or wal.stat().st_size != 0
    finally:
        await background.stop()
        store.close()
    assert failed == 0


def another_replica(path, stop: threading.Event) -> None:
    """A second Candor process writing to the same file: its own connection, committing steadily."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=5)
    conn.execute("PRAGMA journal_size_limit=0")  # as bot/store.py sets it
    conn.execute("PRAGMA wal_autocheckpoint=0")  # its checkpoints are its background task's
    n = 0
    while not stop.is_set():
        conn.execute("insert into t (x) values (?)", ["y" * 3000 + str(n)])
        n += 1
        time.sleep(0.0005)
    conn.close()


@pytest.mark.parametrize("replicas", [1, 2])
async def test_under_a_steady_stream_of_commits_the_log_is_restarted_rather_than_left_to_grow(
    tmp_path, replicas
):
    """A pass never catches up with commits that keep coming, and only a caught-up log restarts:
    in the fan-out bench it grew to 290 MB, and truncating that held the event loop 100 ms. Past
    CATCH_UP_BYTES a second pass holds this connection's writes for the last frames, so the next
    commit restarts (and truncates) the log; past FORCE_BYTES, when another process's commits keep
    it from catching up, a RESTART makes that process wait too."""
    from bot.checkpoints import BackgroundCheckpoints
    from bot.store import open_store

    store = open_store(tmp_path / "candor.db")
    store.db.execute("create table t (x text)")
    background = BackgroundCheckpoints(store)
    background.start()
    stop = threading.Event()
    other = threading.Thread(target=another_replica, args=(tmp_path / "candor.db", stop))
    if replicas == 2:
        other.start()
    wal = tmp_path / "candor.db-wal"
    largest = 0
    try:
        for i in range(6000):  # a commit at a time, the loop free in between, as in a fan-out
            with store.transaction() as tx:
                tx.execute("insert into t (x) values (?)", ["x" * 3000 + str(i)])
            largest = max(largest, wal.stat().st_size)
            if i % 4 == 0:  # at most ~4 commits a millisecond, so a faster machine writes no faster
                await asyncio.sleep(0.001)
    finally:
        stop.set()
        if other.is_alive():
            other.join()
        await background.stop()
    # Left to grow, the log reaches 70-80 MB here; caught up, a few MB alone and about 20 MB with a
    # second process writing (past FORCE_BYTES, 16 MB, before its RESTART).
    assert largest < 40 * 2**20, f"the log reached {largest / 2**20:.1f} MB"
    with store.transaction() as tx:
        assert tx.execute("select count(*) from t where x like 'x%'").fetchone()[0] == 6000
    store.close()


def test_a_restart_a_long_reader_refuses_is_reported_and_once_it_ends_the_log_restarts(tmp_path):
    """A reader on an old snapshot (the dashboard's own connection, a backup) refuses a RESTART for
    as long as it reads; the pass says so, and the task leaves RESTART alone for a while, since
    each try holds this process's writes. Once the reader is gone the RESTART goes through."""
    from bot.checkpoints import FORCE_BYTES, BackgroundCheckpoints
    from bot.store import open_store

    path = tmp_path / "candor.db"
    store = open_store(path)
    store.db.execute("PRAGMA wal_autocheckpoint=0")
    store.db.execute("create table t (x text)")
    reader = sqlite3.connect(path)
    reader.execute("begin")
    reader.execute("select count(*) from t").fetchone()  # its snapshot: before the rows below
    for i in range(FORCE_BYTES // 4096 + 100):
        with store.transaction() as tx:
            tx.execute("insert into t (x) values (?)", ["x" * 3000 + str(i)])
    checkpointer = sqlite3.connect(path, check_same_thread=False)
    checkpointer.execute("PRAGMA busy_timeout=10")
    wal = tmp_path / "candor.db-wal"
    try:
        done = BackgroundCheckpoints._checkpoint(store, checkpointer, 4096, True, -1, False)
        assert done.refused and done.frames * 4096 > FORCE_BYTES
        with store.transaction() as tx:
            tx.execute("insert into t (x) values ('while it reads')")
        assert wal.stat().st_size > FORCE_BYTES  # not restarted: the reader still holds the log
        reader.rollback()
        again = BackgroundCheckpoints._checkpoint(store, checkpointer, 4096, True, done.frames, False)
        assert not again.refused and again.frames == done.frames + 1  # a commit came since: a RESTART
        assert wal.stat().st_size > FORCE_BYTES  # restarted, not yet truncated
        with store.transaction() as tx:
            tx.execute("insert into t (x) values ('after')")
        assert wal.stat().st_size < 2**20  # the first commit after the restart truncated it
    finally:
        reader.close()
        checkpointer.close()
        store.close()


def test_while_serving_a_restarted_log_is_written_again_from_its_start_and_a_pass_empties_it(tmp_path):
    """Truncating the log at every restart and growing the file again cost a sixth of a request's
    CPU, so while Candor serves a restart only rewinds the log. The frames past the new writes
    (earlier commits, in order) stay in the file until a TRUNCATE pass empties it."""
    from bot.checkpoints import CATCH_UP_BYTES, BackgroundCheckpoints
    from bot.store import open_store

    path = tmp_path / "candor.db"
    wal = tmp_path / "candor.db-wal"
    store = open_store(path)
    store.db.execute("create table t (x text)")
    store.db.execute("PRAGMA wal_autocheckpoint=0")
    store.db.execute("PRAGMA journal_size_limit=-1")  # as BackgroundCheckpoints.start sets it
    checkpointer = sqlite3.connect(path, check_same_thread=False)
    try:
        for i in range(CATCH_UP_BYTES // 3000 + 50):
            with store.transaction() as tx:
                tx.execute("insert into t (x) values (?)", [f"early commit {i} " + "x" * 3000])
        first = BackgroundCheckpoints._checkpoint(store, checkpointer, 4096, True, -1, False)
        assert first.frames * 4096 >= CATCH_UP_BYTES and not first.emptied
        size = wal.stat().st_size
        with store.transaction() as tx:  # restarts the log: written from its start again
            tx.execute("insert into t (x) values ('after the restart')")
        assert wal.stat().st_size == size  # the file was not truncated...
        assert b"early commit" in wal.read_bytes()  # ...so earlier commits are still in it
        emptied = BackgroundCheckpoints._checkpoint(store, checkpointer, 4096, True, first.frames, True)
        assert emptied.frames < 8  # what the log held: the one commit after the restart
        assert emptied.emptied and not emptied.refused
        assert wal.stat().st_size == 0
    finally:
        checkpointer.close()
        store.close()


async def test_serving_the_log_file_is_emptied_while_commits_keep_coming_and_once_they_pause(tmp_path):
    """No commit stays in the log file long: a TRUNCATE pass every `truncate_every_s` while commits
    keep coming (5 s in Candor), and at the first pass after they pause."""
    from bot.checkpoints import BackgroundCheckpoints
    from bot.store import open_store

    store = open_store(tmp_path / "candor.db")
    store.db.execute("create table t (x text)")
    background = BackgroundCheckpoints(store, interval_s=0.05, truncate_every_s=0.2)
    background.start()
    wal = tmp_path / "candor.db-wal"
    assert store.db.execute("PRAGMA journal_size_limit").fetchone()[0] == -1  # reused while serving
    emptied_while_writing = 0
    try:
        last = 0
        for i in range(3000):  # about 1.5 s, at most ~4 commits a millisecond
            with store.transaction() as tx:
                tx.execute("insert into t (x) values (?)", [f"commit {i} " + "x" * 3000])
            size = wal.stat().st_size
            emptied_while_writing += size < last  # only a TRUNCATE shrinks the file now
            last = size
            if i % 4 == 0:
                await asyncio.sleep(0.001)
        assert emptied_while_writing >= 2  # every 0.2 s here; the stream never pauses for a pass
        for _ in range(100):  # commits have paused: the next pass (every 0.05 s here) empties it
            if wal.stat().st_size == 0:
                break
            await asyncio.sleep(0.05)
        assert wal.stat().st_size == 0
    finally:
        await background.stop()
    assert store.db.execute("PRAGMA journal_size_limit").fetchone()[0] == 0  # handed back
    store.close()
