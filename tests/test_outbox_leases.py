"""Two dispatchers on one database (two processes, or two hosts; SQLite's file and PostgreSQL alike) share the outbox through
leases: each post is sent once, and a conversation has one owner at a time, so its posts keep their
order and their pacing whichever dispatcher sends them. A dispatcher that dies lets go after the
lease time; one that cannot write keeps what it sent, and the other does not post it again."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot import dispatcher, outbox
from bot.dispatcher import Dispatcher
from bot.messages import text_message
from bot.outbox import Channel, OutboxItem, Person, Recipient, SendOutcome
from bot.outbox_leases import INTERRUPTED_WAIT_S, LEASE_S, RENEW_EVERY_S
from bot.slack.sender import SlackSender
from bot.store import Store, open_store
from tests.support.candor import TOKEN, blocks_text

# One process's connection refusing writes is SQLite's `query_only`; PostgreSQL's read-only mode is
# the server's or a database's, shared by both processes.
sqlite_only = pytest.mark.parametrize("engine", ["sqlite"])


class NoteWho:
    """The real Slack sender, noting which dispatcher sent which row (so a test can tell them apart)."""

    def __init__(self, name: str, sender: SlackSender, notes: list[tuple[str, int]]) -> None:
        self.name, self.sender, self.notes = name, sender, notes

    async def send(self, item: OutboxItem) -> SendOutcome:
        self.notes.append((self.name, item.id))
        return await self.sender.send(item)


class Pair:
    def __init__(self, a: Dispatcher, b: Dispatcher, notes: list[tuple[str, int]]) -> None:
        self.a, self.b, self.notes = a, b, notes

    def sent_by(self, name: str) -> list[int]:
        return [outbox_id for who, outbox_id in self.notes if who == name]


@pytest.fixture
def lease_s() -> float:
    """The dispatchers' lease time (CANDOR_OUTBOX_LEASE); a test may parametrize it."""
    return LEASE_S


@pytest.fixture
async def pair(database, clock, slack, lease_s) -> AsyncIterator[Pair]:
    """Dispatchers A and B, each with its own connection to one database file and its own Slack
    client, as two `candor serve` processes would have."""
    path = database
    notes: list[tuple[str, int]] = []
    sessions: list[aiohttp.ClientSession] = []

    def process(name: str) -> Dispatcher:
        session = aiohttp.ClientSession()
        sessions.append(session)
        client = AsyncWebClient(token=TOKEN, base_url=slack.url, session=session, retry_handlers=[])
        sender = NoteWho(name, SlackSender(client), notes)
        return Dispatcher(
            open_store(path), {"slack": sender}, clock, owner=name, idle_poll=0.01, lease_s=lease_s
        )

    both = Pair(process("A"), process("B"), notes)
    yield both
    for d in (both.a, both.b):
        await d.stop()
        d.store.close()
    for session in sessions:
        await session.close()


def queue(store: Store, now: float, to: Recipient, *texts: str) -> list[int]:
    with store.transaction() as tx:
        return [outbox.enqueue(tx, platform="slack", to=to, message=text_message(t), now=now) for t in texts]


def posts(slack, conversation: str) -> list[tuple[str, float]]:
    """(first line, when) of each post Slack accepted in a conversation, in the order it got them."""
    return [
        (blocks_text(c.params).split("\n")[0], c.at)
        for c in slack.calls_to("chat.postMessage")
        if c.answered == 200 and c.params.get("channel") == conversation
    ]


def statuses(store: Store) -> dict[int, str]:
    return dict(store.db.execute("select id, status from outbox").fetchall())


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


