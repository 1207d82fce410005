"""Random public ids: a row's number says nothing about how many came before it or when.

SQLite orders a table by its integer key, and people read gaps in counters; an id drawn at random
from a wide range shows neither the count of rows nor the order in which they were written.
"""

from __future__ import annotations

import re
import secrets

from sqlite_utils import Database

DRAWS = 100


def random_id(db: Database, *, table: str, low: int, high: int) -> int:
    """An unused `id` of `table` drawn at random from [low, high], inside the caller's transaction."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
        raise ValueError(f"not a table name: {table!r}")
    for _ in range(DRAWS):
        candidate = low + secrets.randbelow(high - low + 1)
        if db.execute(f'select 1 from "{table}" where id = ?', [candidate]).fetchone() is None:
            return candidate
    raise RuntimeError(f"no free id in {table} after {DRAWS} draws")
