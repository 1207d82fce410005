"""Abuse limits that must never be persisted: counters keyed by an HMAC with a per-process key.

Restarting Candor forgets them, which is the point: nothing on disk links a person to how often
they raised an anonymous concern or tried a case code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class Limits:
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    hits: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list), repr=False)

    def _bucket(self, kind: str, person: str) -> str:
        return kind + ":" + hmac.new(self.key, person.encode(), hashlib.sha256).hexdigest()

    def used(self, kind: str, person: str, window_s: float, now: float) -> int:
        """How often `person` did `kind` in the last `window_s` seconds."""
        bucket = self._bucket(kind, person)
        recent = [t for t in self.hits.get(bucket, []) if now - t < window_s]
        if recent:
            self.hits[bucket] = recent
        else:
            self.hits.pop(bucket, None)
        return len(recent)

    def add(self, kind: str, person: str, now: float) -> None:
        self.hits[self._bucket(kind, person)].append(now)