async def test_two_dispatchers_running_at_once_send_each_post_once_in_order_and_paced(
    pair, slack, clock, engine
):
    runs = [asyncio.create_task(d.run()) for d in (pair.a, pair.b)]
    channels = ["C0", "C1", "C2", "C3"]
    expected: dict[str, list[int]] = {"A": [], "B": []}
    for wave in range(3):
        for n, channel in enumerate(channels):
            # A request's commit wakes the process that took it, whose pass claims the conversation;
            # which process that is alternates, so every conversation changes hands between waves.
            name, d = (("A", pair.a), ("B", pair.b))[(n + wave) % 2]
            expected[name] += queue(
                d.store, clock.now(), Channel(channel), *(f"{channel} {wave}.{i}" for i in range(3))
            )
            await d.deliver_due()
        name, d = (("A", pair.a), ("B", pair.b))[wave % 2]
        expected[name] += queue(d.store, clock.now(), Person("UBOB"), f"dm {wave}")
        await d.deliver_due()
        await wait_until(
            lambda: set(statuses(pair.a.store).values()) == {"sent"}
        )  # both passes run meanwhile
        clock.advance(1)  # the last posts' pacing passes: the leases run out
    for d in (pair.a, pair.b):
        await d.stop()
    for task in runs:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    sent = [blocks_text(p).split("\n")[0] for p in slack.delivered()]
    assert len(sent) == len(set(sent)) == 4 * 3 * 3 + 3  # each once
    if engine == "sqlite":  # a pass runs in place: the process that took the request claims first
        assert sorted(pair.sent_by("A")) == expected["A"] and sorted(pair.sent_by("B")) == expected["B"]
    else:  # a pass awaits PostgreSQL's answers, and the other process's pass may claim meanwhile
        assert sorted(pair.sent_by("A") + pair.sent_by("B")) == sorted(expected["A"] + expected["B"])
    for channel in channels:
        got = posts(slack, channel)
        assert [text for text, _ in got] == [f"{channel} {w}.{i}" for w in range(3) for i in range(3)]
        assert all(b - a >= 1.0 for (_, a), (_, b) in itertools.pairwise(got)), got


async def test_a_conversation_has_one_owner_and_the_next_keeps_its_pacing(pair, slack, clock):
    first = queue(pair.a.store, clock.now(), Channel("CX"), "one", "two")
    assert await pair.a.deliver_due() == 1
    assert await pair.b.deliver_due() == 0  # A holds CX: B does not touch it
    await asyncio.gather(pair.a.drain(), pair.b.drain())
    assert pair.sent_by("A") == first and pair.sent_by("B") == []

    [third] = queue(pair.b.store, clock.now(), Channel("CX"), "three")
    assert await pair.b.deliver_due() == 0  # A's last post was under a second ago
    clock.advance(1.0)
    assert await pair.b.deliver_due() == 1  # A let go: B takes the conversation over, at the paced moment
    await pair.b.drain()
    assert pair.sent_by("B") == [third]
    got = posts(slack, "CX")
    assert [text for text, _ in got] == ["one", "two", "three"]
    assert [b - a for (_, a), (_, b) in itertools.pairwise(got)] == [1.0, 1.0]


@pytest.mark.parametrize("lease_s", [LEASE_S, 5.0])  # the default, and a shorter CANDOR_OUTBOX_LEASE
async def test_a_dispatcher_that_dies_lets_go_of_its_conversations_after_the_lease_time(
    pair, slack, clock, lease_s
):
    queue(pair.a.store, clock.now(), Channel("CX"), "one", "two")
    queue(pair.a.store, clock.now(), Person("UBOB"), "dm")
    assert await pair.a.deliver_due() == 2
    pair.a.store.close()  # A's process is gone before it sent anything, leases and all
    for task in list(pair.a._workers.values()):
        task.cancel()
    await asyncio.sleep(0)

    clock.advance(lease_s - 1)
    assert await pair.b.deliver_due() == 0
    clock.advance(1)
    assert await pair.b.deliver_due() == 2
    await pair.b.drain()
    assert [text for text, _ in posts(slack, "CX")] == ["one", "two"]
    assert [text for text, _ in posts(slack, "UBOB")] == ["dm"]
    assert set(statuses(pair.b.store).values()) == {"sent"}


def refuse_writes_of(d: Dispatcher) -> Callable[[], None]:
    """While Slack takes the post, the database stops taking this dispatcher's writes (a read-only
    mount, a full disk as it sees it)."""
    return lambda: d.store.db.execute("PRAGMA query_only = 1")


