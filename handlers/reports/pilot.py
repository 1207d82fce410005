"""The 90-day pilot view: a team and a start date; the safety indicators beside the process and
outcome ones, for the 90 days before and the 90 days from the start.

Counts are given per month, so a period still under way compares with a full one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlite_utils import Database

from handlers.practice import Registry
from handlers.reporting import Figure, ReportScope
from handlers.reports import gather

DAYS = 90
DAY_S = 86400.0
# (figure key, what the pilot calls it); a practice that is not installed shows "not available".
SAFETY = (
    ("pulse.score", "Pulse score (1-7)"),
    ("speakup.rate", "Speak-up rate (concerns per 100 members per month)"),
    ("kudos.candour", "Kudos for candour, per month"),
)
PROCESS = (
    ("reviews.mean_quality", "Failure review quality (0-100)"),
    ("reviews.actions_on_time", "Review actions done on time (%)"),
    ("agreements.kept_on_time", "Agreements kept on time (%)"),
)
PER_MONTH = frozenset({"kudos.candour"})  # counts: divided by the months the period covers


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    before: Figure | None  # None: no practice reports this figure
    after: Figure | None


@dataclass(frozen=True)
class Pilot:
    start: float
    before: tuple[float, float]
    after: tuple[float, float]
    safety: tuple[Row, ...]
    process: tuple[Row, ...]


def _per_month(figure: Figure | None, since: float, until: float) -> Figure | None:
    if figure is None or figure.value is None or figure.key not in PER_MONTH:
        return figure
    months = max((until - since) / (30 * DAY_S), 1 / 30)
    return replace(figure, value=round(figure.value / months, 1), unit="per month")


def build(db: Database, registry: Registry, scope: ReportScope, start: float, now: float) -> Pilot:
    before = (start - DAYS * DAY_S, start)
    after = (start, min(start + DAYS * DAY_S, max(now, start + DAY_S)))
    found = []
    for since, until in (before, after):
        figures = gather.figures(db, registry, replace(scope, since=since, until=until))
        found.append({f.key: _per_month(f, since, until) for f in figures})

    def rows(wanted: tuple[tuple[str, str], ...]) -> tuple[Row, ...]:
        return tuple(Row(key, label, found[0].get(key), found[1].get(key)) for key, label in wanted)

    return Pilot(start, before, after, rows(SAFETY), rows(PROCESS))
