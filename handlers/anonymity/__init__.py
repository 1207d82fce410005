"""What makes any anonymous practice safe: speak-up today, failure reviews and the pulse survey next.

An anonymous practice stores what people wrote but nothing that says who wrote it or when. The
pieces, each small and separately tested:

- Case codes (`codes`): `new_code()` gives the author a random code shown to them alone;
  store only `code_hash(code)`, and find the case again with `hash_of_typed(raw)` (None for
  what cannot be a code).
- Batch publication (`batches`): `publish_time(delay, now)` is when something may appear (a random
  delay, then the next 5-minute mark); only a periodic job publishes, through
  `await release_batch(store, items=..., release=..., now=...)`, which releases due items in
  random order with the batch's time, each claimed by a conditional update so two processes never
  post one twice, and then empties the write-ahead log (its transaction off the event loop on
  PostgreSQL). An author's own write goes through `await write(store, work)`, which empties the
  log right after its commit, saying nothing if it cannot; another job at a public moment (a pulse
  round closing) empties it with `empty_log(store)`, which may say why it could not. Store
  `day_of(...)`, never a time of writing;
  tell people when it appears with `describe_delay(delay)`.
- Random public ids (`public_ids`): `random_id(tx, table=..., low=..., high=...)`, so neither
  gaps nor row order reveal counts or the order of writing.
- k-thresholds (`thresholds`): `meets_k(count, k)` before showing a group's figures, and
  `withheld(k, noun)` instead of them.
- In-memory limits (`limits`): `Limits.used/add(kind, person, window_s, now)`, counts per HMAC of a
  person under a key replaced daily; `Services.anonymity_limits` is the one shared instance.
- Private messages to an author (`private`): `send_privately(...)` bypasses the outbox and logs
  nothing; `report_undelivered(limits, now)` from a periodic job logs failures once a day.

What a practice must still do itself: keep no author column (tests/test_speakup_anonymity.py pins
the columns of the anonymous tables), and log nothing about a submission while handling it.
"""

from __future__ import annotations

from handlers.anonymity.batches import (
    BATCH_EVERY_S,
    Delay,
    batch_of,
    day_of,
    describe_delay,
    empty_log,
    is_delayed,
    publish_time,
    release_batch,
    start_of_day,
    write,
)
from handlers.anonymity.codes import code_hash, hash_of_typed, new_code, normalise_code
from handlers.anonymity.limits import DAY_S, HOUR_S, Limits
from handlers.anonymity.private import report_undelivered, send_privately, sending
from handlers.anonymity.public_ids import random_id
from handlers.anonymity.thresholds import meets_k, withheld

__all__ = [
    "BATCH_EVERY_S",
    "DAY_S",
    "HOUR_S",
    "Delay",
    "Limits",
    "batch_of",
    "code_hash",
    "day_of",
    "describe_delay",
    "empty_log",
    "hash_of_typed",
    "is_delayed",
    "meets_k",
    "new_code",
    "normalise_code",
    "publish_time",
    "random_id",
    "release_batch",
    "report_undelivered",
    "send_privately",
    "sending",
    "start_of_day",
    "withheld",
    "write",
]
