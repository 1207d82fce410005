"""The turnstile lets one task through per turn of the event loop, and the outbox's sends go
through it, so a burst of them is spread over turns instead of lumped into one."""

from __future__ import annotations

import asyncio

from bot import dispatcher, outbox
from bot.messages import text_message
from bot.outbox import Channel
from bot.store import open_store
from bot.turnstile import Turnstile
from tests.support.turns import LoopTurns


async def test_one_task_goes_through_per_turn_in_the_order_they_came():
    gate, turns, through = Turnstile(), LoopTurns(), []

    async def walker(name: str) -> None:
        await gate.through()
        through.append((name, turns.count))

    await asyncio.gather(*(walker(name) for name in "abcde"))
    turns.stop()
    assert [name for name, _ in through] == list("abcde")
    passed_in = [turn for _, turn in through]
    assert len(set(passed_in)) == 5, through  # never two in one turn
    assert len(gate) == 0


async def test_a_cancelled_waiter_gives_its_turn_to_the_next():
    gate, through = Turnstile(), []

    async def walker(name: str) -> None:
        await gate.through()
        through.append(name)

    tasks = [asyncio.ensure_future(walker(name)) for name in "abc"]
    await asyncio.sleep(0)  # all three wait
    tasks[1].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert through == ["a", "c"] and len(gate) == 0
    await gate.through()  # and the gate still turns afterwards


async def test_a_burst_of_sends_starts_one_per_turn_of_the_loop(tmp_path, clock):
    """Twenty channels due at once: each send starts in a turn of its own, so a request waiting
    behind a turn waits for one send at most, and all twenty are still delivered."""
    store = open_store(tmp_path / "burst.db")
    turns, started = LoopTurns(), []

    class Platform:
        async def send(self, item: outbox.OutboxItem) -> outbox.SendOutcome:
            started.append(turns.count)
            await asyncio.sleep(0)
            return outbox.SendOutcome("sent", ref=f"ts.{item.id}")

    with store.transaction() as tx:
        for n in range(20):
            outbox.enqueue(
                tx, platform="slack", to=Channel(f"C{n}"), message=text_message("hi"), now=clock.now()
            )
    sending = dispatcher.Dispatcher(store, {"slack": Platform()}, clock)
    try:
        await sending.drain()
        turns.stop()
        assert len(started) == 20 and len(set(started)) == 20, started
        assert store.db.execute("select count(*) from outbox where status = 'sent'").fetchone() == (20,)
    finally:
        store.close()
