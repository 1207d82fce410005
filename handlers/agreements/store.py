"""All of agreements' SQL: keyword-only functions over its tables, returning frozen dataclasses.

A change of state is a conditional update on what the change was decided from (the state, the
current offer, whose turn it is); its row count says whether this request won, so a double click,
a stale button or two processes at once change an agreement once. The SQL is what SQLite and
PostgreSQL both accept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields

from sqlite_utils import Database

from handlers.agreements.ids import OPEN_STATES, Miss, OfferKind, Outcome, Role, State
from handlers.reporting import ReportScope, shown_sum


@dataclass(frozen=True)
class Agreement:
    id: int
    platform: str
    workspace: str
    conversation: str
    requester: str
    performer: str
    what: str
    done_means: str
    process_goal: str | None
    due_at: float
    due_tz: str | None
    state: State
    turn: Role | None
    offer_seq: int
    case_id: int | None
    created_at: float
    accepted_at: float | None
    done_at: float | None
    closed_at: float | None
    renegotiated_at: float | None
    performer_tz: str | None
    remind_at: float | None
    reminded_at: float | None
    miss: Miss | None
    missing: str | None

    def role_of(self, user: str) -> Role | None:
        if user == self.requester:
            return Role.REQUESTER
        if user == self.performer:
            return Role.PERFORMER
        return None

    def party(self, role: Role) -> str:
        return self.requester if role == Role.REQUESTER else self.performer

    def other(self, role: Role) -> Role:
        return Role.PERFORMER if role == Role.REQUESTER else Role.REQUESTER


_FIELDS = tuple(f.name for f in fields(Agreement))
_COLUMNS = ", ".join(_FIELDS)


def _agreement(row: tuple) -> Agreement:
    values = dict(zip(_FIELDS, row, strict=True))
    values["state"] = State(values["state"])
    values["turn"] = Role(values["turn"]) if values["turn"] else None
    values["miss"] = Miss(values["miss"]) if values["miss"] else None
    return Agreement(**values)


@dataclass(frozen=True)
class Offer:
    agreement_id: int
    seq: int
    by_user: str
    kind: OfferKind
    due_at: float
    due_tz: str | None
    done_means: str
    reason: str | None
    created_at: float
    outcome: Outcome | None
    answer: str | None
    dm_outbox: int | None


_OFFER_FIELDS = tuple(f.name for f in fields(Offer))
_OFFER_COLUMNS = ", ".join(_OFFER_FIELDS)


def _offer(row: tuple) -> Offer:
    values = dict(zip(_OFFER_FIELDS, row, strict=True))
    values["kind"] = OfferKind(values["kind"])
    values["outcome"] = Outcome(values["outcome"]) if values["outcome"] else None
    return Offer(**values)


@dataclass(frozen=True)
class Review:
    role: Role
    by_user: str
    answers: dict[str, str]  # question id → answer
    created_at: float


@dataclass(frozen=True)
class Tally:
    """Agreements made (accepted) in a period, as a team: never who."""

    made: int
    concluded: int  # kept, or missed / not yet
    kept: int
    renegotiated: int
    missed: int
    reviewed_after_miss: int


@dataclass(frozen=True)
class PlanProgress:
    """How the agreements of an escalation case's documented plan stand."""

    accepted: int
    missed_reviewed: int
    awaiting_review: int


# --- agreements --------------------------------------------------------------------------------
def insert_agreement(
    tx: Database,
    *,
    platform: str,
    workspace: str,
    conversation: str,
    requester: str,
    performer: str,
    what: str,
    done_means: str,
    process_goal: str | None,
    due_at: float,
    due_tz: str,
    case_id: int | None,
    now: float,
) -> int:
    cursor = tx.execute(
        "insert into agreements (platform, workspace, conversation, requester, performer, what, done_means, "
        "process_goal, due_at, due_tz, state, turn, offer_seq, case_id, created_at) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            platform,
            workspace,
            conversation,
            requester,
            performer,
            what,
            done_means,
            process_goal,
            due_at,
            due_tz,
            State.OFFERED,
            Role.PERFORMER,
            1,
            case_id,
            now,
        ],
    )
    return int(cursor.lastrowid or 0)


def agreement(db: Database, *, agreement_id: int, platform: str, workspace: str) -> Agreement | None:
    row = db.execute(
        f"select {_COLUMNS} from agreements where id = ? and platform = ? and workspace = ?",
        [agreement_id, platform, workspace],
    ).fetchone()
    return _agreement(row) if row else None


