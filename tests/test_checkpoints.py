"""The write-ahead log reaches the database file while Candor serves, with no commit doing the copy."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3

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
