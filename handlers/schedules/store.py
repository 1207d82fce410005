"""Every SQL statement on the `schedules` rows, which check-ins, channel nudges and reminders share.

Keyword-only functions that return `Schedule` values. The scheduler reads its groups and due
members here and claims each occurrence with a conditional update, so two processes on one
database fire a schedule once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from bot.recurrence import Recurrence

# In the order `Schedule` declares them; joins select them as `s.<column>`.
COLUMNS = (
    "id",
    "platform",
    "workspace",
    "conversation",
    "kind",
    "owner",
    "days",
    "at",
    "tz",
    "every_weeks",
    "anchor",
    "subject",
    "template",
    "custom_text",
    "tags",
    "remind",
    "skip_dates",
    "paused",
    "checked_until",
    "created_at",
)
_GROUP = ("days", "at", "tz", "every_weeks", "anchor")


@dataclass(frozen=True)
class Schedule:
    id: int
    platform: str
    workspace: str
    conversation: str  # the channel, or the user id whose DM receives it
    kind: str
    owner: str  # the platform user id of whoever created it
    days: str  # "mon,thu"
    at: str  # "09:30", local wall-clock time
    tz: str  # IANA name
    every_weeks: int = 1
    anchor: str = ""  # a Monday (ISO date) that counts as week 0 for every_weeks > 1
    subject: str | None = None  # a 1:1 reminder: the report the manager meets
    template: str | None = None  # a check-in: its template slug, or "custom"
    custom_text: str | None = None
    tags: tuple[str, ...] = ()  # channel nudges: the topics; none means all
    remind: bool = False  # a check-in: remind those who did not answer, once
    skip_dates: tuple[str, ...] = ()  # local ISO dates on which it does not fire
    paused: bool = False
    checked_until: float = 0.0  # occurrences up to this instant are accounted for
    created_at: float = 0.0

    @property
    def recurrence(self) -> Recurrence:
        return Recurrence(self.days, self.at, self.tz, self.every_weeks or 1, self.anchor or "")


def select_columns(alias: str = "") -> str:
    """The column list to select a `Schedule`, e.g. `s.id, s.platform, …` inside a join."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + c for c in COLUMNS)


def from_row(row: Sequence[Any]) -> Schedule:
    """A `Schedule` from a row selected with `select_columns()`."""
    (
        id_,
        platform,
        workspace,
        conversation,
        kind,
        owner,
        days,
        at,
        tz,
        every_weeks,
        anchor,
        subject,
        template,
        custom_text,
        tags,
        remind,
        skip_dates,
        paused,
        checked_until,
        created_at,
    ) = row
    return Schedule(
        id=id_,
        platform=platform,
        workspace=workspace,
        conversation=conversation,
        kind=kind,
        owner=owner,
        days=days,
        at=at,
        tz=tz,
        every_weeks=every_weeks or 1,
        anchor=anchor or "",
        subject=subject,
        template=template,
        custom_text=custom_text,
        tags=tuple(json.loads(tags or "[]")),
        remind=bool(remind),
        skip_dates=tuple(json.loads(skip_dates or "[]")),
        paused=bool(paused),
        checked_until=checked_until or 0.0,
        created_at=created_at or 0.0,
    )


def insert(
    tx: Database,
    *,
    platform: str,
    workspace: str,
    conversation: str,
    kind: str,
    owner: str,
    days: str,
    at: str,
    tz: str,
    now: float,
    every_weeks: int = 1,
    anchor: str = "",
    subject: str | None = None,
    template: str | None = None,
    custom_text: str | None = None,
    tags: tuple[str, ...] = (),
    remind: bool = False,
    skip_dates: tuple[str, ...] = (),
) -> int:
    """Store a schedule whose occurrences count from `now`; its id."""
    (schedule_id,) = tx.execute(
        "insert into schedules (platform, workspace, conversation, kind, owner, subject, days, at, tz, "
        "every_weeks, anchor, template, custom_text, tags, remind, skip_dates, paused, checked_until, "
        "created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) returning id",
        [
            platform,
            workspace,
            conversation,
            kind,
            owner,
            subject,
            days,
            at,
            tz,
            every_weeks,
            anchor,
            template,
            custom_text,
            json.dumps(list(tags)),
            int(remind),
            json.dumps(list(skip_dates)),
            now,
            now,
        ],
    ).fetchone()
    return int(schedule_id)


