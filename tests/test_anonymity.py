"""The shared building block of anonymous practices (handlers/anonymity), through its API.

Speak-up's tests show these pieces at work in a whole flow; here each is held to its contract, as
anonymous failure reviews and the pulse survey will use it.
"""

from __future__ import annotations

import asyncio
import re
import statistics
from dataclasses import fields, is_dataclass

import pytest

from bot.messages import Message, Section, rich
from bot.store import open_store
from handlers import anonymity
from handlers.anonymity import Limits


@pytest.fixture
def store(tmp_path):
    opened = open_store(tmp_path / "anonymity.db")
    yield opened
    opened.close()


# --- case codes ---------------------------------------------------------------------------------
def test_a_code_is_160_random_bits_in_groups_of_four_and_is_found_however_it_is_typed():
    code = anonymity.new_code()
    assert re.fullmatch(r"([A-Z2-7]{4}-){7}[A-Z2-7]{4}", code)
    assert len({anonymity.new_code() for _ in range(100)}) == 100
    stored = anonymity.code_hash(code)
    typed = code.lower().replace("-", " ").replace("O", "0").replace("I", "1").replace("B", "8")
    assert anonymity.hash_of_typed(typed) == stored
    assert len(stored) == 64 and code.replace("-", "") not in stored
    assert anonymity.code_hash(code.replace("-", "")) == stored
    with pytest.raises(ValueError):
        anonymity.code_hash("not a code")


@pytest.mark.parametrize(
    "typed", ["", "nonsense", "AAAA", "A" * 31, "A" * 33, "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAA9"]
)
def test_what_cannot_be_a_code_finds_nothing(typed):
    assert anonymity.hash_of_typed(typed) is None


# --- batch times --------------------------------------------------------------------------------
NOW = 1_800_000_123.25  # no mark and no day can equal it


def test_the_publish_time_is_a_random_delay_then_the_next_mark():
    times = [anonymity.publish_time((300.0, 1800.0), NOW) for _ in range(200)]
    assert all(t % anonymity.BATCH_EVERY_S == 0 for t in times)
    assert all(NOW + 300 <= t < NOW + 1800 + anonymity.BATCH_EVERY_S for t in times)
    assert statistics.pstdev(times) > 0  # random, not one fixed offset
    assert anonymity.publish_time((0.0, 0.0), NOW) == NOW  # delay off: at once


def test_a_job_releases_with_the_mark_it_runs_in_and_days_are_kept_instead_of_times():
    assert anonymity.batch_of(NOW) == 1_800_000_000.0  # the last mark, not the next
    assert anonymity.day_of(NOW) == "2027-01-15" and anonymity.start_of_day(NOW) % 86400 == 0


@pytest.mark.parametrize(
    ("delay", "said"),
    [
        ((300.0, 1800.0), "after a random delay of 5 to 30 minutes, at the next 5 minutes mark"),
        ((0.0, 600.0), "after a random delay of up to 10 minutes"),
        ((90.0, 3600.0), "after a random delay of 90 seconds to 1 hour"),
        ((600.0, 600.0), "10 minutes after you send it"),
        ((0.0, 0.0), "at once"),
    ],
)
def test_the_delay_is_described_as_it_really_applies(delay, said):
    assert anonymity.describe_delay(delay).startswith(said)
    assert anonymity.is_delayed(delay) == (delay[1] > 0)


