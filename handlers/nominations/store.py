"""All of nominations' SQL: keyword-only functions over its tables, returning frozen dataclasses.

The SQL is what SQLite and PostgreSQL both accept. A cycle moves on (open → voting → closed) only
through `claim_phase`, a conditional update whose row count says which process won; the winner
tallies and posts in that same transaction. A nomination or a vote first takes the cycle's row
(`hold_open`, `hold_voting`: a write that changes nothing), so it either lands before the close
and is counted, or finds the cycle closed: never lost, never counted after the tally.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields

from sqlite_utils import Database

from handlers.nominations.ids import Level, Phase
from handlers.reporting import ReportScope, shown_teams


@dataclass(frozen=True)
class Cycle:
    id: int
    platform: str
    workspace: str
    conversation: str
    award: str
    opened_by: str
    tz: str
    opened_at: float
    closes_at: float
    show_nominators: bool
    voting_s: float
    top_n: int
    phase: Phase
    finalists: tuple[str, ...]
    voting_opened_at: float | None
    voting_closes_at: float | None
    closed_at: float | None
    announce_outbox: int | None
    vote_outbox: int | None
    result_outbox: int | None

    @property
    def has_vote(self) -> bool:
        return self.voting_s > 0


_CYCLE_FIELDS = tuple(f.name for f in fields(Cycle))
_CYCLE = ", ".join(_CYCLE_FIELDS)


def _cycle(row: Sequence) -> Cycle:
    values = dict(zip(_CYCLE_FIELDS, row, strict=True))
    values["show_nominators"] = bool(values["show_nominators"])
    values["phase"] = Phase(values["phase"])
    values["finalists"] = tuple(json.loads(values["finalists"] or "[]"))
    return Cycle(**values)


@dataclass(frozen=True)
class Nomination:
    id: int
    cycle_id: int
    nominator: str
    nominee: str
    level: Level
    examples: tuple[str, ...]
    created_at: float
    updated_at: float


_NOMINATION = (
    "id, cycle_id, nominator, nominee, level, example_1, example_2, example_3, created_at, updated_at"
)


def _nomination(row: Sequence) -> Nomination:
    id_, cycle_id, nominator, nominee, level, e1, e2, e3, created, updated = row
    examples = tuple(e for e in (e1, e2, e3) if e)
    return Nomination(id_, cycle_id, nominator, nominee, Level(level), examples, created, updated or created)


@dataclass(frozen=True)
class Result:
    nominee: str
    nominators: int
    votes: int | None
    finalist: bool
    winner: bool


@dataclass(frozen=True)
class PastCycle:
    """A closed cycle and who won it, for /nominate history."""

    award: str
    conversation: str
    closed_at: float
    winners: tuple[str, ...]


@dataclass(frozen=True)
class Evidence:
    """A nomination about one person from a closed cycle, as their own evidence shows it."""

    award: str
    conversation: str
    closed_at: float
    nominator: str | None  # None when the cycle hides nominators
    level: Level
    examples: tuple[str, ...]


# --- cycles -------------------------------------------------------------------------------------
def open_cycle(
    tx: Database,
    *,
    platform: str,
    workspace: str,
    conversation: str,
    award: str,
    opened_by: str,
    tz: str,
    opened_at: float,
    closes_at: float,
    show_nominators: bool,
    voting_s: float,
    top_n: int,
) -> int:
    row = tx.execute(
        "insert into nomination_cycles (platform, workspace, conversation, award, opened_by, tz, "
        "opened_at, closes_at, show_nominators, voting_s, top_n, phase) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id",
        [
            platform,
            workspace,
            conversation,
            award,
            opened_by,
            tz,
            opened_at,
            closes_at,
            int(show_nominators),
            voting_s,
            top_n,
            Phase.OPEN.value,
        ],
    ).fetchone()
    return int(row[0])


def set_posts(
    tx: Database,
    *,
    cycle_id: int,
    announce: int | None = None,
    vote: int | None = None,
    result: int | None = None,
) -> None:
    tx.execute(
        "update nomination_cycles set announce_outbox = coalesce(?, announce_outbox), "
        "vote_outbox = coalesce(?, vote_outbox), result_outbox = coalesce(?, result_outbox) where id = ?",
        [announce, vote, result, cycle_id],
    )


def cycle(db: Database, *, cycle_id: int, platform: str, workspace: str) -> Cycle | None:
    row = db.execute(
        f"select {_CYCLE} from nomination_cycles where id = ? and platform = ? and workspace = ?",
        [cycle_id, platform, workspace],
    ).fetchone()
    return _cycle(row) if row else None


def running(db: Database, *, platform: str, workspace: str, conversation: str | None = None) -> list[Cycle]:
    """Cycles taking nominations or votes, in a workspace or one channel, the soonest to close first."""
    where = "platform = ? and workspace = ? and phase in (?, ?)"
    args: list[object] = [platform, workspace, Phase.OPEN.value, Phase.VOTING.value]
    if conversation is not None:
        where += " and conversation = ?"
        args.append(conversation)
    rows = db.execute(
        f"select {_CYCLE} from nomination_cycles where {where} "
        "order by coalesce(voting_closes_at, closes_at), id",
        args,
    )
    return [_cycle(row) for row in rows]


def due(db: Database, *, now: float) -> list[Cycle]:
    """Cycles whose nominations or vote should have closed by `now` (not yet claimed)."""
    rows = db.execute(
        f"select {_CYCLE} from nomination_cycles where (phase = ? and closes_at <= ?) "
        "or (phase = ? and voting_closes_at <= ?) order by id",
        [Phase.OPEN.value, now, Phase.VOTING.value, now],
    )
    return [_cycle(row) for row in rows]


def claim_phase(tx: Database, *, cycle_id: int, before: Phase, after: Phase, now: float) -> bool:
    """Move a cycle on; False if another process (or an admin) already did. Run it first in the
    transaction that tallies and posts, so only the winner does either."""
    stamp = "closed_at" if after == Phase.CLOSED else "voting_opened_at"
    cursor = tx.execute(
        f"update nomination_cycles set phase = ?, {stamp} = ? where id = ? and phase = ?",
        [after.value, now, cycle_id, before.value],
    )
    return cursor.rowcount == 1


def start_vote(tx: Database, *, cycle_id: int, finalists: Sequence[str], closes_at: float) -> None:
    tx.execute(
        "update nomination_cycles set finalists = ?, voting_closes_at = ? where id = ?",
        [json.dumps(list(finalists)), closes_at, cycle_id],
    )


def hold_open(tx: Database, *, cycle_id: int, now: float) -> bool:
    """Take the cycle's row while it takes nominations; False once it closed (or was due to)."""
    cursor = tx.execute(
        "update nomination_cycles set phase = phase where id = ? and phase = ? and closes_at > ?",
        [cycle_id, Phase.OPEN.value, now],
    )
    return cursor.rowcount == 1


