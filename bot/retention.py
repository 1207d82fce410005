"""Forget what is no longer needed: sent and failed outbox rows, and delivery keys, after 30 days.

An hourly job deletes them in small chunks, each its own short transaction, yielding to the event
loop in between, so requests are never held up for long.

Some old rows are still needed and are kept however old they are:
- outbox rows the domain tables point at (each practice's `outbox_references`): a concern's post,
  an author's follow-up, a check-in prompt. Replies and edits go in their thread, found by the
  row's `sent_ref`;
- outbox rows that a pending row replies to or edits (`reply_to`, `replaces`);
- `processed` keys that mark something done once ever rather than a delivery seen
  (each practice's `permanent_keys`), e.g. that CANDOR_SPEAKUP_CHANNELS was applied, so a later
  `/speakup disable` sticks.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.store import DB_ERRORS, Store

log = logging.getLogger("candor.retention")

RETENTION_S = 30 * 86400.0
PRUNE_EVERY_S = 3600.0
CHUNK = 500  # rows per transaction


def _prune_outbox_sql(references: tuple[tuple[str, str], ...]) -> str:
    kept = [f"and id not in (select {c} from {t} where {c} is not null)" for t, c in references]
    kept += [
        f"and id not in (select {c} from outbox where status = 'pending' and {c} is not null)"
        for c in ("reply_to", "replaces")
    ]
    # A sent row is never due later than it was sent, so `not_before` narrows the index range.
    return f"""
delete from outbox where id in (
  select id from outbox
  where status in ('sent', 'failed') and not_before < :cutoff and coalesce(sent_at, not_before) < :cutoff
  {" ".join(kept)}
  limit :chunk
)
"""


def _prune_processed_sql(permanent_keys: tuple[str, ...]) -> str:
    # Keys are written in time order, so a scan in storage order finds the old ones first (no
    # rowid, which PostgreSQL does not have).
    return f"""
delete from processed where key in (
  select key from processed
  where at < :cutoff {" ".join(f"and key not like '{p}%'" for p in permanent_keys)}
  limit :chunk
)
"""


@dataclass(frozen=True)
class Pruned:
    outbox: int = 0
    processed: int = 0


async def prune(
    store: Store,
    now: float,
    *,
    references: tuple[tuple[str, str], ...],
    permanent_keys: tuple[str, ...],
    chunk: int = CHUNK,
) -> Pruned:
    """Delete what is older than RETENTION_S and not needed any more; how many rows went.

    `references` name outbox rows the practices still need; `permanent_keys` the prefixes of
    `processed` keys they never forget (both from the registry).
    """
    cutoff = now - RETENTION_S
    try:
        pruned = Pruned(
            outbox=await _in_chunks(store, _prune_outbox_sql(references), cutoff, chunk),
            processed=await _in_chunks(store, _prune_processed_sql(permanent_keys), cutoff, chunk),
        )
    except DB_ERRORS as exc:  # the next run tries again; one line, not a traceback an hour
        log.warning("pruning old rows failed", extra={"error": str(exc)})
        return Pruned()
    if pruned.outbox or pruned.processed:
        log.info("pruned old rows", extra={"outbox": pruned.outbox, "processed": pruned.processed})
    return pruned


async def _in_chunks(store: Store, sql: str, cutoff: float, chunk: int) -> int:
    total = 0
    while True:
        deleted = await store.run(lambda tx: tx.execute(sql, {"cutoff": cutoff, "chunk": chunk}).rowcount)
        total += deleted
        if deleted < chunk:
            return total
        await asyncio.sleep(0)  # let requests in between chunks
