"""A clock tests move by hand: sleeping advances it at once, so no test waits for real.

Every test clock starts at a fixed instant, never at the machine's time, so the suite gives the
same result on a Tuesday morning and a Friday evening. `CANDOR_TEST_NOW` (an ISO instant) moves
that start, which is how `make test-clocks` runs the whole suite on awkward days: a Friday
17:55, a Sunday, and the DST change days.

Like the system's, the fake has two clocks: the wall clock (`now`, `t`) and a monotonic one.
Time passing (`sleep`, `advance`) moves both; `step` moves only the wall clock, as an operator or
NTP setting the time does, and `step_during_next_sleep` does so while the runtime is waiting.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime

DEFAULT_START = "2026-06-10T08:00:00+00:00"  # a Wednesday morning, far from any DST change
MONOTONIC_START = 1000.0  # unrelated to the wall clock, as time.monotonic() is


def start_instant() -> float:
    raw = os.environ.get("CANDOR_TEST_NOW", "").strip() or DEFAULT_START
    when = datetime.fromisoformat(raw)
    if when.tzinfo is None:
        raise ValueError("CANDOR_TEST_NOW needs an offset, e.g. 2026-11-27T16:55:00+00:00")
    return when.timestamp()


class FakeClock:
    def __init__(self, start: float | None = None) -> None:
        self.t = start_instant() if start is None else start
        self.m = MONOTONIC_START
        self._steps_in_sleep: list[float] = []

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.m

    async def sleep(self, seconds: float) -> None:
        if self._steps_in_sleep:
            self.t += self._steps_in_sleep.pop(0)
        self.t += max(0.0, seconds)
        self.m += max(0.0, seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        """Time passes."""
        self.t += seconds
        self.m += seconds

    def step(self, seconds: float) -> None:
        """The wall clock is set forward (or back, if negative); no time passes."""
        self.t += seconds

    def step_during_next_sleep(self, seconds: float) -> None:
        """While the next `sleep` waits, the wall clock is set by `seconds` (and the sleep still lasts)."""
        self._steps_in_sleep.append(seconds)
