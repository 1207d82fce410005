"""A known dataset across practices, written straight into the tables the practices write, for the
report, export, dashboard and benchmark. (The practices' own tests prove how rows get there.)

`team_dataset` is small and exact: every figure the report shows for it is known by hand.
`bulk` writes many rows quickly for scripts/bench.py.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from sqlite_utils import Database

from handlers.anonymity import day_of

DAY = 86400.0


@dataclass(frozen=True)
class Where:
    platform: str
    workspace: str
    team: str


def kudos(db: Database, where: Where, *, at: float, giver: str, receiver: str, behaviour: str) -> None:
    p = f"{where.platform}:{where.workspace}:"
    db.execute(
        "insert into kudos (platform, workspace, conversation, giver, receiver, behaviour, message, created_at) "
        "values (?, ?, ?, ?, ?, ?, ?, ?)",
        [where.platform, where.workspace, where.team, p + giver, p + receiver, behaviour, "thanks", at],
    )


def concern(
    db: Database, where: Where, *, raised: float, acknowledged: float | None, case: int, now: float
) -> None:
    raised_on = day_of(raised)
    db.execute(
        "insert into concerns (id, platform, workspace, conversation, code_hash, body, status, raised_on, "
        "post_outbox, publish_at, acknowledged_on, ack_due_on, reply_due_on, resolve_due_on, flagged) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]')",
        [
            case,
            where.platform,
            where.workspace,
            where.team,
            f"hash-{case}",
            "a concern",
            "acknowledged" if acknowledged else "open",
            raised_on,
            case,  # any positive id: published
            raised,
            day_of(acknowledged) if acknowledged else None,
            day_of(raised + 7 * DAY),
            day_of(raised + 30 * DAY),
            day_of(raised + 90 * DAY),
        ],
    )


def checkin_schedule(db: Database, where: Where, *, owner: str) -> int:
    cursor = db.execute(
        "insert into schedules (platform, workspace, conversation, kind, owner, days, at, tz, template) "
        "values (?, ?, ?, 'checkin', ?, 'mon', '09:30', 'Europe/Berlin', 'weekly') returning id",
        [where.platform, where.workspace, where.team, owner],
    )
    return int(cursor.fetchone()[0])


def checkin_run(db: Database, schedule_id: int, *, at: float, responders: list[str]) -> None:
    cursor = db.execute(
        "insert into checkin_runs (schedule_id, occurrence, local_date, created_at) values (?, ?, ?, ?) "
        "returning id",
        [schedule_id, at, day_of(at), at],
    )
    run_id = int(cursor.fetchone()[0])
    for user in responders:
        db.execute(
            "insert into checkin_responses (run_id, user, answers, created_at) values (?, ?, ?, ?)",
            [run_id, user, json.dumps({"q0": "fine"}), at + 60],
        )


def agreement(db: Database, where: Where, *, accepted: float, state: str, miss: str | None = None) -> None:
    db.execute(
        "insert into agreements (platform, workspace, conversation, requester, performer, what, done_means, "
        "due_at, state, offer_seq, created_at, accepted_at, miss) values (?, ?, ?, 'alice', 'bob', 'the thing', "
        "'shipped', ?, ?, 1, ?, ?, ?)",
        [where.platform, where.workspace, where.team, accepted + 5 * DAY, state, accepted, accepted, miss],
    )


def pulse_round(
    db: Database, where: Where, *, closed: float, invited: int, answers: int, score: float | None
) -> None:
    published = score is not None
    db.execute(
        "insert into pulse_rounds (platform, workspace, conversation, state, opened_at, closes_at, tz, invited, "
        "closed_at, answers, published, withheld, score, item_means) "
        "values (?, ?, ?, 'closed', ?, ?, 'UTC', ?, ?, ?, ?, ?, ?, ?)",
        [
            where.platform,
            where.workspace,
            where.team,
            closed - 5 * DAY,
            closed,
            invited,
            closed,
            answers,
            1 if published else 0,
            None if published else "few",
            score,
            json.dumps([score] * 7) if published else None,
        ],
    )


def review(
    db: Database,
    where: Where,
    *,
    number: int,
    published: float,
    quality: int,
    actions: list[tuple[float, float | None]],
) -> None:
    """A published, named review with its quality index, and actions as (overdue_at, done_at)."""
    db.execute(
        "insert into reviews (id, platform, workspace, conversation, channel, author, anonymous, title, "
        "happened, impact, factors, learned, next_time, quality, quality_detail, published_on, publish_at, "
        "post_outbox) values (?, ?, ?, ?, ?, 'alice', 0, 'Deploy rolled back', 'x', 'x', 'x', 'x', 'x', ?, "
        "'{}', ?, ?, 1)",
        [
            number,
            where.platform,
            where.workspace,
            where.team,
            where.team,
            quality,
            day_of(published),
            published,
        ],
    )
    for position, (overdue_at, done_at) in enumerate(actions, start=1):
        db.execute(
            "insert into review_actions (id, review_id, position, description, owner, due_on, tz, "
            "overdue_at, done_at) values (?, ?, ?, 'add a canary step', 'bob', ?, 'UTC', ?, ?)",
            [number * 100 + position, number, position, day_of(overdue_at - DAY), overdue_at, done_at],
        )


def nomination_cycle(
    db: Database,
    where: Where,
    *,
    closed: float,
    nominations: list[tuple[str, str, str]],
    votes: list[tuple[str, str]],
) -> None:
    """A closed nomination cycle: nominations as (nominator, nominee, level), votes as (voter, nominee)."""
    cursor = db.execute(
        "insert into nomination_cycles (platform, workspace, conversation, award, opened_by, tz, opened_at, "
        "closes_at, phase, closed_at) values (?, ?, ?, 'role-model', 'alice', 'UTC', ?, ?, 'closed', ?) "
        "returning id",
        [where.platform, where.workspace, where.team, closed - 7 * DAY, closed, closed],
    )
    cycle = int(cursor.fetchone()[0])
    for nominator, nominee, level in nominations:
        db.execute(
            "insert into nominations (cycle_id, nominator, nominee, level, example_1, example_2, created_at) "
            "values (?, ?, ?, ?, 'x', 'y', ?)",
            [cycle, nominator, nominee, level, closed - DAY],
        )
    for voter, nominee in votes:
        db.execute(
            "insert into nomination_votes (cycle_id, voter, nominee, voted_at) values (?, ?, ?, ?)",
            [cycle, voter, nominee, closed - DAY],
        )


def team_size(db: Database, where: Where, members: int, now: float) -> None:
    db.execute(
        "insert into team_sizes (platform, workspace, conversation, day, members) values (?, ?, ?, ?, ?) "
        "on conflict (platform, workspace, conversation) do update set members = excluded.members",
        [where.platform, where.workspace, where.team, day_of(now), members],
    )


TEAM = ["alice", "bob", "carol", "dave", "erin", "frank"]


def team_dataset(db: Database, where: Where, now: float) -> None:
    """The team of six's last 30 days (and a little before), whose report is known by hand:

    - kudos: 12 from 6 givers; feedback 4, spoke-up 3, mentoring 3, owned-it 2 → candour 9
    - speak-up: 6 concerns; 4 acknowledged within 7 days, 1 after 10, 1 raised 2 days ago (not
      due yet) → 80% acknowledged within 7 days; 6 per 100 members... (6 / 6 × 100) = 100 a month
    - reviews: 5 published, quality 60, 70, 80, 90, 100 → mean 80; 6 actions came due, 5 done
      before their due date ended, 1 after → 83.3% on time
    - check-ins: 4 held, 3 + 4 + 5 + 6 answers from 6 members → 75%
    - agreements: 5 accepted, 4 kept, 1 missed and reviewed → 80% kept on time
    - pulse: a round 10 days ago, 5 of 6 answered, 5.40; the one before (40 days ago) 5.00
    """
    behaviours = ["feedback"] * 4 + ["spoke-up"] * 3 + ["mentoring"] * 3 + ["owned-it"] * 2
    for i, behaviour in enumerate(behaviours):
        kudos(
            db,
            where,
            at=now - (i + 1) * DAY,
            giver=TEAM[i % 6],
            receiver=TEAM[(i + 1) % 6],
            behaviour=behaviour,
        )
    for case, (age, ack_after) in enumerate(
        [(20, 1), (18, 2), (15, 6), (12, 3), (25, 10), (2, None)], start=1_000_001
    ):
        raised = now - age * DAY
        concern(
            db,
            where,
            raised=raised,
            acknowledged=raised + ack_after * DAY if ack_after else None,
            case=case,
            now=now,
        )
    for n, (age, quality) in enumerate(((25, 60), (20, 70), (15, 80), (10, 90), (5, 100)), start=7001):
        due = now - (age - 3) * DAY  # each action's due date ended 3 days after its review
        review(db, where, number=n, published=now - age * DAY, quality=quality, actions=[(due, due - DAY)])
    review_late = now - 8 * DAY  # a sixth action, done a day after its due date ended
    db.execute(
        "insert into review_actions (id, review_id, position, description, owner, due_on, tz, overdue_at, "
        "done_at) values (700199, 7001, 9, 'write the runbook', 'carol', ?, 'UTC', ?, ?)",
        [day_of(review_late - DAY), review_late, review_late + DAY],
    )
    schedule = checkin_schedule(db, where, owner="alice")
    for age, count in ((26, 3), (19, 4), (12, 5), (5, 6)):
        checkin_run(db, schedule, at=now - age * DAY, responders=TEAM[:count])
    for age in (20, 16, 12, 8):
        agreement(db, where, accepted=now - age * DAY, state="kept")
    agreement(db, where, accepted=now - 14 * DAY, state="reviewed", miss="missed")
    pulse_round(db, where, closed=now - 40 * DAY, invited=6, answers=6, score=5.0)
    pulse_round(db, where, closed=now - 10 * DAY, invited=6, answers=5, score=5.4)
    team_size(db, where, 6, now)


def small_team(db: Database, where: Where, now: float) -> None:
    """Three people: their pulse had 3 answers (withheld), 2 people gave kudos."""
    for i in range(4):
        kudos(
            db,
            where,
            at=now - (i + 1) * DAY,
            giver=["gil", "hana"][i % 2],
            receiver="ivo",
            behaviour="feedback",
        )
    pulse_round(db, where, closed=now - 5 * DAY, invited=3, answers=3, score=None)
    team_size(db, where, 3, now)


def bulk(db: Database, *, now: float, rows: int, teams: int = 50, seed: int = 7) -> dict[str, int]:
    """About `rows` rows across practices over the last year, in one workspace of `teams` teams."""
    rng = random.Random(seed)
    platform, workspace = "slack", "TBENCH"
    people = [f"U{i:05d}" for i in range(teams * 12)]
    names = [f"C{t:04d}" for t in range(teams)]
    behaviours = [
        "feedback",
        "owned-it",
        "mentoring",
        "spoke-up",
        "asked-for-help",
        "inclusion",
        "follow-through",
    ]
    year = 365 * DAY
    made = {
        "kudos": 0,
        "concerns": 0,
        "checkin_runs": 0,
        "checkin_responses": 0,
        "agreements": 0,
        "pulse_rounds": 0,
    }
    share = {"kudos": 0.55, "concerns": 0.03, "checkins": 0.3, "agreements": 0.12}
    p = f"{platform}:{workspace}:"
    db.conn.executemany(
        "insert into kudos (platform, workspace, conversation, giver, receiver, behaviour, message, created_at) "
        "values (?, ?, ?, ?, ?, ?, 'thanks', ?)",
        (
            (
                platform,
                workspace,
                rng.choice(names),
                p + rng.choice(people),
                p + rng.choice(people),
                rng.choice(behaviours),
                now - rng.random() * year,
            )
            for _ in range(int(rows * share["kudos"]))
        ),
    )
    made["kudos"] = int(rows * share["kudos"])
    concerns = []
    for case in range(int(rows * share["concerns"])):
        raised = now - rng.random() * year
        ack = raised + rng.randint(0, 14) * DAY if rng.random() < 0.8 else None
        concerns.append(
            (
                1_000_000 + case,
                platform,
                workspace,
                rng.choice(names),
                f"h{case}",
                "a concern",
                "acknowledged" if ack else "open",
                day_of(raised),
                case + 1,
                day_of(ack) if ack else None,
                day_of(raised + 7 * DAY),
            )
        )
    db.conn.executemany(
        "insert into concerns (id, platform, workspace, conversation, code_hash, body, status, raised_on, "
        "post_outbox, acknowledged_on, ack_due_on) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        concerns,
    )
    made["concerns"] = len(concerns)
    schedules = {}
    for team in names:
        schedules[team] = checkin_schedule(db, Where(platform, workspace, team), owner=people[0])
    runs_wanted = int(rows * share["checkins"] / 7)
    run_rows = [(schedules[rng.choice(names)], now - rng.random() * year) for _ in range(runs_wanted)]
    db.conn.executemany(
        "insert into checkin_runs (schedule_id, occurrence, created_at) values (?, ?, ?)",
        ((s, at, at) for s, at in run_rows),
    )
    run_ids = [r for (r,) in db.execute("select id from checkin_runs")]
    db.conn.executemany(
        "insert into checkin_responses (run_id, user, answers, created_at) values (?, ?, '{}', 0)",
        ((run, f"U{n}") for run in run_ids for n in range(6)),
    )
    made["checkin_runs"], made["checkin_responses"] = len(run_ids), 6 * len(run_ids)
    states = ["kept", "kept", "kept", "reviewed", "accepted", "declined"]
    agreements = []
    for _ in range(int(rows * share["agreements"])):
        at = now - rng.random() * year
        state = rng.choice(states)
        agreements.append(
            (
                platform,
                workspace,
                rng.choice(names),
                state,
                at,
                at,
                at + 5 * DAY,
                "missed" if state == "reviewed" else None,
            )
        )
    db.conn.executemany(
        "insert into agreements (platform, workspace, conversation, requester, performer, what, done_means, "
        "state, offer_seq, created_at, accepted_at, due_at, miss) values (?, ?, ?, 'a', 'b', 'x', 'y', ?, 1, ?, ?, ?, ?)",
        agreements,
    )
    made["agreements"] = len(agreements)
    for team in names:
        for month in range(12):
            closed = now - (month * 30 + 3) * DAY
            answers = rng.randint(3, 12)
            pulse_round(
                db,
                Where(platform, workspace, team),
                closed=closed,
                invited=12,
                answers=answers,
                score=round(rng.uniform(4, 6.5), 2) if answers >= 5 else None,
            )
            made["pulse_rounds"] += 1
        team_size(db, Where(platform, workspace, team), 12, now)
    return made
