"""Structured logs: one JSON object per line, stamped with the current request id.

Never pass user ids, names, tokens or message text as log fields for anonymous practices; the
request id is how an operator follows one request. A failure that repeats (a flood of bad
connections, a disk that stays full) is logged a few times a minute, not once per occurrence.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TextIO

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


@dataclass
class _Window:
    start: float
    passed: int = 0
    held_back: int = 0


class RepeatLimiter(logging.Filter):
    """Lets `burst` records of one kind through per `window_s`; the rest are counted, not written.

    A kind is (logger, level, message template), so "Error handling request from %s" is one kind
    whatever the address. The next record of that kind that gets through carries `repeated`: how
    many were held back before it. Only warnings and errors are limited: the per-request line and
    other routine records are bounded by the traffic itself.
    """

    def __init__(
        self,
        burst: int = 5,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_kinds: int = 1000,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.window_s = window_s
        self.clock = clock
        self.max_kinds = max_kinds
        self._windows: dict[tuple[str, int, str], _Window] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        now = self.clock()
        kind = (record.name, record.levelno, str(record.msg)[:200])
        window = self._windows.get(kind)
        if window is None or now - window.start >= self.window_s:
            if window is not None and window.held_back:
                record.repeated = window.held_back
            if window is None and len(self._windows) >= self.max_kinds:
                self._forget_old(now)
            window = self._windows[kind] = _Window(start=now)
        if window.passed >= self.burst:
            window.held_back += 1
            return False
        window.passed += 1
        return True

    def _forget_old(self, now: float) -> None:
        for kind, window in list(self._windows.items()):
            if now - window.start >= self.window_s and not window.held_back:
                del self._windows[kind]
        while len(self._windows) >= self.max_kinds:  # many kinds at once: drop the oldest
            del self._windows[next(iter(self._windows))]


def setup_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RepeatLimiter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Library debug output can include request bodies and headers: keep it quiet.
    # (Each platform's package quiets its own SDK's loggers the same way when it loads.)
    for noisy in ("aiohttp.access", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
