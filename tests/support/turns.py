"""Counting the turns of the event loop, for tests of what happens in which turn."""

from __future__ import annotations

import asyncio


class LoopTurns:
    """Counts the turns of the running event loop from its creation until `stop`."""

    def __init__(self) -> None:
        self.count = 0
        self._handle = asyncio.get_running_loop().call_soon(self._turn)

    def _turn(self) -> None:
        self.count += 1
        self._handle = asyncio.get_running_loop().call_soon(self._turn)

    def stop(self) -> int:
        self._handle.cancel()
        return self.count
