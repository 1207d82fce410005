"""The team report: every practice's figures for a scope, in a stable order, and the same figures
month by month for the dashboard's charts and the CSV export.

The figures come only through `Practice.report` (handlers/reporting.py): a practice added later
appears here without a change. Each practice applies its own k-thresholds, and its whole-workspace
figures count only the teams whose own figure is shown (handlers/reporting.py).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlite_utils import Database

from handlers.practice import Registry
from handlers.reporting import Figure, ReportScope

# The order of the report's sections; a practice not named here follows, in the registry's order.
SECTIONS = {
    "speakup": "Speaking up",
    "kudos": "Recognition",
    "reviews": "Failure reviews",
    "checkins": "Check-ins",
    "agreements": "Agreements",
    "pulse": "Pulse (psychological safety)",
    "nominations": "Nominations",
}


def section_of(figure: Figure) -> str:
    return figure.key.split(".", 1)[0]


def title_of(section: str) -> str:
    return SECTIONS.get(section, section.replace("_", " ").capitalize())


def figures(db: Database, registry: Registry, scope: ReportScope) -> tuple[Figure, ...]:
    """Every practice's figures for the scope, sections in the report's order."""
    found = [figure for source in registry.reports for figure in source(db, scope)]
    order = list(SECTIONS)
    return tuple(
        sorted(found, key=lambda f: order.index(section_of(f)) if section_of(f) in order else len(order))
    )


@dataclass(frozen=True)
class Month:
    label: str  # "2026-06"
    since: float
    until: float


def months(since: float, until: float) -> list[Month]:
    """The calendar months (UTC) that [since, until) touches, each cut to that range."""
    found: list[Month] = []
    day = datetime.fromtimestamp(since, UTC).date().replace(day=1)
    while (start := _at(day)) < until:
        end = _at(_next_month(day))
        found.append(Month(day.strftime("%Y-%m"), max(start, since), min(end, until)))
        day = _next_month(day)
    return found


def _at(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_span(label: str) -> tuple[float, float]:
    year, month = (int(x) for x in label.split("-"))
    last = calendar.monthrange(year, month)[1]
    return _at(date(year, month, 1)), _at(date(year, month, last)) + 86400


@dataclass(frozen=True)
class Series:
    """One figure month by month: `points[i]` is its value in `months[i]` (None: not shown)."""

    key: str
    label: str
    unit: str
    points: tuple[Figure | None, ...]


def series(db: Database, registry: Registry, scope: ReportScope, periods: Sequence[Month]) -> list[Series]:
    """Every figure over `periods`, in the report's order; a figure a month lacks is None there."""
    by_month = [
        {f.key: f for f in figures(db, registry, replace(scope, since=m.since, until=m.until))}
        for m in periods
    ]
    keys: dict[str, Figure] = {}
    for month in by_month:
        for key, figure in month.items():
            keys.setdefault(key, figure)
    order = list(SECTIONS)
    ordered = sorted(
        keys.values(),
        key=lambda f: order.index(section_of(f)) if section_of(f) in order else len(order),
    )
    return [Series(f.key, f.label, f.unit, tuple(month.get(f.key) for month in by_month)) for f in ordered]