@sqlite_only
async def test_a_post_whose_record_the_database_refused_is_not_sent_again_by_the_other(pair, slack, clock):
    one, two = queue(pair.a.store, clock.now(), Channel("CX"), "one", "two")
    slack.meanwhile["chat.postMessage"] = refuse_writes_of(pair.a)
    await pair.a.drain()  # sends "one"; cannot record it; keeps the record and stops
    assert pair.a.store_failing and statuses(pair.b.store) == {one: "pending", two: "pending"}

    clock.advance(LEASE_S)  # A's lease on CX runs out while A cannot renew it
    assert await pair.b.deliver_due() == 1  # B takes CX over, but "one" may be out: it waits
    await pair.b.drain()
    assert [text for text, _ in posts(slack, "CX")] == ["one"]
    waiting = pair.b.store.db.execute(
        "select attempts, last_error from outbox where id = ?", [one]
    ).fetchone()
    assert waiting == (1, "interrupted during its send")

    pair.a.store.db.execute("PRAGMA query_only = 0")  # A's writes work again: it records "one"
    await pair.a.deliver_due()
    assert not pair.a.store_failing and statuses(pair.b.store)[one] == "sent"
    clock.advance(INTERRUPTED_WAIT_S)
    await asyncio.gather(pair.a.drain(), pair.b.drain())
    assert [text for text, _ in posts(slack, "CX")] == ["one", "two"]  # each once, in order
    assert statuses(pair.b.store) == {one: "sent", two: "sent"}


@sqlite_only
async def test_a_post_whose_sender_died_during_the_send_goes_out_after_the_wait(pair, slack, clock):
    # The one case left where a post can go out twice, as after a crash of a single process: its
    # sender died after Slack took it and before recording it. It is not stranded.
    queue(pair.a.store, clock.now(), Channel("CX"), "one", "two")
    slack.meanwhile["chat.postMessage"] = refuse_writes_of(pair.a)
    await pair.a.drain()
    pair.a.store.close()  # and then A dies, its record lost

    clock.advance(LEASE_S)
    await pair.b.deliver_due()
    await pair.b.drain()
    assert [text for text, _ in posts(slack, "CX")] == ["one"]
    clock.advance(INTERRUPTED_WAIT_S)
    await pair.b.drain()
    assert [text for text, _ in posts(slack, "CX")] == ["one", "one", "two"]
    assert set(statuses(pair.b.store).values()) == {"sent"}


@sqlite_only
async def test_nothing_is_claimed_or_sent_while_the_database_refuses_writes(pair, slack, clock):
    queue(pair.a.store, clock.now(), Channel("CX"), "one")
    pair.a.store.db.execute("PRAGMA query_only = 1")
    assert await pair.a.deliver_due() == 0 and pair.a.store_failing
    await asyncio.wait_for(pair.a.drain(), 10)
    assert slack.delivered() == []
    pair.a.store.db.execute("PRAGMA query_only = 0")
    await pair.a.drain()
    assert [text for text, _ in posts(slack, "CX")] == ["one"] and not pair.a.store_failing


async def test_a_slow_send_keeps_its_conversation_because_its_lease_is_renewed(pair, slack, clock):
    [one] = queue(pair.a.store, clock.now(), Channel("CX"), "one")
    others_started: list[int] = []

    async def two_minutes_pass_while_slack_answers() -> None:
        for _ in range(12):
            clock.advance(RENEW_EVERY_S)
            await pair.a.deliver_due()  # A's passes go on meanwhile
            others_started.append(await pair.b.deliver_due())

    slack.meanwhile["chat.postMessage"] = two_minutes_pass_while_slack_answers
    await pair.a.drain()
    assert 12 * RENEW_EVERY_S > 3 * LEASE_S
    assert others_started == [0] * 12
    assert pair.sent_by("A") == [one] and pair.sent_by("B") == []
    assert statuses(pair.b.store) == {one: "sent"}


async def test_leases_nobody_holds_any_more_are_forgotten(pair, slack, clock):
    queue(pair.a.store, clock.now(), Channel("CX"), "one")
    queue(pair.a.store, clock.now(), Person("UBOB"), "dm")
    await pair.a.drain()
    assert pair.a.store.db.execute("select count(*) from outbox_leases").fetchone()[0] == 2
    clock.advance(dispatcher.FORGET_EVERY_S + LEASE_S)
    await pair.a.deliver_due()
    assert pair.a.store.db.execute("select count(*) from outbox_leases").fetchone()[0] == 0
