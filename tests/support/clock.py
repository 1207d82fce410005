"""A clock tests move by hand: sleeping advances it at once, so no test waits for real.

Every test clock starts at a fixed instant, never at the machine's time, so the suite gives the
same result on a Tuesday morning and a Friday evening. `CANDOR_TEST_NOW` (an ISO instant) moves
that start, which is how `make test-clocks` runs the whole suite on awkward days: a Friday
17:55, a Sunday, and the DST change days.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime

DEFAULT_START = "2026-06-10T08:00:00+00:00"  # a Wednesday morning, far from any DST change


def start_instant() -> float:
    raw = os.environ.get("CANDOR_TEST_NOW", "").strip() or DEFAULT_START
    when = datetime.fromisoformat(raw)
    if when.tzinfo is None:
        raise ValueError("CANDOR_TEST_NOW needs an offset, e.g. 2026-11-27T16:55:00+00:00")
    return when.timestamp()


class FakeClock:
    def __init__(self, start: float | None = None) -> None:
        self.t = start_instant() if start is None else start

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.t += seconds