def change(
    tx: Database, *, agreement_id: int, expected: Mapping[str, object], values: Mapping[str, object]
) -> bool:
    """Set `values` if the row still has the `expected` values (None: is null); True if it did.

    Column names come from this module's callers only, and are checked against the table's."""
    unknown = (set(expected) | set(values)) - set(_FIELDS)
    if unknown:
        raise ValueError(f"not columns of agreements: {sorted(unknown)}")
    sets = ", ".join(f"{column} = ?" for column in values)
    conditions = " and ".join(
        f"{column} is null" if value is None else f"{column} = ?" for column, value in expected.items()
    )
    params = [*values.values(), agreement_id, *(v for v in expected.values() if v is not None)]
    cursor = tx.execute(f"update agreements set {sets} where id = ? and {conditions}", params)
    return cursor.rowcount == 1


def hold(tx: Database, *, agreement_id: int) -> None:
    """Lock the row for the rest of the transaction (PostgreSQL): two sides answering a review at
    the same moment then see each other's answers, and exactly one of them closes it."""
    tx.execute("update agreements set offer_seq = offer_seq where id = ?", [agreement_id])


def listing(
    db: Database, *, platform: str, workspace: str, user: str, role: Role, since: float, limit: int
) -> list[Agreement]:
    """The person's agreements on one side: open ones, and those closed since `since`; newest first."""
    column = "requester" if role == Role.REQUESTER else "performer"
    marks = ", ".join("?" for _ in OPEN_STATES)
    rows = db.execute(
        f"select {_COLUMNS} from agreements where platform = ? and workspace = ? and {column} = ? "
        f"and (state in ({marks}) or closed_at >= ?) order by due_at desc, id desc limit ?",
        [platform, workspace, user, *OPEN_STATES, since, limit],
    ).fetchall()
    return [_agreement(row) for row in rows]


# --- offers -------------------------------------------------------------------------------------
def insert_offer(
    tx: Database,
    *,
    agreement_id: int,
    seq: int,
    by_user: str,
    kind: OfferKind,
    due_at: float,
    due_tz: str,
    done_means: str,
    reason: str | None,
    now: float,
) -> None:
    tx.execute(
        "insert into agreement_offers (agreement_id, seq, by_user, kind, due_at, due_tz, done_means, reason, "
        "created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [agreement_id, seq, by_user, kind, due_at, due_tz, done_means, reason, now],
    )


def set_offer_dm(tx: Database, *, agreement_id: int, seq: int, dm_outbox: int) -> None:
    tx.execute(
        "update agreement_offers set dm_outbox = ? where agreement_id = ? and seq = ?",
        [dm_outbox, agreement_id, seq],
    )


def offer(db: Database, *, agreement_id: int, seq: int) -> Offer | None:
    row = db.execute(
        f"select {_OFFER_COLUMNS} from agreement_offers where agreement_id = ? and seq = ?",
        [agreement_id, seq],
    ).fetchone()
    return _offer(row) if row else None


def offers(db: Database, *, agreement_id: int) -> list[Offer]:
    rows = db.execute(
        f"select {_OFFER_COLUMNS} from agreement_offers where agreement_id = ? order by seq", [agreement_id]
    ).fetchall()
    return [_offer(row) for row in rows]


def answer_offer(
    tx: Database, *, agreement_id: int, seq: int, outcome: Outcome, answer: str | None = None
) -> bool:
    """Record what became of an offer, once. Its message is edited in the same transaction and
    not needed after, so the outbox may forget it (only open offers' messages are kept)."""
    cursor = tx.execute(
        "update agreement_offers set outcome = ?, answer = ?, dm_outbox = null "
        "where agreement_id = ? and seq = ? and outcome is null",
        [outcome, answer, agreement_id, seq],
    )
    return cursor.rowcount == 1


# --- reviews ------------------------------------------------------------------------------------
def add_review(
    tx: Database, *, agreement_id: int, role: Role, by_user: str, answers: Mapping[str, str], now: float
) -> bool:
    cursor = tx.execute(
        "insert into agreement_reviews (agreement_id, role, by_user, answers, created_at) "
        "values (?, ?, ?, ?, ?) on conflict do nothing",
        [agreement_id, role, by_user, json.dumps(dict(answers), ensure_ascii=False), now],
    )
    return cursor.rowcount == 1


def reviews(db: Database, *, agreement_id: int) -> dict[Role, Review]:
    rows = db.execute(
        "select role, by_user, answers, created_at from agreement_reviews where agreement_id = ?",
        [agreement_id],
    ).fetchall()
    return {
        Role(role): Review(Role(role), by_user, dict(json.loads(answers)), created_at)
        for role, by_user, answers, created_at in rows
    }