def hold_voting(tx: Database, *, cycle_id: int, now: float) -> bool:
    cursor = tx.execute(
        "update nomination_cycles set phase = phase where id = ? and phase = ? and voting_closes_at > ?",
        [cycle_id, Phase.VOTING.value, now],
    )
    return cursor.rowcount == 1


# --- nominations --------------------------------------------------------------------------------
def nomination(db: Database, *, cycle_id: int, nominator: str, nominee: str) -> Nomination | None:
    row = db.execute(
        f"select {_NOMINATION} from nominations where cycle_id = ? and nominator = ? and nominee = ?",
        [cycle_id, nominator, nominee],
    ).fetchone()
    return _nomination(row) if row else None


def nominees_of(db: Database, *, cycle_id: int, nominator: str) -> list[str]:
    """Whom `nominator` nominated in a cycle, in the order they did."""
    rows = db.execute(
        "select nominee from nominations where cycle_id = ? and nominator = ? order by id",
        [cycle_id, nominator],
    )
    return [nominee for (nominee,) in rows]


def save_nomination(
    tx: Database,
    *,
    cycle_id: int,
    nominator: str,
    nominee: str,
    level: Level,
    examples: Sequence[str],
    now: float,
) -> None:
    """A first nomination of this person by this nominator in this cycle, or an edit of it."""
    e1, e2, e3 = (*examples, None, None, None)[:3]
    tx.execute(
        "insert into nominations (cycle_id, nominator, nominee, level, example_1, example_2, example_3, "
        "created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "on conflict (cycle_id, nominator, nominee) do update set level = excluded.level, "
        "example_1 = excluded.example_1, example_2 = excluded.example_2, "
        "example_3 = excluded.example_3, updated_at = excluded.updated_at",
        [cycle_id, nominator, nominee, level.value, e1, e2, e3, now, now],
    )


