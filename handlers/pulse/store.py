"""All of the pulse's SQL: keyword-only functions over its tables, returning frozen dataclasses.

Who answered (`pulse_invites`) and what was answered (`pulse_answers`) are written apart: an answer
row has no user, no time, and a random id; an invite row is written when the round opens and only
flips `answered`. Opening, reminding and closing a round are each claimed by a conditional update
whose row count says which process won, in the transaction that does the work.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields

from sqlite_utils import Database

from handlers.anonymity import random_id
from handlers.pulse.ids import Repeat, RoundState, Withheld
from handlers.pulse.rules import ANSWER_IDS


@dataclass(frozen=True)
class Schedule:
    id: int
    platform: str
    workspace: str
    conversation: str
    created_by: str
    repeat: Repeat
    open_days: int
    tz: str
    next_at: float | None
    created_at: float | None
    stopped_at: float | None


@dataclass(frozen=True)
class Round:
    id: int
    platform: str
    workspace: str
    conversation: str
    schedule_id: int | None
    state: RoundState
    opened_at: float
    closes_at: float
    tz: str | None
    remind_at: float | None
    reminded_at: float | None
    closed_at: float | None
    invited: int
    answers: int | None
    published: int | None
    withheld: Withheld | None
    score: float | None
    item_means: tuple[float, ...] | None
    announce_outbox: int | None
    result_outbox: int | None

    @property
    def response_rate(self) -> float | None:
        """Answers per member invited, in %, once counted."""
        if self.answers is None or not self.invited:
            return None
        return round(100 * self.answers / self.invited, 1)


_SCHEDULE_FIELDS = tuple(f.name for f in fields(Schedule))
_SCHEDULE = ", ".join(_SCHEDULE_FIELDS)
_ROUND_FIELDS = tuple(f.name for f in fields(Round))
_ROUND = ", ".join(_ROUND_FIELDS)


def _schedule(row: Sequence) -> Schedule:
    values = dict(zip(_SCHEDULE_FIELDS, row, strict=True))
    values["repeat"] = Repeat(values["repeat"])
    return Schedule(**values)


def _round(row: Sequence) -> Round:
    values = dict(zip(_ROUND_FIELDS, row, strict=True))
    values["state"] = RoundState(values["state"])
    values["withheld"] = Withheld(values["withheld"]) if values["withheld"] else None
    values["item_means"] = tuple(json.loads(values["item_means"])) if values["item_means"] else None
    return Round(**values)


# --- schedules ----------------------------------------------------------------------------------
def active_schedule(db: Database, *, platform: str, workspace: str, conversation: str) -> Schedule | None:
    row = db.execute(
        f"select {_SCHEDULE} from pulse_schedules where platform = ? and workspace = ? "
        "and conversation = ? and stopped_at is null and next_at is not null order by id desc limit 1",
        [platform, workspace, conversation],
    ).fetchone()
    return _schedule(row) if row else None


def add_schedule(
    tx: Database,
    *,
    platform: str,
    workspace: str,
    conversation: str,
    created_by: str,
    repeat: Repeat,
    open_days: int,
    tz: str,
    next_at: float,
    now: float,
) -> int:
    cursor = tx.execute(
        "insert into pulse_schedules (platform, workspace, conversation, created_by, repeat, open_days, "
        "tz, next_at, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning id",
        [platform, workspace, conversation, created_by, repeat, open_days, tz, next_at, now],
    )
    return int(cursor.fetchone()[0])


def stop_schedule(tx: Database, *, schedule_id: int, now: float) -> bool:
    cursor = tx.execute(
        "update pulse_schedules set stopped_at = ?, next_at = null where id = ? and stopped_at is null",
        [now, schedule_id],
    )
    return cursor.rowcount == 1


def due_schedules(db: Database, *, now: float, limit: int) -> list[Schedule]:
    rows = db.execute(
        f"select {_SCHEDULE} from pulse_schedules where next_at <= ? and stopped_at is null "
        "order by next_at limit ?",
        [now, limit],
    ).fetchall()
    return [_schedule(row) for row in rows]


def claim_schedule(tx: Database, *, schedule_id: int, before: float, after: float | None) -> bool:
    """Move a due schedule to its next occurrence; False if another process moved it first."""
    cursor = tx.execute(
        "update pulse_schedules set next_at = ? where id = ? and next_at = ? and stopped_at is null",
        [after, schedule_id, before],
    )
    return cursor.rowcount == 1


def postpone_schedule(tx: Database, *, schedule_id: int, before: float, after: float) -> None:
    """Try again later (the channel's members could not be listed, a round is still open)."""
    tx.execute(
        "update pulse_schedules set next_at = ? where id = ? and next_at = ?", [after, schedule_id, before]
    )


# --- rounds -------------------------------------------------------------------------------------
def add_round(
    tx: Database,
    *,
    platform: str,
    workspace: str,
    conversation: str,
    schedule_id: int | None,
    opened_at: float,
    closes_at: float,
    tz: str,
    remind_at: float | None,
    invited: int,
) -> int:
    cursor = tx.execute(
        "insert into pulse_rounds (platform, workspace, conversation, schedule_id, state, opened_at, "
        "closes_at, tz, remind_at, invited) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id",
        [
            platform,
            workspace,
            conversation,
            schedule_id,
            RoundState.OPEN,
            opened_at,
            closes_at,
            tz,
            remind_at,
            invited,
        ],
    )
    return int(cursor.fetchone()[0])


def set_announcement(tx: Database, *, round_id: int, post: int) -> None:
    tx.execute("update pulse_rounds set announce_outbox = ? where id = ?", [post, round_id])


def add_invites(tx: Database, *, round_id: int, invites: Sequence[tuple[str, int]]) -> None:
    """(user, their card's outbox id) for each member, in the order the channel listed them."""
    for user, card in invites:
        tx.execute(
            "insert into pulse_invites (round_id, user, answered, dm_outbox) values (?, ?, 0, ?)",
            [round_id, user, card],
        )


def get_round(db: Database, *, round_id: int, platform: str, workspace: str) -> Round | None:
    row = db.execute(
        f"select {_ROUND} from pulse_rounds where id = ? and platform = ? and workspace = ?",
        [round_id, platform, workspace],
    ).fetchone()
    return _round(row) if row else None


def open_round(db: Database, *, platform: str, workspace: str, conversation: str) -> Round | None:
    row = db.execute(
        f"select {_ROUND} from pulse_rounds where platform = ? and workspace = ? and conversation = ? "
        "and state = ? order by id desc limit 1",
        [platform, workspace, conversation, RoundState.OPEN],
    ).fetchone()
    return _round(row) if row else None


def is_invited(db: Database, *, round_id: int, user: str) -> bool | None:
    """None: not invited; else whether they answered."""
    row = db.execute(
        "select answered from pulse_invites where round_id = ? and user = ?", [round_id, user]
    ).fetchone()
    return None if row is None else bool(row[0])


def claim_answer(tx: Database, *, round_id: int, user: str) -> bool:
    """Mark the member as having answered; False if they already had (or were not invited)."""
    cursor = tx.execute(
        "update pulse_invites set answered = 1 where round_id = ? and user = ? and answered = 0 "
        "and exists (select 1 from pulse_rounds where id = ? and state = ?)",
        [round_id, user, round_id, RoundState.OPEN],
    )
    return cursor.rowcount == 1


def add_answer(tx: Database, *, round_id: int, answer: Sequence[int], comment: str | None) -> None:
    """The answer alone: no user, no time, a random id (its place among rows says nothing)."""
    answer_id = random_id(tx, table="pulse_answers", low=ANSWER_IDS[0], high=ANSWER_IDS[1])
    tx.execute(
        "insert into pulse_answers (id, round_id, q1, q2, q3, q4, q5, q6, q7, comment) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [answer_id, round_id, *answer, comment],
    )


def due_reminders(db: Database, *, now: float, limit: int) -> list[Round]:
    rows = db.execute(
        f"select {_ROUND} from pulse_rounds where state = ? and remind_at <= ? and reminded_at is null "
        "order by remind_at limit ?",
        [RoundState.OPEN, now, limit],
    ).fetchall()
    return [_round(row) for row in rows]


def claim_reminder(tx: Database, *, round_id: int, now: float) -> bool:
    cursor = tx.execute(
        "update pulse_rounds set reminded_at = ? where id = ? and reminded_at is null and state = ?",
        [now, round_id, RoundState.OPEN],
    )
    return cursor.rowcount == 1


def not_answered(db: Database, *, round_id: int) -> list[str]:
    rows = db.execute(
        "select user from pulse_invites where round_id = ? and answered = 0 order by user", [round_id]
    )
    return [user for (user,) in rows]


def due_closes(db: Database, *, now: float, limit: int) -> list[Round]:
    rows = db.execute(
        f"select {_ROUND} from pulse_rounds where state = ? and closes_at <= ? order by closes_at limit ?",
        [RoundState.OPEN, now, limit],
    ).fetchall()
    return [_round(row) for row in rows]


def claim_close(tx: Database, *, round_id: int, now: float) -> bool:
    cursor = tx.execute(
        "update pulse_rounds set state = ?, closed_at = ? where id = ? and state = ?",
        [RoundState.CLOSED, now, round_id, RoundState.OPEN],
    )
    return cursor.rowcount == 1


@dataclass(frozen=True)
class Answer:
    scores: tuple[int, ...]  # one per item, in the survey's order
    comment: str | None


def answers_of(db: Database, *, round_id: int) -> list[Answer]:
    """A round's answers and comments, in the random order of their ids."""
    rows = db.execute(
        "select q1, q2, q3, q4, q5, q6, q7, comment from pulse_answers where round_id = ? order by id",
        [round_id],
    )
    return [Answer(tuple(row[:7]), row[7]) for row in rows]


def respondents(db: Database, *, round_id: int) -> frozenset[str]:
    rows = db.execute("select user from pulse_invites where round_id = ? and answered = 1", [round_id])
    return frozenset(user for (user,) in rows)


def concurrent_published(
    db: Database, *, platform: str, workspace: str, opened_at: float, closed_at: float, other_than: int
) -> list[Round]:
    """Published rounds of the workspace whose open periods overlapped this one's."""
    rows = db.execute(
        f"select {_ROUND} from pulse_rounds where platform = ? and workspace = ? and published = 1 "
        "and id != ? and opened_at < ? and closed_at > ?",
        [platform, workspace, other_than, closed_at, opened_at],
    ).fetchall()
    return [_round(row) for row in rows]


def record_result(
    tx: Database,
    *,
    round_id: int,
    answers: int,
    withheld: Withheld | None,
    score: float | None,
    item_means: Sequence[float] | None,
) -> None:
    tx.execute(
        "update pulse_rounds set answers = ?, published = ?, withheld = ?, score = ?, item_means = ? "
        "where id = ?",
        [
            answers,
            0 if withheld else 1,
            withheld,
            score,
            json.dumps(list(item_means)) if item_means is not None else None,
            round_id,
        ],
    )


def set_result_post(tx: Database, *, round_id: int, post: int) -> None:
    tx.execute("update pulse_rounds set result_outbox = ? where id = ?", [post, round_id])


def forget_answers(tx: Database, *, round_id: int) -> None:
    """A round whose results are withheld keeps no answers: nothing stays that could point at someone."""
    tx.execute("delete from pulse_answers where round_id = ?", [round_id])


def forget_comments(tx: Database, *, round_id: int) -> None:
    """Comments not shown (fewer than 10 answers) are not kept either."""
    tx.execute(
        "update pulse_answers set comment = null where round_id = ? and comment is not null", [round_id]
    )


def previous_published(
    db: Database, *, platform: str, workspace: str, conversation: str, before: float
) -> Round | None:
    row = db.execute(
        f"select {_ROUND} from pulse_rounds where platform = ? and workspace = ? and conversation = ? "
        "and published = 1 and closed_at < ? order by closed_at desc limit 1",
        [platform, workspace, conversation, before],
    ).fetchone()
    return _round(row) if row else None


def closed_rounds(
    db: Database, *, platform: str, workspace: str, conversation: str | None, since: float, until: float
) -> list[Round]:
    """Rounds closed in [since, until), oldest first: the team's, or the workspace's."""
    where = "platform = ? and workspace = ? and state = ? and closed_at >= ? and closed_at < ?"
    params: list[object] = [platform, workspace, RoundState.CLOSED, since, until]
    if conversation is not None:
        where += " and conversation = ?"
        params.append(conversation)
    rows = db.execute(f"select {_ROUND} from pulse_rounds where {where} order by closed_at, id", params)
    return [_round(row) for row in rows.fetchall()]


def last_closed(db: Database, *, platform: str, workspace: str, conversation: str) -> Round | None:
    row = db.execute(
        f"select {_ROUND} from pulse_rounds where platform = ? and workspace = ? and conversation = ? "
        "and state = ? order by closed_at desc, id desc limit 1",
        [platform, workspace, conversation, RoundState.CLOSED],
    ).fetchone()
    return _round(row) if row else None
