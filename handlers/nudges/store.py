"""Every SQL statement on the nudge rotation (`nudge_log`), as keyword-only functions.

A scope (a person, or a channel schedule) gets each nudge once per rotation; a new rotation
starts when all were sent.
"""

from __future__ import annotations

from sqlite_utils import Database


def sent_in_rotation(db: Database, *, scope: str) -> frozenset[str]:
    """The nudges (slugs) this scope has had in its current rotation."""
    rows = db.execute("select nudge from nudge_log where scope = ?", [scope]).fetchall()
    return frozenset(nudge for (nudge,) in rows)


def clear_rotation(tx: Database, *, scope: str) -> None:
    """Forget what the scope had: a new rotation, or the scope's schedule is gone."""
    tx.execute("delete from nudge_log where scope = ?", [scope])


def record_sent(tx: Database, *, scope: str, nudge: str, now: float) -> None:
    tx.execute("insert into nudge_log (scope, nudge, sent_at) values (?, ?, ?)", [scope, nudge, now])
