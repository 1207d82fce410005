"""All of coaching notes' SQL. Only this module reads the notes' text, and only for their author
or the person they were shared with; `note_dates` is all any other practice may read (escalation
counts the dates as evidence that coaching took place)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlite_utils import Database


@dataclass(frozen=True)
class Note:
    id: int
    platform: str
    workspace: str
    author: str
    person: str
    talked: str
    agreed: str | None
    next_checkin: str | None  # ISO date
    created_at: float
    shared_at: float | None
    remind_at: float | None
    reminded_at: float | None

    def readable_by(self, user: str) -> bool:
        return user == self.author or (user == self.person and self.shared_at is not None)


_FIELDS = tuple(f.name for f in fields(Note))
_COLUMNS = ", ".join(_FIELDS)


def add_note(
    tx: Database,
    *,
    platform: str,
    workspace: str,
    author: str,
    person: str,
    talked: str,
    agreed: str | None,
    next_checkin: str | None,
    remind_at: float | None,
    shared: bool,
    now: float,
) -> int:
    cursor = tx.execute(
        "insert into coaching_notes (platform, workspace, author, person, talked, agreed, next_checkin, "
        "created_at, shared_at, remind_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            platform,
            workspace,
            author,
            person,
            talked,
            agreed,
            next_checkin,
            now,
            now if shared else None,
            remind_at,
        ],
    )
    return int(cursor.lastrowid or 0)


def note(db: Database, *, note_id: int, platform: str, workspace: str) -> Note | None:
    row = db.execute(
        f"select {_COLUMNS} from coaching_notes where id = ? and platform = ? and workspace = ?",
        [note_id, platform, workspace],
    ).fetchone()
    return Note(*row) if row else None


def by_author(
    db: Database, *, platform: str, workspace: str, author: str, person: str, limit: int
) -> list[Note]:
    rows = db.execute(
        f"select {_COLUMNS} from coaching_notes where platform = ? and workspace = ? and author = ? "
        "and person = ? order by created_at desc, id desc limit ?",
        [platform, workspace, author, person, limit],
    ).fetchall()
    return [Note(*row) for row in rows]


def shared_with(db: Database, *, platform: str, workspace: str, person: str, limit: int) -> list[Note]:
    rows = db.execute(
        f"select {_COLUMNS} from coaching_notes where platform = ? and workspace = ? and person = ? "
        "and shared_at is not null order by created_at desc, id desc limit ?",
        [platform, workspace, person, limit],
    ).fetchall()
    return [Note(*row) for row in rows]


def set_shared(tx: Database, *, note_id: int, shared: bool, now: float) -> bool:
    """Share or stop sharing; False if it already was as asked (a double click)."""
    if shared:
        sql = "update coaching_notes set shared_at = ? where id = ? and shared_at is null"
        params: list[object] = [now, note_id]
    else:
        sql = "update coaching_notes set shared_at = null where id = ? and shared_at is not null"
        params = [note_id]
    return tx.execute(sql, params).rowcount == 1


def due_checkins(db: Database, *, now: float, limit: int) -> list[Note]:
    rows = db.execute(
        f"select {_COLUMNS} from coaching_notes where remind_at <= ? and reminded_at is null "
        "order by remind_at limit ?",
        [now, limit],
    ).fetchall()
    return [Note(*row) for row in rows]


def claim_checkin(tx: Database, *, note_id: int, now: float) -> bool:
    cursor = tx.execute(
        "update coaching_notes set reminded_at = ? where id = ? and reminded_at is null", [now, note_id]
    )
    return cursor.rowcount == 1


def note_dates(
    db: Database, *, platform: str, workspace: str, author: str, person: str, since: float
) -> list[float]:
    """When the author wrote coaching notes about the person since `since`: dates, never text."""
    rows = db.execute(
        "select created_at from coaching_notes where platform = ? and workspace = ? and author = ? "
        "and person = ? and created_at >= ? order by created_at",
        [platform, workspace, author, person, since],
    ).fetchall()
    return [float(created_at) for (created_at,) in rows]
