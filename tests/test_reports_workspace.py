"""The whole workspace's figures reveal no withheld team: a workspace holding a team at or above k
and teams below it, for every practice whose team figures can be withheld. The workspace figure
counts only the teams whose own figure is shown, so the workspace minus the teams shown beside it
(in the report, and month by month in the CSV export) is never a withheld team's figure.

Real store (a SQLite file, and PostgreSQL), the registry's report sources and the CSV writer.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.registry import REGISTRY
from handlers.reporting import Figure, ReportScope
from handlers.reports import export, gather
from tests.support import seed
from tests.support.clock import FakeClock
from tests.support.harness import PLATFORM, WORKSPACE, Harness

K = 5
DAY = seed.DAY
NOW = datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
SINCE = NOW - 30 * DAY
BIG = seed.Where(PLATFORM, WORKSPACE, "team")  # seed.team_dataset: six people, known by hand
SMALL = seed.Where(PLATFORM, WORKSPACE, "small")  # three people: below k in every practice
MID = seed.Where(PLATFORM, WORKSPACE, "mid")  # 5 concerns (shown), only 2 of them past 7 days
DIRECT = seed.Where(PLATFORM, WORKSPACE, "direct")  # agreements asked outside any channel
TEAMS = ("team", "small", "mid", "direct")

# Figures that are counts: the workspace's is the sum of the shown teams' (reviews.count is never
# withheld: every review is a public post).
ADDED = {
    "nominations.cycles",
    "kudos.total",
    "kudos.candour",
    "speakup.concerns",
    "reviews.count",
    "agreements.made",
    "nominations.total",
}


def small_team(db, now: float) -> None:
    """Below k everywhere, but never zero: 4 kudos from 2 givers, 3 concerns all acknowledged in a
    day, 2 reviews (quality 10 and 30) with 2 actions done on time, 3 agreements (2 kept, 1 missed
    and reviewed), a cycle with 2 nominators, 1 nominee and 2 voters, a pulse round of 3."""
    seed.small_team(db, SMALL, now)
    for case, age in enumerate((20, 15, 12), start=2_000_001):
        raised = now - age * DAY
        seed.concern(db, SMALL, raised=raised, acknowledged=raised + DAY, case=case, now=now)
    for number, (age, quality) in enumerate(((20, 10), (10, 30)), start=8001):
        due = now - (age - 3) * DAY
        seed.review(
            db, SMALL, number=number, published=now - age * DAY, quality=quality, actions=[(due, due - DAY)]
        )
    for age, state, miss in ((20, "kept", None), (15, "kept", None), (10, "reviewed", "missed")):
        seed.agreement(db, SMALL, accepted=now - age * DAY, state=state, miss=miss)
    seed.nomination_cycle(
        db,
        SMALL,
        closed=now - 5 * DAY,
        nominations=[("gil", "ivo", "role_model"), ("hana", "ivo", "competent")],
        votes=[("gil", "ivo"), ("hana", "ivo")],
    )


def big_cycle(db, now: float) -> None:
    """Six nominators, six nominees (two rated role model), five voters."""
    people = seed.TEAM
    seed.nomination_cycle(
        db,
        BIG,
        closed=now - 5 * DAY,
        nominations=[
            (giver, people[(i + 1) % 6], "role_model" if i < 2 else "competent")
            for i, giver in enumerate(people)
        ],
        votes=[(voter, "bob") for voter in people[:5]],
    )


def mid_team(db, now: float) -> None:
    """5 concerns: one acknowledged on time 10 days ago, one unanswered for 9 days, three raised
    in the last 3 days: concerns shown, the share acknowledged (2 past their 7 days) withheld."""
    raised_10 = now - 10 * DAY
    seed.concern(db, MID, raised=raised_10, acknowledged=raised_10 + DAY, case=3_000_001, now=now)
    seed.concern(db, MID, raised=now - 9 * DAY, acknowledged=None, case=3_000_002, now=now)
    for case, age in enumerate((3, 2, 1), start=3_000_003):
        seed.concern(db, MID, raised=now - age * DAY, acknowledged=None, case=case, now=now)


@pytest.fixture
def h(tmp_path, database):
    harness = Harness(tmp_path, FakeClock(NOW), database=database)
    with harness.store.transaction() as tx:
        seed.team_dataset(tx, BIG, NOW)
        big_cycle(tx, NOW)
        small_team(tx, NOW)
        mid_team(tx, NOW)
        for age in (20, 12):  # two agreements made in direct messages: a group below k
            seed.agreement(tx, DIRECT, accepted=NOW - age * DAY, state="kept")
    yield harness
    harness.close()


def figures(
    h: Harness, team: str | None, k: int = K, since: float = SINCE, until: float = NOW
) -> dict[str, Figure]:
    members = {"team": 6, "small": 3}.get(team or "")
    scope = ReportScope(PLATFORM, WORKSPACE, team, since, until, k, members)
    return {f.key: f for f in gather.figures(h.store.db, REGISTRY, scope)}


WITHHELD_FOR_SMALL = (
    "kudos.total",
    "kudos.candour",
    "speakup.concerns",
    "speakup.ack_within_7d",
    "reviews.mean_quality",
    "reviews.actions_on_time",
    "agreements.made",
    "agreements.kept_on_time",
    "nominations.total",
    "nominations.nominators",
    "nominations.nominees",
    "nominations.voters",
)


def test_the_small_teams_figures_are_withheld_though_it_has_something_to_hide(h):
    small = figures(h, "small")
    truth = figures(h, "small", k=1)  # what its figures would be, were they shown
    for key in WITHHELD_FOR_SMALL:
        assert small[key].value is None, key
        assert truth[key].value, key


# The whole workspace, by hand: what the shown teams contribute (value, count), and what the old
# sum over every team said.
@pytest.mark.parametrize(
    ("key", "value", "count"),
    [
        ("kudos.total", 12, 6),  # not 16 kudos from 8 givers: the small team's 4 from 2
        ("kudos.candour", 9, 6),  # not 13
        ("kudos.behaviour.feedback", 4, 6),  # not 8
        ("speakup.concerns", 11, 11),  # the team's 6 and mid's 5, not the small team's 3 too
        ("speakup.ack_within_7d", 80.0, 5),  # the team's 5 past 7 days only: not mid's 2, small's 3
        ("reviews.count", 7, 7),  # every review is a public post: all of them
        ("reviews.mean_quality", 80.0, 5),  # not (400 + 10 + 30) / 7
        ("reviews.actions_on_time", 83.3, 6),  # not 7 of 8
        ("agreements.made", 5, 5),  # not 10: the small team's 3 and direct's 2
        ("agreements.kept_on_time", 80.0, 5),  # not 6 of 8 concluded (and direct's 2)
        ("agreements.reviewed_after_miss", None, 0),  # no group had 5 misses
        ("nominations.total", 6, 6),  # not 8
        ("nominations.nominators", 6, 6),
        ("nominations.nominees", 6, 6),  # not 7
        ("nominations.voters", 5, 5),  # not 7
        ("nominations.role_model_share", 33.3, 6),  # not 3 of 8
        ("pulse.score", 5.4, 5),  # already: the small team's round of 3 was never published
    ],
)
def test_the_whole_workspace_counts_only_the_teams_whose_figure_is_shown(h, key, value, count):
    figure = figures(h, None)[key]
    assert (figure.value, figure.count) == (value, count)


def test_each_workspace_figure_is_the_sum_or_the_one_team_shown(h):
    whole = figures(h, None)
    teams = {team: figures(h, team) for team in TEAMS}
    for key, figure in whole.items():
        shown = [teams[t][key].value for t in TEAMS if key in teams[t] and teams[t][key].value is not None]
        if key in ADDED or key.startswith("kudos.behaviour."):
            assert figure.value == sum(shown), key
        elif key.startswith(("speakup.ack", "reviews.", "agreements.", "nominations.")):
            assert figure.value == (shown[0] if shown else None), key  # one team shows each here


def test_a_group_outside_any_team_counts_once_it_meets_k_itself(h):
    with h.store.transaction() as tx:
        for age in (19, 18, 17):  # now 5 agreements made in direct messages
            seed.agreement(tx, DIRECT, accepted=NOW - age * DAY, state="kept")
    direct = figures(h, "direct")
    assert direct["agreements.made"].value == 5
    assert figures(h, None)["agreements.made"].value == 10  # the team's 5 and direct's 5


def test_the_csv_never_lets_the_workspace_minus_the_teams_be_a_withheld_team(h):
    since = datetime(2026, 5, 1, tzinfo=UTC).timestamp()
    out = io.StringIO()
    export.write(h.store.db, REGISTRY, out, since=since, until=NOW, k=K)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {r["team"] for r in rows} == {export.WHOLE_WORKSPACE, *TEAMS}
    months = {m.label: m for m in gather.months(since, NOW)}
    assert sorted({r["month"] for r in rows}) == sorted(months) == ["2026-05", "2026-06"]

    whole: dict[tuple[str, str], float] = {}
    shown: dict[tuple[str, str], float] = defaultdict(float)
    written: dict[tuple[str, str], set[str]] = defaultdict(set)  # (team, month): keys with a value
    for r in rows:
        if not r["value"]:
            continue
        if r["team"] == export.WHOLE_WORKSPACE:
            whole[(r["month"], r["key"])] = float(r["value"])
        else:
            shown[(r["month"], r["key"])] += float(r["value"])
            written[(r["team"], r["month"])].add(r["key"])
    # What each team's withheld figures would have said: the same code at k = 1, for every figure
    # its row leaves empty or leaves out (a withheld kudos count has no per-behaviour rows).
    hidden: dict[tuple[str, str], list[float]] = defaultdict(list)
    for team in TEAMS:
        for label, month in months.items():
            for key, figure in figures(h, team, k=1, since=month.since, until=month.until).items():
                if figure.value and key not in written[(team, label)]:
                    hidden[(label, key)].append(figure.value)
    assert 4.0 in hidden[("2026-06", "kudos.total")]  # the small team's June: 4 kudos, 2 givers
    assert 4.0 in hidden[("2026-06", "kudos.behaviour.feedback")]
    assert 3.0 in hidden[("2026-05", "speakup.concerns")]
    assert 2.0 in hidden[("2026-06", "nominations.total")]
    leaks = [
        (month, key, value, difference)
        for (month, key), value in sorted(whole.items())
        if (difference := round(value - shown.get((month, key), 0.0), 2))
        in [round(x, 2) for x in hidden[(month, key)]]
    ]
    assert not leaks, leaks  # (month, key, workspace value, workspace minus the teams shown)
    assert whole[("2026-06", "kudos.total")] == 9.0  # the team's 9 in June, not 13


def test_a_withheld_number_of_agreements_is_not_given_away_by_a_count(h):
    """The small team made 3 agreements: no figure says 3, as value or as count (the CSV writes
    both), though the shares of a team that made k or more still give their base."""
    small, team = figures(h, "small"), figures(h, "team")
    for key in AGREEMENTS:
        assert (small[key].value, small[key].count) == (None, None), key
    reviewed = team["agreements.reviewed_after_miss"]
    assert (reviewed.value, reviewed.count) == (None, 1)  # the team made 5: its 1 miss is a base


AGREEMENTS = (
    "agreements.made",
    "agreements.kept_on_time",
    "agreements.renegotiated_before_due",
    "agreements.reviewed_after_miss",
)