def count_in_conversation(db: Database, *, platform: str, workspace: str, conversation: str) -> int:
    (count,) = db.execute(
        "select count(*) from schedules where platform = ? and workspace = ? and conversation = ?",
        [platform, workspace, conversation],
    ).fetchone()
    return int(count)


def find(db: Database, *, schedule_id: int, platform: str, workspace: str) -> Schedule | None:
    row = db.execute(
        f"select {select_columns()} from schedules where id = ? and platform = ? and workspace = ?",
        [schedule_id, platform, workspace],
    ).fetchone()
    return from_row(row) if row else None


def listed_for(
    db: Database,
    *,
    platform: str,
    workspace: str,
    conversation: str,
    user: str,
    channel_kinds: tuple[str, ...],
    personal_kinds: tuple[str, ...],
) -> list[Schedule]:
    """A channel's schedules and the person's own private ones (reminders by DM), by id."""
    channel_in = ", ".join("?" for _ in channel_kinds) or "null"
    personal_in = ", ".join("?" for _ in personal_kinds) or "null"
    rows = db.execute(
        f"select {select_columns()} from schedules where platform = ? and workspace = ? and "
        f"((conversation = ? and kind in ({channel_in})) or (owner = ? and kind in ({personal_in}))) "
        "order by id",
        [platform, workspace, conversation, *channel_kinds, user, *personal_kinds],
    ).fetchall()
    return [from_row(r) for r in rows]


def pause(tx: Database, *, schedule_id: int) -> None:
    tx.execute("update schedules set paused = 1 where id = ?", [schedule_id])


def resume(tx: Database, *, schedule_id: int, now: float) -> None:
    """Occurrences missed while paused are not made up: they count as accounted for."""
    tx.execute(
        "update schedules set paused = 0, checked_until = ? where id = ? and paused = 1", [now, schedule_id]
    )


def delete(tx: Database, *, schedule_id: int) -> None:
    tx.execute("delete from schedules where id = ?", [schedule_id])


def delete_owned(tx: Database, *, platform: str, workspace: str, owner: str, kind: str) -> int:
    """Remove a person's schedules of one kind; how many there were."""
    return int(
        tx.execute(
            "delete from schedules where platform = ? and workspace = ? and owner = ? and kind = ?",
            [platform, workspace, owner, kind],
        ).rowcount
    )


# --- the scheduler ----------------------------------------------------------------------------
def groups(db: Database) -> set[Recurrence]:
    """The distinct recurrences of active schedules: the scheduler keeps one job per group."""
    rows = db.execute(f"select distinct {', '.join(_GROUP)} from schedules where paused = 0").fetchall()
    return {
        Recurrence(days, at, tz, every_weeks or 1, anchor or "") for days, at, tz, every_weeks, anchor in rows
    }


def due_in_group(
    db: Database, *, group: Recurrence, occurrence: float, after_id: int, limit: int
) -> list[Schedule]:
    """Active members of a group not yet accounted for up to `occurrence`, by id after `after_id`."""
    rows = db.execute(
        f"select {select_columns()} from schedules where days = ? and at = ? and tz = ? and "
        "every_weeks = ? and anchor = ? and paused = 0 and checked_until < ? "
        "and id > ? order by id limit ?",
        [group.days, group.at, group.tz, group.every_weeks, group.anchor, occurrence, after_id, limit],
    ).fetchall()
    return [from_row(r) for r in rows]


def claim_occurrence(tx: Database, *, schedule_id: int, occurrence: float, until: float) -> bool:
    """Account for `occurrence` (and up to `until`) if nobody has: True for the one caller that did.

    Two processes that read the same due schedule both try; the row says which one won.
    """
    return (
        tx.execute(
            "update schedules set checked_until = ? where id = ? and checked_until < ? and paused = 0",
            [until, schedule_id, occurrence],
        ).rowcount
        == 1
    )


def owned_by(db: Database, *, platform: str, workspace: str, owner: str, limit: int = 20) -> list[Schedule]:
    """The schedules one person created (their check-ins, nudges and 1:1 reminders), by id."""
    rows = db.execute(
        f"select {select_columns()} from schedules where platform = ? and workspace = ? and owner = ? "
        "order by id limit ?",
        [platform, workspace, owner, limit],
    ).fetchall()
    return [from_row(r) for r in rows]
