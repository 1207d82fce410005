"""A clock tests move by hand: sleeping advances it at once, so no test waits for real."""

from __future__ import annotations

import asyncio
import time


class FakeClock:
    def __init__(self, start: float | None = None) -> None:
        self.t = time.time() if start is None else start

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.t += seconds
