"""All of speak-up's SQL: keyword-only functions over its tables, returning frozen dataclasses.

The SQL is what SQLite and PostgreSQL both accept. Publication and deadline flags are claimed with
conditional updates whose row count says which process won, so two processes running the jobs at
once post each concern, follow-up and flag once. No function here takes or stores who wrote a
concern: the tables have no column for it (tests/test_speakup_anonymity.py pins them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields

from sqlite_utils import Database

from handlers.anonymity import random_id
from handlers.reporting import shown_sum
from handlers.speakup.ids import Deadline, Kind, Status
from handlers.speakup.rules import CASE_IDS, MESSAGE_IDS

# Marks a row claimed by the batch transaction that is publishing it. The same transaction
# replaces it with the outbox row's id before it commits, so no other process ever reads it.
_PUBLISHING = -1


@dataclass(frozen=True)
class Concern:
    id: int  # the public case number
    platform: str
    workspace: str
    conversation: str
    body: str
    wants: str | None
    status: Status
    hidden_reason: str | None
    raised_on: str  # the day of publication
    publish_at: float | None  # the batch mark it waits for
    post_outbox: int | None  # its channel post, once published
    first_reply_on: str | None
    ack_due_on: str | None
    reply_due_on: str | None
    resolve_due_on: str | None
    flagged: frozenset[Deadline]  # deadlines already flagged in its thread

    def due_on(self, deadline: Deadline) -> str | None:
        return {
            Deadline.ACK: self.ack_due_on,
            Deadline.REPLY: self.reply_due_on,
            Deadline.RESOLVE: self.resolve_due_on,
        }[deadline]


_CONCERN_FIELDS = tuple(f.name for f in fields(Concern))
_CONCERN = ", ".join(_CONCERN_FIELDS)  # the column list: the dataclass's fields, in order


def _concern(row: tuple) -> Concern:
    values = dict(zip(_CONCERN_FIELDS, row, strict=True))
    values["status"] = Status(values["status"])
    values["flagged"] = frozenset(Deadline(flag) for flag in _flags(values["flagged"]))
    return Concern(**values)


def _flags(stored: str | None) -> list[str]:
    return list(json.loads(stored or "[]"))


def _flags_text(flags: frozenset[Deadline]) -> str:
    return json.dumps(sorted(flags))  # as every row is written, so a claim can compare the text


@dataclass(frozen=True)
class CaseMessage:
    """A line of a case's thread as its author sees it."""

    kind: Kind
    by_user: str | None  # the manager; always None for the author
    body: str | None
    created_on: str | None


@dataclass(frozen=True)
class FollowUp:
    """An author's follow-up waiting for its batch, with where its concern was posted."""

    id: int
    body: str
    platform: str
    conversation: str
    concern_post: int


@dataclass(frozen=True)
class ChannelCounts:
    conversation: str
    total: int
    open: int
    acknowledged: int
    resolved: int


# --- channels that take concerns ----------------------------------------------------------------
def enabled_channels(db: Database, *, platform: str, workspace: str) -> list[str]:
    return [
        row[0]
        for row in db.execute(
            "select conversation from speakup_channels where platform = ? and workspace = ? "
            "order by created_at",
            [platform, workspace],
        )
    ]


def enable_channel(
    tx: Database, *, platform: str, workspace: str, conversation: str, enabled_by: str, day: float
) -> None:
    tx.execute(
        "insert into speakup_channels (platform, workspace, conversation, enabled_by, created_at) "
        "values (?, ?, ?, ?, ?) on conflict do nothing",
        [platform, workspace, conversation, enabled_by, day],
    )


def disable_channel(tx: Database, *, platform: str, workspace: str, conversation: str) -> None:
    tx.execute(
        "delete from speakup_channels where platform = ? and workspace = ? and conversation = ?",
        [platform, workspace, conversation],
    )


# --- concerns -----------------------------------------------------------------------------------
def add_concern(
    tx: Database,
    *,
    platform: str,
    workspace: str,
    conversation: str,
    code_hash: str,
    body: str,
    wants: str | None,
    raised_on: str,
    publish_at: float,
    due_on: Mapping[Deadline, str],
) -> int:
    """Store a new concern under a random case number, and return that number."""
    concern_id = random_id(tx, table="concerns", low=CASE_IDS[0], high=CASE_IDS[1])
    tx.execute(
        "insert into concerns (id, platform, workspace, conversation, code_hash, body, wants, status, "
        "raised_on, publish_at, flagged, ack_due_on, reply_due_on, resolve_due_on) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            concern_id,
            platform,
            workspace,
            conversation,
            code_hash,
            body,
            wants,
            Status.OPEN,
            raised_on,
            publish_at,
            _flags_text(frozenset()),
            due_on[Deadline.ACK],
            due_on[Deadline.REPLY],
            due_on[Deadline.RESOLVE],
        ],
    )
    return concern_id


