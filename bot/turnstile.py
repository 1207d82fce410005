"""A turnstile: lets one waiting task through per turn of the event loop.

The outbox's sends are background work on the loop that also answers requests. Paced
conversations come due together (every channel a kudos went to is due a second after its last
post), so without this a burst of sends started in the same turn, each costing the loop about
a millisecond, and every request waiting behind that turn waited for all of them. Through the
turnstile each send starts in a turn of its own, with whatever else is ready run in between: a
burst of 50 sends is spread over 50 turns instead of lumped into a few. When the loop is idle a
turn is a few microseconds, so sends alone go as fast as before.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Turnstile:
    def __init__(self) -> None:
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._turning = False  # a release is scheduled for the next turn
        self._loop: asyncio.AbstractEventLoop | None = None

    async def through(self) -> None:
        """Return in a turn of the loop after every earlier waiter's, and not in the same one."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a closed loop's waiters will never be let through
            self._waiting, self._turning, self._loop = deque(), False, loop
        turn: asyncio.Future[None] = loop.create_future()
        self._waiting.append(turn)
        if not self._turning:
            self._turning = True
            loop.call_soon(self._release)
        await turn

    def _release(self) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():  # a cancelled waiter gives its turn to the next
                turn.set_result(None)
                break
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._release)
        else:
            self._turning = False

    def __len__(self) -> int:
        """Tasks waiting to go through."""
        return len(self._waiting)