def nominations(db: Database, *, cycle_id: int) -> list[Nomination]:
    rows = db.execute(f"select {_NOMINATION} from nominations where cycle_id = ? order by id", [cycle_id])
    return [_nomination(row) for row in rows]


def nominators_per_nominee(db: Database, *, cycle_id: int) -> dict[str, int]:
    """The running tally: distinct nominators of each nominee."""
    rows = db.execute(
        "select nominee, count(distinct nominator) from nominations where cycle_id = ? group by nominee",
        [cycle_id],
    )
    return dict(rows.fetchall())


# --- votes --------------------------------------------------------------------------------------
def vote_of(db: Database, *, cycle_id: int, voter: str) -> str | None:
    row = db.execute(
        "select nominee from nomination_votes where cycle_id = ? and voter = ?", [cycle_id, voter]
    ).fetchone()
    return row[0] if row else None


def cast_vote(tx: Database, *, cycle_id: int, voter: str, nominee: str, now: float) -> None:
    """The voter's one vote in a cycle: a first vote, or a change of it."""
    tx.execute(
        "insert into nomination_votes (cycle_id, voter, nominee, voted_at) values (?, ?, ?, ?) "
        "on conflict (cycle_id, voter) do update set nominee = excluded.nominee, "
        "voted_at = excluded.voted_at",
        [cycle_id, voter, nominee, now],
    )


def votes_per_nominee(db: Database, *, cycle_id: int) -> dict[str, int]:
    rows = db.execute(
        "select nominee, count(*) from nomination_votes where cycle_id = ? group by nominee", [cycle_id]
    )
    return dict(rows.fetchall())


# --- results ------------------------------------------------------------------------------------
def record_results(tx: Database, *, cycle_id: int, results: Sequence[Result]) -> None:
    """The tally, once: a second write of the same cycle fails on the primary key."""
    for r in results:
        tx.execute(
            "insert into nomination_results (cycle_id, nominee, nominators, votes, finalist, winner) "
            "values (?, ?, ?, ?, ?, ?)",
            [cycle_id, r.nominee, r.nominators, r.votes, int(r.finalist), int(r.winner)],
        )


def results(db: Database, *, cycle_id: int) -> list[Result]:
    rows = db.execute(
        "select nominee, nominators, votes, finalist, winner from nomination_results where cycle_id = ? "
        "order by winner desc, coalesce(votes, -1) desc, nominators desc, nominee",
        [cycle_id],
    )
    return [Result(n, c, v, bool(f), bool(w)) for n, c, v, f, w in rows]


def history(db: Database, *, platform: str, workspace: str, per_award: int) -> list[PastCycle]:
    """The latest closed cycles of each award, newest first, with their winners."""
    rows = db.execute(
        "select id, award, conversation, closed_at from nomination_cycles c "
        "where platform = ? and workspace = ? and phase = ? and ("
        "  select count(*) from nomination_cycles later where later.platform = c.platform "
        "  and later.workspace = c.workspace and later.award = c.award and later.phase = c.phase "
        "  and (later.closed_at > c.closed_at or (later.closed_at = c.closed_at and later.id > c.id))"
        ") < ? order by award, closed_at desc, id desc",
        [platform, workspace, Phase.CLOSED.value, per_award],
    ).fetchall()
    past = []
    for cycle_id, award, conversation, closed_at in rows:
        winners = db.execute(
            "select nominee from nomination_results where cycle_id = ? and winner = 1 order by nominee",
            [cycle_id],
        ).fetchall()
        past.append(PastCycle(award, conversation, closed_at, tuple(w for (w,) in winners)))
    return past


