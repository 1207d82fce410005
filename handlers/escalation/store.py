"""All of escalation's SQL: cases, the steps of each and the observed behaviour it started with.

A move or a close is a conditional update on the stage or status it was decided from, so a second
click or another process changes a case once. Coaching notes and agreements are read through
their own practices' store functions (dates and counts only).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlite_utils import Database

from handlers.escalation.ids import Outcome, Stage, Status, StepKind


@dataclass(frozen=True)
class Case:
    id: int
    platform: str
    workspace: str
    person: str
    manager: str
    stage: Stage
    stage_since: float
    status: Status
    outcome: Outcome | None
    opened_at: float
    closed_at: float | None
    closed_by: str | None


_FIELDS = tuple(f.name for f in fields(Case))
_COLUMNS = ", ".join(_FIELDS)


def _case(row: tuple) -> Case:
    values = dict(zip(_FIELDS, row, strict=True))
    values["stage"] = Stage(values["stage"])
    values["status"] = Status(values["status"])
    values["outcome"] = Outcome(values["outcome"]) if values["outcome"] else None
    return Case(**values)


@dataclass(frozen=True)
class Step:
    kind: StepKind
    stage: Stage
    by_user: str
    at: float
    note: str | None


@dataclass(frozen=True)
class Observation:
    seen: str
    seen_on: str
    impact: str
    by_user: str
    created_at: float


def open_case(
    tx: Database,
    *,
    platform: str,
    workspace: str,
    person: str,
    manager: str,
    seen: str,
    seen_on: str,
    impact: str,
    now: float,
) -> int:
    cursor = tx.execute(
        "insert into escalation_cases (platform, workspace, person, manager, stage, stage_since, status, "
        "opened_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
        [platform, workspace, person, manager, Stage.OBSERVATION, now, Status.OPEN, now],
    )
    case_id = int(cursor.lastrowid or 0)
    _step(
        tx, case_id=case_id, kind=StepKind.OPENED, stage=Stage.OBSERVATION, by_user=manager, at=now, note=None
    )
    tx.execute(
        "insert into escalation_observations (case_id, seen, seen_on, impact, by_user, created_at) "
        "values (?, ?, ?, ?, ?, ?)",
        [case_id, seen, seen_on, impact, manager, now],
    )
    return case_id


def _step(
    tx: Database, *, case_id: int, kind: StepKind, stage: Stage, by_user: str, at: float, note: str | None
) -> None:
    tx.execute(
        "insert into escalation_steps (case_id, kind, stage, by_user, at, note) values (?, ?, ?, ?, ?, ?)",
        [case_id, kind, stage, by_user, at, note],
    )


def case(db: Database, *, case_id: int, platform: str, workspace: str) -> Case | None:
    row = db.execute(
        f"select {_COLUMNS} from escalation_cases where id = ? and platform = ? and workspace = ?",
        [case_id, platform, workspace],
    ).fetchone()
    return _case(row) if row else None


def open_between(db: Database, *, platform: str, workspace: str, manager: str, person: str) -> Case | None:
    row = db.execute(
        f"select {_COLUMNS} from escalation_cases where platform = ? and workspace = ? and manager = ? "
        "and person = ? and status = ?",
        [platform, workspace, manager, person, Status.OPEN],
    ).fetchone()
    return _case(row) if row else None


def move(tx: Database, *, case_id: int, from_stage: Stage, to_stage: Stage, by_user: str, now: float) -> bool:
    cursor = tx.execute(
        "update escalation_cases set stage = ?, stage_since = ? where id = ? and stage = ? and status = ?",
        [to_stage, now, case_id, from_stage, Status.OPEN],
    )
    if cursor.rowcount != 1:
        return False
    _step(tx, case_id=case_id, kind=StepKind.MOVED, stage=to_stage, by_user=by_user, at=now, note=None)
    return True


def close(
    tx: Database, *, case_id: int, stage: Stage, outcome: Outcome, by_user: str, note: str | None, now: float
) -> bool:
    cursor = tx.execute(
        "update escalation_cases set status = ?, outcome = ?, closed_at = ?, closed_by = ? "
        "where id = ? and status = ?",
        [Status.CLOSED, outcome, now, by_user, case_id, Status.OPEN],
    )
    if cursor.rowcount != 1:
        return False
    _step(tx, case_id=case_id, kind=StepKind.CLOSED, stage=stage, by_user=by_user, at=now, note=note)
    return True


def steps(db: Database, *, case_id: int) -> list[Step]:
    rows = db.execute(
        "select kind, stage, by_user, at, note from escalation_steps where case_id = ? order by at, id",
        [case_id],
    ).fetchall()
    return [Step(StepKind(kind), Stage(stage), by_user, at, note) for kind, stage, by_user, at, note in rows]


def reached(db: Database, *, case_id: int, stage: Stage) -> float | None:
    """When the case moved to `stage`, if it did."""
    row = db.execute(
        "select min(at) from escalation_steps where case_id = ? and kind = ? and stage = ?",
        [case_id, StepKind.MOVED, stage],
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def observations(db: Database, *, case_id: int) -> list[Observation]:
    rows = db.execute(
        "select seen, seen_on, impact, by_user, created_at from escalation_observations where case_id = ? "
        "order by created_at, id",
        [case_id],
    ).fetchall()
    return [Observation(*row) for row in rows]


def cases_of(db: Database, *, platform: str, workspace: str, user: str, since: float) -> list[Case]:
    """Cases the user manages or is the person of: open ones, and those closed since `since`."""
    rows = db.execute(
        f"select {_COLUMNS} from escalation_cases where platform = ? and workspace = ? "
        "and (manager = ? or person = ?) and (status = ? or closed_at >= ?) order by opened_at desc, id desc",
        [platform, workspace, user, user, Status.OPEN, since],
    ).fetchall()
    return [_case(row) for row in rows]


def all_open(db: Database, *, platform: str, workspace: str, limit: int) -> list[Case]:
    rows = db.execute(
        f"select {_COLUMNS} from escalation_cases where platform = ? and workspace = ? and status = ? "
        "order by opened_at desc, id desc limit ?",
        [platform, workspace, Status.OPEN, limit],
    ).fetchall()
    return [_case(row) for row in rows]
