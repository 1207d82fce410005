"""Time as a dependency, so tests of pacing, back-off and signature age never sleep for real.

`now()` is the wall clock: instants that are stored or shown (epoch seconds). `monotonic()` only
moves forward at a steady rate, whatever an operator or NTP does to the wall clock: waits in
memory (pacing, rate-limit pauses) are measured with it, so a clock step cannot stretch them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()  # the clock asyncio.sleep counts with

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
