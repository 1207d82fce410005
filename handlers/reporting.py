"""What a practice contributes to the team report and the dashboard: figures for a scope.

Each practice that has something to report sets `Practice.report`, a plain function of a read
connection and a `ReportScope`; the reports practice (`/candor report`, the CSV export, the
dashboard) asks every practice in the registry and lays the figures out. A figure that would
describe fewer than `scope.k` people or items is returned withheld (`value=None`), never computed
on a smaller group: anonymity thresholds are the practice's to apply, since only it knows what
each figure counts.
"""

from __future__ import annotations

from collections.abc import Callable
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
