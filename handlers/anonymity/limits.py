"""In-memory abuse limits for anonymous practices: never persisted, kept as coarsely as possible.

Limits are counts per person per window bucket (a UTC day for concerns, a clock hour for case
codes), never the moments things happened. A person is known only by an HMAC whose random
key is replaced at every UTC day change, when every count is dropped: a memory dump holds at
most today's counts, and nothing in it links them to earlier days. Every use prunes whatever
is stale. Restarting Candor forgets it all, which is the point: nothing on disk links a person
to how often they raised a concern or tried a case code. One limiter serves every anonymous
practice (`Services.anonymity_limits`); each names its own kinds ("speakup-concern").

It also counts private messages to authors that could not be delivered, reported once a day as a
number (handlers/anonymity/private.py), so no log line's time says when a submission happened.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

DAY_S = 86400
HOUR_S = 3600


@dataclass
class _Window:
    seconds: int
    bucket: int  # which window of that length `counts` belong to (epoch seconds // seconds)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Limits:
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    _day: int | None = field(default=None, repr=False)  # the UTC day `_key` belongs to
    _windows: dict[str, _Window] = field(default_factory=dict, repr=False)  # by kind
    _undelivered: int = field(default=0, repr=False)
    _reported_day: int | None = field(default=None, repr=False)

    def _person(self, person: str) -> str:
        return hmac.new(self._key, person.encode(), hashlib.sha256).hexdigest()

    def _counts(self, kind: str, window_s: int, now: float) -> dict[str, int]:
        """The current bucket's counts for `kind`, after dropping everything stale."""
        if window_s <= 0 or DAY_S % window_s:
            raise ValueError("a limit's window must divide a day, so no bucket spans a key change")
        day = int(now // DAY_S)
        if day != self._day:  # a new day: a new key, and nothing from before survives
            self._key = secrets.token_bytes(32)
            self._day = day
            self._windows.clear()
        for name, window in list(self._windows.items()):
            if int(now // window.seconds) != window.bucket:
                del self._windows[name]
        found = self._windows.get(kind)
        if found is None or found.seconds != window_s:
            found = self._windows[kind] = _Window(window_s, int(now // window_s))
        return found.counts

    def used(self, kind: str, person: str, window_s: int, now: float) -> int:
        """How often `person` did `kind` in the current window (a UTC day, a clock hour)."""
        return self._counts(kind, window_s, now).get(self._person(person), 0)

    def add(self, kind: str, person: str, window_s: int, now: float) -> None:
        counts = self._counts(kind, window_s, now)
        key = self._person(person)
        counts[key] = counts.get(key, 0) + 1

    def note_undelivered(self) -> None:
        """A case-code message could not be delivered: counted, never logged when it happens."""
        self._undelivered += 1

    def undelivered_report(self, now: float) -> int:
        """Failures since the last report, handed out at most once a UTC day (else 0)."""
        day = int(now // DAY_S)
        if self._reported_day is None:
            self._reported_day = day
        if day == self._reported_day:
            return 0
        self._reported_day = day
        count, self._undelivered = self._undelivered, 0
        return count