# --- a person's evidence ------------------------------------------------------------------------
def evidence_about(db: Database, *, platform: str, workspace: str, nominee: str) -> list[Evidence]:
    """Nominations of `nominee` from closed cycles, oldest first; nominators only where shown."""
    rows = db.execute(
        "select c.award, c.conversation, c.closed_at, c.show_nominators, n.nominator, n.level, "
        "n.example_1, n.example_2, n.example_3 from nominations n "
        "join nomination_cycles c on c.id = n.cycle_id "
        "where c.platform = ? and c.workspace = ? and c.phase = ? and n.nominee = ? "
        "order by c.closed_at, n.id",
        [platform, workspace, Phase.CLOSED.value, nominee],
    )
    return [
        Evidence(
            award,
            conversation,
            closed_at,
            nominator if shown else None,
            Level(level),
            (e1, e2, *([e3] if e3 else [])),
        )
        for award, conversation, closed_at, shown, nominator, level, e1, e2, e3 in rows
    ]


def claim_recent(tx: Database, *, key: str, now: float, window_s: float) -> bool:
    """Record `key`; False if it was recorded less than `window_s` ago (a double click)."""
    cursor = tx.execute(
        "insert into processed (key, at) values (?, ?) "
        "on conflict (key) do update set at = excluded.at where processed.at <= ?",
        [key, now, now - window_s],
    )
    return cursor.rowcount == 1


# --- the team report ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Activity:
    cycles: int
    nominations: int
    nominators: int
    nominees: int
    role_models: int
    examples: int
    votes: int
    voters: int


def activity(db: Database, *, scope: ReportScope) -> Activity:
    """Cycles that closed in [since, until) and what they gathered; never who. For the whole
    workspace each figure about people counts only the channels whose own is shown, at least k
    (handlers/reporting.py): nominations the channels with k nominators, nominees the channels
    with k nominees, votes the channels with k voters. Every nomination and vote belongs to a
    channel's cycle. The cycles are counted everywhere: admins open them in the open."""
    platform, workspace, conversation = scope.platform, scope.workspace, scope.conversation
    since, until, k = scope.since, scope.until, scope.k
    where = "c.platform = ? and c.workspace = ? and c.phase = ? and c.closed_at >= ? and c.closed_at < ?"
    args: list[object] = [platform, workspace, Phase.CLOSED.value, since, until]
    if conversation is not None:
        where += " and c.conversation = ?"
        args.append(conversation)
    nominated = "nominations n join nomination_cycles c on c.id = n.cycle_id"
    voted = "nomination_votes v join nomination_cycles c on c.id = v.cycle_id"

    def shown(rows: str, size: str) -> tuple[str, list[object]]:
        """The rows' WHERE and parameters: the whole workspace's keep the teams meeting k."""
        if conversation is not None:
            return where, args
        teams, team_args = shown_teams(
            team="c.conversation", rows=f"{rows} where {where}", params=args, size=size, k=k
        )
        return f"{where} and c.conversation in ({teams})", [*args, *team_args]

    (cycles,) = db.execute(f"select count(*) from nomination_cycles c where {where}", args).fetchone()
    by_nominators, by_nominators_args = shown(nominated, "count(distinct n.nominator)")
    nominations_, nominators, role_models, examples = db.execute(
        "select count(*), count(distinct n.nominator), count(*) filter (where n.level = ?), "
        "coalesce(sum(case when n.example_3 is null then 2 else 3 end), 0) "
        f"from {nominated} where {by_nominators}",
        [Level.ROLE_MODEL.value, *by_nominators_args],
    ).fetchone()
    by_nominees, by_nominees_args = shown(nominated, "count(distinct n.nominee)")
    (nominees,) = db.execute(
        f"select count(distinct n.nominee) from {nominated} where {by_nominees}", by_nominees_args
    ).fetchone()
    by_voters, by_voters_args = shown(voted, "count(distinct v.voter)")
    votes, voters = db.execute(
        f"select count(*), count(distinct v.voter) from {voted} where {by_voters}", by_voters_args
    ).fetchone()
    return Activity(cycles, nominations_, nominators, nominees, role_models, examples, votes, voters)