# --- what the periodic job finds ------------------------------------------------------------------
def due_reminders(db: Database, *, now: float, limit: int) -> list[Agreement]:
    rows = db.execute(
        f"select {_COLUMNS} from agreements where state = ? and remind_at <= ? and reminded_at is null "
        "and due_at > ? order by remind_at limit ?",
        [State.ACCEPTED, now, now, limit],
    ).fetchall()
    return [_agreement(row) for row in rows]


def due_misses(db: Database, *, now: float, limit: int) -> list[Agreement]:
    rows = db.execute(
        f"select {_COLUMNS} from agreements where state = ? and due_at <= ? order by due_at limit ?",
        [State.ACCEPTED, now, limit],
    ).fetchall()
    return [_agreement(row) for row in rows]


# --- team figures ---------------------------------------------------------------------------------
def tally(db: Database, *, scope: ReportScope) -> Tally:
    """One conversation's agreements, or the whole workspace's. There each share counts only the
    conversations whose own share is shown, its base at least k (handlers/reporting.py): made and
    renegotiated the ones with k made, kept the ones with k concluded, reviewed the ones with k
    missed. Agreements made outside a team's channel (in a direct message, or "direct" for a form
    opened with no channel) count on the same terms: only where there are at least k of them, or
    they would be the difference between the workspace and its teams."""
    platform, workspace, conversation = scope.platform, scope.workspace, scope.conversation
    since, until, k = scope.since, scope.until, scope.k
    where = "platform = ? and workspace = ? and accepted_at >= ? and accepted_at < ?"
    params: list[object] = [platform, workspace, since, until]
    counts = (
        "count(*) as made, "
        "count(*) filter (where state = 'kept' or miss is not null) as concluded, "
        "count(*) filter (where state = 'kept') as kept, "
        "count(*) filter (where renegotiated_at is not null) as renegotiated, "
        "count(*) filter (where miss is not null) as missed, "
        "count(*) filter (where miss is not null and state = 'reviewed') as reviewed"
    )
    if conversation is not None:
        row = db.execute(
            f"select {counts} from agreements where {where} and conversation = ?", [*params, conversation]
        ).fetchone()
        return Tally(*row)
    sums = (
        ("made", "made"),
        ("concluded", "concluded"),
        ("kept", "concluded"),
        ("renegotiated", "made"),
        ("missed", "missed"),
        ("reviewed", "missed"),
    )
    row = db.execute(
        f"select {', '.join(shown_sum(part, size) for part, size in sums)} "
        f"from (select {counts} from agreements where {where} group by conversation) as teams",
        [*(k for _ in sums), *params],
    ).fetchone()
    return Tally(*row)


# --- what escalation reads -----------------------------------------------------------------------
def reviewed_between(
    db: Database, *, platform: str, workspace: str, requester: str, performer: str, since: float
) -> int:
    """Agreements one asked of the other, made since `since`, missed and reviewed together."""
    (count,) = db.execute(
        "select count(*) from agreements where platform = ? and workspace = ? and requester = ? "
        "and performer = ? and accepted_at >= ? and state = ? and miss is not null",
        [platform, workspace, requester, performer, since, State.REVIEWED],
    ).fetchone()
    return int(count)


def plan_progress(db: Database, *, case_id: int) -> PlanProgress:
    accepted, missed_reviewed, awaiting = db.execute(
        "select count(*) filter (where accepted_at is not null), "
        "count(*) filter (where miss is not null and state = 'reviewed'), "
        "count(*) filter (where state = 'reviewing') "
        "from agreements where case_id = ?",
        [case_id],
    ).fetchone()
    return PlanProgress(int(accepted), int(missed_reviewed), int(awaiting))


def plan_agreements(db: Database, *, case_id: int) -> list[Agreement]:
    rows = db.execute(
        f"select {_COLUMNS} from agreements where case_id = ? order by due_at, id", [case_id]
    ).fetchall()
    return [_agreement(row) for row in rows]


def open_plan_case(db: Database, *, case_id: int, platform: str, workspace: str, manager: str) -> str | None:
    """The person of an open escalation case this manager runs at its documented-plan stage, if any:
    only there may a plan agreement be made (the escalation practice owns that table)."""
    row = db.execute(
        "select person from escalation_cases where id = ? and platform = ? and workspace = ? "
        "and manager = ? and status = 'open' and stage = 'plan'",
        [case_id, platform, workspace, manager],
    ).fetchone()
    return str(row[0]) if row else None
