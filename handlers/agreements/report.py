"""Agreements' figures for the team report: made, kept on time, renegotiated before the due date,
reviewed after a miss. A team's figures, never a person's; a figure on fewer than `k` agreements
is withheld (a small team's share can point at one person). The whole workspace's figures count only
the conversations whose own are shown (handlers/agreements/store.py: tally)."""

from __future__ import annotations

from dataclasses import replace

from sqlite_utils import Database

from handlers.agreements import store
from handlers.reporting import Figure, ReportScope


def _share(key: str, label: str, part: int, whole: int, k: int, note: str = "") -> Figure:
    if whole < k:
        return Figure(key, label, None, "%", whole, f"fewer than {k}: not shown")
    return Figure(key, label, round(100 * part / whole, 1), "%", whole, note)


def figures(db: Database, scope: ReportScope) -> tuple[Figure, ...]:
    t = store.tally(db, scope=scope)
    figures = (
        Figure("agreements.made", "Agreements made", float(t.made), "", t.made),
        _share("agreements.kept_on_time", "Kept on time", t.kept, t.concluded, scope.k),
        _share(
            "agreements.renegotiated_before_due",
            "Renegotiated before the due date",
            t.renegotiated,
            t.made,
            scope.k,
            "a good sign: plans changed in the open",
        ),
        _share(
            "agreements.reviewed_after_miss",
            "Reviewed after a miss",
            t.reviewed_after_miss,
            t.missed,
            scope.k,
        ),
    )
    if t.made >= scope.k:
        return figures
    # Fewer than k made: nothing about them, not even how many (each figure's count would say).
    return tuple(replace(f, value=None, count=None, note=f"fewer than {scope.k}: not shown") for f in figures)
