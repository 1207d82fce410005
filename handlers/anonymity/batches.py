"""Batch publication: nothing an anonymous author sends keeps the moment it was written.

What an author sends waits for a random delay and then for the next batch mark (every 5 minutes),
so its `publish_at` only says the author wrote somewhere in the delay before it. Only the periodic
batch job releases it, never the next request: the job takes everything due in random order,
gives each post the batch's time, and then empties the write-ahead log, which until then still
holds the order of the authors' commits.

More than one process may run the job at once. Each item is claimed inside the batch's transaction
by a conditional update (see `release_batch`), so whichever process wins posts it, once.
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from sqlite_utils import Database

from bot.store import DB_ERRORS, Store, error_name

log = logging.getLogger("candor.anonymity")

BATCH_EVERY_S = 300  # publications are released together on these marks

Delay = tuple[float, float]  # the random delay's range in seconds; (0, 0) publishes at once
Item = TypeVar("Item")
T = TypeVar("T")


def publish_time(delay: Delay, now: float) -> float:
    """A random delay, then the next batch mark: when something sent `now` may be published."""
    low, high = delay
    if high <= 0:
        return now
    delayed = now + low + secrets.SystemRandom().uniform(0, high - low)
    return float(math.ceil(delayed / BATCH_EVERY_S) * BATCH_EVERY_S)


def batch_of(now: float) -> float:
    """The batch mark a job running at `now` releases with: the time every post it writes carries."""
    return float(math.floor(now / BATCH_EVERY_S) * BATCH_EVERY_S)


def is_delayed(delay: Delay) -> bool:
    """False when the delay is off (the shell, tests): a submission then publishes itself."""
    return delay[1] > 0


def day_of(moment: float) -> str:
    """The UTC day as 2026-01-31: stored instead of a time, which would say when someone wrote."""
    return datetime.fromtimestamp(moment, UTC).date().isoformat()


def start_of_day(now: float) -> float:
    """The start of the UTC day, for a row whose creation time must not be kept precisely."""
    return float(math.floor(now / 86400) * 86400)


def describe_delay(delay: Delay) -> str:
    """When something an author sends appears, as the settings really make it happen."""
    low, high = delay
    if high <= 0:
        return "at once"
    mark = f"at the next {_duration(BATCH_EVERY_S)} mark, together with anything else due then"
    if low == high:
        return f"{_duration(low)} after you send it, {mark}"
    return f"after a random delay of {_span(low, high)}, {mark}"


async def release_batch(
    store: Store,
    *,
    items: Sequence[Item],
    release: Callable[[Database, Item, float], bool],
    now: float,
) -> int:
    """Release the due `items` in random order in one transaction, then empty the write-ahead log.

    `release(tx, item, batch)` first claims its item with a conditional update, in SQL both SQLite
    and PostgreSQL run the same way (e.g. `update … set post = ? where id = ? and post is null`):
    when another process released it first, the update changes no row and `release` writes nothing
    and returns False. Otherwise it writes the item's posts with `batch` as their time (outbox
    `created_at` and `not_before`) and returns True. Returns how many items this call released.
    The transaction is `Store.run`'s: off the event loop on PostgreSQL.
    """
    if not items:
        return 0
    shuffled, batch = _shuffled(items), batch_of(now)
    # Alone: with no delay the batch is released inside the author's own request, whose turn of
    # the event loop may hold other people's named writes.
    released = await store.run(lambda tx: sum(release(tx, item, batch) for item in shuffled), alone=True)
    empty_log(store)
    return released


async def write(store: Store, work: Callable[[Database], T]) -> T:
    """An anonymous author's write (a concern, a follow-up, a review): committed, then the
    write-ahead log is emptied at once, so no file holds their commit between their other writes.
    The commit is the write's alone: in a group commit it would sit in one transaction with the
    named writes of whoever asked in the same turn of the event loop.
    If a reader holds the log, nothing is said: a line logged now would tell when the author
    wrote. The background task (bot/checkpoints.py) empties it once the reader lets go. And the
    write is committed: nothing after it may make the author think it was lost."""
    done = await store.run(work, alone=True)
    with contextlib.suppress(*DB_ERRORS):
        store.checkpoint()
    return done


def _shuffled(items: Sequence[Item]) -> list[Item]:
    shuffled = list(items)
    secrets.SystemRandom().shuffle(shuffled)
    return shuffled


def empty_log(store: Store) -> None:
    """After a job's commit at a moment anyone may know (a batch released, a pulse round closed),
    empty the write-ahead log. What keeps it from being emptied is logged, since the job's time
    is public, and never raised: the job's commit stands, and the background checkpoint empties
    the log later. (An author's own write says nothing: `write`.)"""
    try:
        emptied = store.checkpoint()
    except DB_ERRORS as exc:
        log.warning(
            "after an anonymous batch or a closed pulse round: the write-ahead log could not be "
            "emptied; the background checkpoint tries again",
            extra={"error": error_name(exc)},
        )
        return
    if not emptied:
        log.warning(
            "after an anonymous batch or a closed pulse round: a reader holds the write-ahead log; "
            "it is emptied once the reader lets go (the background checkpoint, or the next batch)"
        )


def _duration(seconds: float) -> str:
    """90 → "90 seconds", 300 → "5 minutes", 3600 → "1 hour"."""
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{seconds:g} seconds"


def _span(low: float, high: float) -> str:
    """(300, 1800) → "5 to 30 minutes"; (0, 600) → "up to 10 minutes"; (90, 3600) → "90 seconds to 1 hour"."""
    if low <= 0:
        return f"up to {_duration(high)}"
    lo, hi = _duration(low), _duration(high)
    if lo.split()[1].rstrip("s") == hi.split()[1].rstrip("s"):
        return f"{lo.split()[0]} to {hi}"
    return f"{lo} to {hi}"
