"""`candor copy-db --from data/candor.db --to postgresql://…` as an operator runs it: every table
copied with its ids, counts checked, new rows continue after the copied ids, and a target that
already has data refused unless --replace."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest

from bot import outbox
from bot.messages import text_message
from bot.outbox import Channel
from bot.store import open_store
from handlers.schedules import store as schedules
from tests.support.processes import CANDOR, candor_env

pytestmark = pytest.mark.postgresql


def a_sqlite_installation(path: Path) -> None:
    store = open_store(path)
    try:
        with store.transaction() as tx:
            for n in range(3):
                outbox.enqueue(
                    tx, platform="slack", to=Channel("CTEAM"), message=text_message(f"post {n}"), now=1.0
                )
            schedules.insert(
                tx,
                platform="slack",
                workspace="T1",
                conversation="CTEAM",
                kind="checkin",
                owner="UALICE",
                days="mon",
                at="09:00",
                tz="Europe/Berlin",
                now=1.0,
                template="retro",
            )
            tx.execute("delete from outbox where id = 2")  # a gap: ids are kept, not renumbered
    finally:
        store.close()


def copy_db(tmp_path: Path, source: Path, url: str, *more: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CANDOR, "copy-db", "--from", str(source), "--to", url, *more],
        env=candor_env(tmp_path / "unused.db"),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_copy_db_copies_every_table_with_its_ids_and_checks_the_counts(tmp_path, postgres_server):
    source = tmp_path / "candor.db"
    a_sqlite_installation(source)
    url = postgres_server.new_database(migrated=False)
    done = copy_db(tmp_path, source, url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"to {url}; every table's count matches")
    with psycopg.connect(url) as conn:
        assert conn.execute("select id, status from outbox order by id").fetchall() == [
            (1, "pending"),
            (3, "pending"),
        ]
        assert conn.execute("select conversation, days, at from schedules").fetchall() == [
            ("CTEAM", "mon", "09:00")
        ]
    store = open_store(url)  # the copy is a working database: the next row's id follows the copied ones
    try:
        with store.transaction() as tx:
            new = outbox.enqueue(
                tx, platform="slack", to=Channel("CTEAM"), message=text_message("next"), now=2.0
            )
        assert new == 4
    finally:
        store.close()


def test_copy_db_refuses_a_target_with_data_unless_told_to_replace_it(tmp_path, postgres_server):
    source = tmp_path / "candor.db"
    a_sqlite_installation(source)
    url = postgres_server.new_database()
    with psycopg.connect(url) as conn:
        conn.execute("insert into processed (key, at) values ('already-there', 1.0)")
    refused = copy_db(tmp_path, source, url)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"candor: the database at {url} already has data (table processed); "
        "copy into an empty database, or pass --replace to empty it first"
    ]
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from outbox").fetchone() == (0,)  # untouched

    replaced = copy_db(tmp_path, source, url, "--replace")
    assert replaced.returncode == 0, replaced.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from processed").fetchone() == (0,)
        assert conn.execute("select count(*) from outbox").fetchone() == (2,)