def concern(db: Database, *, concern_id: int, platform: str, workspace: str) -> Concern | None:
    row = db.execute(
        f"select {_CONCERN} from concerns where id = ? and platform = ? and workspace = ?",
        [concern_id, platform, workspace],
    ).fetchone()
    return _concern(row) if row else None


def concern_by_code(db: Database, *, code_hash: str, platform: str, workspace: str) -> Concern | None:
    row = db.execute(
        f"select {_CONCERN} from concerns where code_hash = ? and platform = ? and workspace = ?",
        [code_hash, platform, workspace],
    ).fetchone()
    return _concern(row) if row else None


def set_status(tx: Database, *, concern_id: int, status: Status, day: str) -> None:
    """A new status and the day it was reached (`acknowledged_on`, `resolved_on`)."""
    column = {Status.ACKNOWLEDGED: "acknowledged_on", Status.RESOLVED: "resolved_on"}[status]
    tx.execute(f"update concerns set status = ?, {column} = ? where id = ?", [status, day, concern_id])


def note_first_reply(tx: Database, *, concern_id: int, day: str) -> bool:
    """Keep the day of the first reply (for the 30-day deadline); False if there was one already."""
    cursor = tx.execute(
        "update concerns set first_reply_on = ? where id = ? and first_reply_on is null", [day, concern_id]
    )
    return cursor.rowcount == 1


def hide(tx: Database, *, concern_id: int, reason: str) -> None:
    tx.execute("update concerns set hidden_reason = ? where id = ?", [reason, concern_id])


def counts_by_channel(db: Database, *, platform: str, workspace: str, since: str) -> list[ChannelCounts]:
    """Concerns raised on or after the day `since`, per channel, by status."""
    rows = db.execute(
        "select conversation, count(*), "
        "count(*) filter (where status = 'open'), "
        "count(*) filter (where status = 'acknowledged'), "
        "count(*) filter (where status = 'resolved') "
        "from concerns where platform = ? and workspace = ? and raised_on >= ? group by conversation",
        [platform, workspace, since],
    ).fetchall()
    return [ChannelCounts(*row) for row in rows]


# --- the thread: replies, moderation, the author's follow-ups -----------------------------------
def add_message(
    tx: Database,
    *,
    concern_id: int,
    kind: Kind,
    by_user: str | None,
    body: str | None,
    created_on: str,
    outbox_id: int | None = None,
    publish_at: float | None = None,
) -> int:
    """Store a line of the thread under a random id, so its place among rows does not date it."""
    message_id = random_id(tx, table="concern_messages", low=MESSAGE_IDS[0], high=MESSAGE_IDS[1])
    tx.execute(
        "insert into concern_messages (id, concern_id, kind, by_user, body, created_on, outbox_id, "
        "publish_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
        [message_id, concern_id, kind, by_user, body, created_on, outbox_id, publish_at],
    )
    return message_id


def case_messages(db: Database, *, concern_id: int) -> list[CaseMessage]:
    """The thread as it shows it (ids are random): by outbox row, the author's unpublished last;
    a follow-up withheld by hiding is left out."""
    rows = db.execute(
        "select kind, by_user, body, created_on from concern_messages where concern_id = ? and "
        "(kind != 'author' or outbox_id is not null or publish_at is not null) "
        "order by outbox_id is null, outbox_id, publish_at",
        [concern_id],
    ).fetchall()
    return [CaseMessage(Kind(kind), by_user, body, created_on) for kind, by_user, body, created_on in rows]


def withhold_unpublished_follow_ups(tx: Database, *, concern_id: int) -> None:
    """The author's follow-ups not yet published never will be (hiding covers them)."""
    tx.execute(
        "update concern_messages set publish_at = null where concern_id = ? and kind = 'author' "
        "and outbox_id is null",
        [concern_id],
    )


def published_follow_up_posts(tx: Database, *, concern_id: int) -> list[int]:
    """The outbox rows of the author's follow-ups already published."""
    rows = tx.execute(
        "select outbox_id from concern_messages "
        "where concern_id = ? and kind = 'author' and outbox_id is not null",
        [concern_id],
    ).fetchall()
    return [row[0] for row in rows]


# --- the publication batch: what is due, and its claims -----------------------------------------
def due_concerns(db: Database, *, now: float) -> list[Concern]:
    rows = db.execute(
        f"select {_CONCERN} from concerns where post_outbox is null and publish_at <= ?", [now]
    ).fetchall()
    return [_concern(row) for row in rows]


