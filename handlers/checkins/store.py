"""Every SQL statement on check-in runs and answers, as keyword-only functions.

A run is one firing of a check-in schedule: its prompt's outbox row (answers are threaded under
it) and its one reminder, which is claimed with a conditional update so it is sent once.
`user` is quoted: PostgreSQL reserves the word.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlite_utils import Database

from handlers.checkins.ids import CheckinKind
from handlers.schedules.store import Schedule, from_row, select_columns

_RUN_WITH_SCHEDULE = (
    f"select r.id, r.occurrence, r.prompt_outbox, r.created_at, {select_columns('s')} "
    "from checkin_runs r join schedules s on s.id = r.schedule_id"
)


@dataclass(frozen=True)
class Run:
    """One check-in as it was posted, with the schedule it came from."""

    id: int
    occurrence: float
    prompt_outbox: int | None  # the prompt's outbox row, which answers are threaded under
    created_at: float
    schedule: Schedule


def _run(row: tuple) -> Run:
    run_id, occurrence, prompt_outbox, created_at, *schedule = row
    return Run(run_id, occurrence, prompt_outbox, created_at or 0.0, from_row(schedule))


def start_run(tx: Database, *, schedule_id: int, occurrence: float, local_date: str, now: float) -> int:
    (run_id,) = tx.execute(
        "insert into checkin_runs (schedule_id, occurrence, local_date, created_at) "
        "values (?, ?, ?, ?) returning id",
        [schedule_id, occurrence, local_date, now],
    ).fetchone()
    return int(run_id)


def set_prompt(tx: Database, *, run_id: int, prompt_outbox: int, reminder_due_at: float | None) -> None:
    tx.execute(
        "update checkin_runs set prompt_outbox = ?, reminder_due_at = ? where id = ?",
        [prompt_outbox, reminder_due_at, run_id],
    )


def find_run(db: Database, *, run_id: int, occurrence: int) -> Run | None:
    """The run with this id that happened in this second (a reused id from a deleted run is not it)."""
    row = db.execute(
        f"{_RUN_WITH_SCHEDULE} where r.id = ? and r.occurrence >= ? and r.occurrence < ?",
        [run_id, occurrence, occurrence + 1],
    ).fetchone()
    return _run(row) if row else None


def answers_of(db: Database, *, run_id: int, user: str) -> dict[str, str]:
    row = db.execute(
        'select answers from checkin_responses where run_id = ? and "user" = ?', [run_id, user]
    ).fetchone()
    return dict(json.loads(row[0])) if row else {}


def save_answers(tx: Database, *, run_id: int, user: str, answers: Mapping[str, str], now: float) -> bool:
    """Store a person's answers; True when they replace answers given before."""
    encoded = json.dumps(dict(answers))
    updated = tx.execute(
        'update checkin_responses set answers = ?, created_at = ? where run_id = ? and "user" = ?',
        [encoded, now, run_id, user],
    ).rowcount
    if updated:
        return True
    tx.execute(
        'insert into checkin_responses (run_id, "user", answers, created_at) values (?, ?, ?, ?)',
        [run_id, user, encoded, now],
    )
    return False


def answered(db: Database, *, run_id: int) -> frozenset[str]:
    rows = db.execute('select "user" from checkin_responses where run_id = ?', [run_id]).fetchall()
    return frozenset(user for (user,) in rows)


def due_reminders(db: Database, *, now: float, limit: int) -> list[Run]:
    """Runs whose reminder is due and not yet sent or given up, the longest waiting first."""
    rows = db.execute(
        f"{_RUN_WITH_SCHEDULE} where r.reminder_due_at <= ? and r.reminder_sent_at is null "
        "order by r.reminder_due_at limit ?",
        [now, limit],
    ).fetchall()
    return [_run(r) for r in rows]


def postpone_reminder(db: Database, *, run_id: int, until: float) -> None:
    db.execute("update checkin_runs set reminder_due_at = ? where id = ?", [until, run_id])


def close_reminder(db: Database, *, run_id: int, now: float) -> None:
    """No reminder for this run, ever (paused, every day blocked, or given up)."""
    db.execute("update checkin_runs set reminder_sent_at = ? where id = ?", [now, run_id])


def claim_reminder(tx: Database, *, run_id: int, now: float) -> bool:
    """Mark the reminder sent if nobody has: True for the one caller that may send it."""
    return (
        tx.execute(
            "update checkin_runs set reminder_sent_at = ? where id = ? and reminder_sent_at is null",
            [now, run_id],
        ).rowcount
        == 1
    )


def forget_schedule(tx: Database, *, schedule_id: int) -> None:
    """A schedule is being deleted: its runs and their answers go first."""
    tx.execute(
        "delete from checkin_responses where run_id in (select id from checkin_runs where schedule_id = ?)",
        [schedule_id],
    )
    tx.execute("delete from checkin_runs where schedule_id = ?", [schedule_id])


@dataclass(frozen=True)
class Held:
    runs: int  # check-ins posted
    answers: int  # answers to them


def held_and_answered(
    db: Database, *, platform: str, workspace: str, conversation: str | None, since: float, until: float
) -> Held:
    """Check-ins held in [since, until) (in one channel, or the whole workspace) and answers to them."""
    where = "s.kind = ? and s.platform = ? and s.workspace = ? and r.occurrence >= ? and r.occurrence < ?"
    args: list[object] = [CheckinKind.CHECKIN, platform, workspace, since, until]
    if conversation is not None:
        where += " and s.conversation = ?"
        args.append(conversation)
    runs, answers = db.execute(
        "select count(distinct r.id), count(c.id) from checkin_runs r "
        "join schedules s on s.id = r.schedule_id "
        f"left join checkin_responses c on c.run_id = r.id where {where}",
        args,
    ).fetchone()
    return Held(int(runs), int(answers))