# --- the batch job's shape ----------------------------------------------------------------------
def wal_size(store) -> int:
    wal = store.path.with_name(store.path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def items_table(store, count: int) -> list[int]:
    with store.transaction() as tx:
        tx.execute("create table items (id integer primary key, released_at real)")
        for n in range(count):
            tx.execute("insert into items (id) values (?)", [n])
    return list(range(count))


def claim(tx, item: int, batch: float) -> bool:
    """As a practice claims an item: a conditional update whose row count says who won."""
    return (
        tx.execute(
            "update items set released_at = ? where id = ? and released_at is null", [batch, item]
        ).rowcount
        == 1
    )


async def test_a_batch_releases_in_random_order_with_the_batch_time_then_empties_the_wal(store):
    items = items_table(store, 40)
    order: list[int] = []

    def release(tx, item: int, batch: float) -> bool:
        order.append(item)
        return claim(tx, item, batch)

    assert wal_size(store) > 0
    assert await anonymity.release_batch(store, items=items, release=release, now=NOW) == 40
    assert sorted(order) == items and order != items  # every item, not in the order written
    assert {r[0] for r in store.db.execute("select released_at from items")} == {anonymity.batch_of(NOW)}
    assert wal_size(store) == 0


async def test_an_item_another_process_released_first_is_not_counted_and_nothing_due_does_nothing(store):
    items = items_table(store, 3)
    assert await anonymity.release_batch(store, items=items[:1], release=claim, now=NOW) == 1
    assert (
        await anonymity.release_batch(store, items=items, release=claim, now=NOW + 60) == 2
    )  # the first is taken

    def never(tx, item, batch) -> bool:
        raise AssertionError("called with nothing due")

    assert await anonymity.release_batch(store, items=[], release=never, now=NOW) == 0


def test_a_job_whose_log_cannot_be_emptied_says_so_and_its_commit_stands(tmp_path, caplog):
    """After a job's commit (a batch, a pulse round closed) the log is emptied; when the database
    refuses even that, the job says why in one warning and does not fail after its commit."""
    broken = open_store(tmp_path / "closed.db")
    with broken.transaction() as tx:
        tx.execute("insert into processed (key, at) values ('a-batch', 0)")
    broken.db.conn.close()  # the connection is gone: the checkpoint itself raises
    anonymity.empty_log(broken)
    [warning] = [r for r in caplog.records if r.name == "candor.anonymity"]
    assert "could not be emptied" in warning.getMessage() and warning.error == "ProgrammingError"
    reopened = open_store(tmp_path / "closed.db")
    assert reopened.db.execute("select key from processed").fetchall() == [("a-batch",)]
    reopened.close()


# --- k-thresholds -------------------------------------------------------------------------------
def test_figures_are_shown_only_for_groups_of_at_least_k():
    assert [n for n in range(8) if anonymity.meets_k(n, 5)] == [5, 6, 7]
    assert anonymity.withheld(5, "answers") == "fewer than 5 answers, not shown to protect anonymity"


# --- private messages to an author --------------------------------------------------------------
class Directory:
    def __init__(self, answer) -> None:
        self.answer = answer
        self.sent: list[str] = []

    async def send_private(self, user: str, message: Message) -> bool:
        self.sent.append(user)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize("answer", [True, False, RuntimeError("the platform is down")])
async def test_a_private_message_is_sent_after_the_answer_and_a_failure_only_counted(answer, caplog):
    limits = Limits()
    people = Directory(answer)
    anonymity.send_privately(people, "UAUTHOR", Message((Section(rich("your code")),)), limits)
    assert people.sent == [] and anonymity.sending() == 1  # not yet: the request answers first
    for _ in range(100):
        if not anonymity.sending():
            break
        await asyncio.sleep(0)
    assert people.sent == ["UAUTHOR"]
    assert not [r for r in caplog.records if r.name == "candor.anonymity"]  # never logged as it happens
    anonymity.report_undelivered(limits, NOW)  # the first report of a day sets the day
    anonymity.report_undelivered(limits, NOW + 86400)
    reports = [r for r in caplog.records if r.name == "candor.anonymity"]
    assert [r.count for r in reports] == ([] if answer is True else [1])


def test_a_random_id_is_drawn_again_when_taken(store):
    store.db["concerns"].insert(
        {
            "id": 5,
            "platform": "slack",
            "workspace": "T1",
            "conversation": "C",
            "code_hash": "h",
            "body": "b",
            "status": "open",
            "raised_on": "2026-01-01",
        }
    )
    assert {anonymity.random_id(store.db, table="concerns", low=5, high=6) for _ in range(20)} == {6}
    with pytest.raises(RuntimeError, match="no free id"):
        anonymity.random_id(store.db, table="concerns", low=5, high=5)
    with pytest.raises(ValueError, match="not a table name"):
        anonymity.random_id(store.db, table="concerns; drop table outbox", low=1, high=9)


# --- the in-memory limiter: counts per bucket, pruned, a new key every day ------------------------
MIDDAY = 1_800_014_400.0  # 12:00 UTC


def memory_of(limits: Limits) -> list:
    """Every value a dump of the limiter's memory would show."""
    found: list = []

    def walk(value) -> None:
        if is_dataclass(value):
            for f in fields(value):
                walk(getattr(value, f.name))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list | tuple | set):
            for item in value:
                walk(item)
        else:
            found.append(value)

    walk(limits)
    return found


def test_the_limiter_keeps_counts_never_the_moments():
    limits = Limits()
    moments = [MIDDAY + 0.25, MIDDAY + 333.5, MIDDAY + 3601.75]
    for moment in moments:
        limits.add("concern", "slack:T1:UAUTHOR", 86400, moment)
    assert limits.used("concern", "slack:T1:UAUTHOR", 86400, moments[-1]) == 3
    numbers = [v for v in memory_of(limits) if isinstance(v, int | float) and not isinstance(v, bool)]
    assert not [v for v in numbers for m in moments if abs(v - m) < 86400]  # nothing near those times


def test_the_limiter_prunes_every_stale_entry_on_every_use():
    limits = Limits()
    for n in range(50):
        limits.add("code", f"slack:T1:U{n}", 3600, MIDDAY)
    limits.add("concern", "slack:T1:UAUTHOR", 86400, MIDDAY)
    assert limits.used("code", "slack:T1:USOMEONE", 3600, MIDDAY + 3600) == 0  # the next hour
    people = [v for v in memory_of(limits) if isinstance(v, str) and re.search("[0-9a-f]{64}", v)]
    assert len(people) == 1  # only today's concern count is left, not the last hour's 50 tries
    assert limits.used("concern", "slack:T1:UAUTHOR", 86400, MIDDAY + 3600) == 1


def test_the_limiter_forgets_each_day_and_changes_its_key():
    limits = Limits()
    limits.add("concern", "slack:T1:UAUTHOR", 86400, MIDDAY)
    yesterday = {v for v in memory_of(limits) if isinstance(v, str | bytes)}
    limits.add("concern", "slack:T1:UAUTHOR", 86400, MIDDAY + 86400)
    today = {v for v in memory_of(limits) if isinstance(v, str | bytes)}
    assert limits.used("concern", "slack:T1:UAUTHOR", 86400, MIDDAY + 86400) == 1
    assert not (yesterday - {"concern"}) & today  # neither yesterday's key nor the HMAC it made