def due_follow_ups(db: Database, *, now: float) -> list[FollowUp]:
    """Follow-ups whose batch time has come, of concerns already published."""
    rows = db.execute(
        "select m.id, m.body, c.platform, c.conversation, c.post_outbox from concern_messages m "
        "join concerns c on c.id = m.concern_id "
        "where m.kind = 'author' and m.outbox_id is null and m.publish_at <= ? "
        "and c.post_outbox is not null",
        [now],
    ).fetchall()
    return [FollowUp(*row) for row in rows]


def claim_concern(tx: Database, *, concern_id: int, now: float) -> bool:
    """Take a due concern for the batch in `tx`; False if another process published it first.

    The caller then posts it and calls `set_concern_post` in the same transaction."""
    cursor = tx.execute(
        "update concerns set post_outbox = ? where id = ? and post_outbox is null and publish_at <= ?",
        [_PUBLISHING, concern_id, now],
    )
    return cursor.rowcount == 1


def set_concern_post(tx: Database, *, concern_id: int, post: int) -> None:
    tx.execute(
        "update concerns set post_outbox = ? where id = ? and post_outbox = ?",
        [post, concern_id, _PUBLISHING],
    )


def claim_follow_up(tx: Database, *, message_id: int, now: float) -> bool:
    """Take a due follow-up for the batch in `tx`; False if another process published it first or
    it was withheld meanwhile (its concern hidden). Then `set_follow_up_post` in the same transaction."""
    cursor = tx.execute(
        "update concern_messages set outbox_id = ? where id = ? and outbox_id is null and publish_at <= ?",
        [_PUBLISHING, message_id, now],
    )
    return cursor.rowcount == 1


def set_follow_up_post(tx: Database, *, message_id: int, post: int) -> None:
    tx.execute(
        "update concern_messages set outbox_id = ? where id = ? and outbox_id = ?",
        [post, message_id, _PUBLISHING],
    )


# --- deadlines ----------------------------------------------------------------------------------
def open_concerns(db: Database) -> list[Concern]:
    """Concerns whose deadlines still run: not resolved, not hidden."""
    rows = db.execute(
        f"select {_CONCERN} from concerns where status != 'resolved' and hidden_reason is null"
    ).fetchall()
    return [_concern(row) for row in rows]


def claim_flags(
    tx: Database, *, concern_id: int, before: frozenset[Deadline], after: frozenset[Deadline]
) -> bool:
    """Record newly flagged deadlines if the row still holds `before` and its deadlines still run:
    False if another process flagged them first, or it was resolved or hidden meanwhile (then the
    caller posts nothing)."""
    cursor = tx.execute(
        "update concerns set flagged = ? where id = ? and coalesce(flagged, '[]') = ? "
        "and status != 'resolved' and hidden_reason is null",
        [_flags_text(after), concern_id, _flags_text(before)],
    )
    return cursor.rowcount == 1


# --- the team report ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PeriodCounts:
    raised: int  # published concerns raised (by their day of publication) in the period
    ack_due: int  # of those, the ones whose 7 days have passed or that were answered
    ack_on_time: int  # acknowledged (or resolved) within 7 days of being raised


def period_counts(
    db: Database,
    *,
    platform: str,
    workspace: str,
    conversation: str | None,
    first_day: str,
    end_day: str,
    today: str,
    k: int,
) -> PeriodCounts:
    """Concerns raised from `first_day` up to (not including) `end_day`, ISO days: days are all a
    concern keeps of its time. For the whole workspace, each count covers only the channels whose
    own is shown (handlers/reporting.py): `raised` the channels with at least k concerns, the
    acknowledgements the channels with at least k concerns past their 7 days."""
    where = "platform = ? and workspace = ? and raised_on >= ? and raised_on < ? and post_outbox > 0"
    args: list[object] = [platform, workspace, first_day, end_day]
    answered = "coalesce(acknowledged_on, resolved_on)"
    counts = (
        "count(*) as raised, "
        f"count(*) filter (where {answered} is not null or ack_due_on < ?) as ack_due, "
        f"count(*) filter (where {answered} is not null and {answered} <= ack_due_on) as ack_on_time"
    )
    if conversation is not None:
        row = db.execute(
            f"select {counts} from concerns where {where} and conversation = ?", [today, *args, conversation]
        ).fetchone()
        return PeriodCounts(*row)
    row = db.execute(
        f"select {shown_sum('raised', 'raised')}, {shown_sum('ack_due', 'ack_due')}, "
        f"{shown_sum('ack_on_time', 'ack_due')} "
        f"from (select {counts} from concerns where {where} group by conversation) as teams",
        [k, k, k, today, *args],
    ).fetchone()
    return PeriodCounts(*row)
