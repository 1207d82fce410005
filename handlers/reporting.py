"""What a practice contributes to the team report and the dashboard: figures for a scope.

Each practice that has something to report sets `Practice.report`, a plain function of a read
connection and a `ReportScope`; the reports practice (`/candor report`, the CSV export, the
dashboard) asks every practice in the registry and lays the figures out. A figure that would
describe fewer than `scope.k` people or items is returned withheld (`value=None`), never computed
on a smaller group: anonymity thresholds are the practice's to apply, since only it knows what
each figure counts.

The whole workspace (`conversation=None`) counts only the teams whose own figure for the same
scope is shown: were it to count every team, the workspace figure minus the figures shown for the
teams would be a withheld team's figure (`shown_teams`, `shown_sum` below).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlite_utils import Database


@dataclass(frozen=True)
class ReportScope:
    platform: str
    workspace: str
    conversation: str | None  # one channel (a team), or None for the whole workspace
    since: float  # epoch seconds, inclusive
    until: float  # epoch seconds, exclusive
    k: int  # the smallest group a figure may describe (CANDOR_ANONYMITY_K)
    # How many people the team has (a channel's members, bots left out), for rates "per 100
    # members" and response rates; None when unknown (the whole workspace).
    members: int | None = None


@dataclass(frozen=True)
class Figure:
    key: str  # stable id, e.g. "kudos.total" or "reviews.mean_quality"
    label: str  # what a person reads, e.g. "Mean review quality (0-100)"
    value: float | None  # None: not enough data yet, or withheld to protect anonymity
    unit: str = ""  # "", "%", "per 100 members per month", …
    count: int | None = None  # how many people or items the figure summarises
    note: str = ""  # e.g. "fewer than 5 answers: not shown"


ReportSource = Callable[[Database, ReportScope], tuple[Figure, ...]]


# What the whole workspace's report says of the teams it leaves out.
WORKSPACE_NOTE = "The whole workspace counts only the teams whose own figure is shown."

# How a store keeps a whole-workspace figure to the teams whose own figure is shown, so that no
# difference between the workspace's figure and the teams' reveals a group smaller than k. A team
# is a conversation; each of its rows is counted by the team's own figure; its `size` is the
# aggregate that figure is withheld on ("count(*)", "count(distinct giver)"), over the same rows.
#
# A row whose conversation is not a team (a direct message; agreements' "direct") is one more
# group: it counts only if that group meets k on its own, so it cannot be isolated either.
#
# Two shapes, both SQL that SQLite and PostgreSQL accept (the store adds them to its query):
# - `shown_teams`: the teams meeting k, for `team in (…)`: figures about distinct people, which
#   cannot be added up team by team.
# - `shown_sum`: over one row per team (a grouped subquery), a count added up over the teams
#   meeting k: one pass over the rows, for figures that are counts.


def shown_teams(
    *,
    team: str,
    rows: str,
    params: Sequence[object],
    size: str,
    k: int,
    size_params: Sequence[object] = (),
) -> tuple[str, list[object]]:
    """A SELECT of the teams whose `size` over `rows` is at least k, and its parameters.

    `team` is the column naming a row's team; `rows` the FROM and WHERE selecting the figure's
    rows across the workspace, with `params`; `size` the team figure's aggregate, with
    `size_params`."""
    select = f"select {team} from {rows} group by {team} having {size} >= ?"
    return select, [*params, *size_params, k]


def shown_sum(part: str, size: str) -> str:
    """Over a subquery of one row per team: the sum of its column `part` over the teams whose
    column `size` is at least k (one parameter, k); 0 when none is."""
    return f"coalesce(sum({part}) filter (where {size} >= ?), 0)"
