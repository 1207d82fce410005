"""The turnstile lets one task through per turn of the event loop (the outbox's sends go through
it: tests/test_outbox.py shows a burst spread over turns)."""

from __future__ import annotations

import asyncio

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
