"""Nominations' figures for the team report: what the team's cycles gathered, never who.

Figures about people (how many nominated, were nominated, voted) and figures computed from their
nominations are withheld below the scope's k; the number of cycles, which admins open, is not.
The whole workspace's figures count only the channels whose own are shown (store.activity).
"""

from __future__ import annotations

from sqlite_utils import Database

from handlers.anonymity.thresholds import meets_k, withheld
from handlers.nominations import store
from handlers.reporting import Figure, ReportScope


def figures(db: Database, scope: ReportScope) -> tuple[Figure, ...]:
    a = store.activity(db, scope=scope)
    k = scope.k

    def counted(key: str, label: str, value: float, people: int, noun: str, unit: str = "") -> Figure:
        if meets_k(people, k):
            return Figure(key, label, value, unit=unit, count=people)
        return Figure(key, label, None, unit=unit, count=None, note=withheld(k, noun))

    return (
        Figure("nominations.cycles", "Nomination cycles closed", a.cycles, count=a.cycles),
        counted("nominations.total", "Nominations given", a.nominations, a.nominators, "nominators"),
        counted(
            "nominations.nominators", "People who nominated someone", a.nominators, a.nominators, "nominators"
        ),
        counted("nominations.nominees", "People nominated", a.nominees, a.nominees, "nominees"),
        counted(
            "nominations.role_model_share",
            "Nominations rating role model",
            round(100 * a.role_models / a.nominations, 1) if a.nominations else 0.0,
            a.nominators,
            "nominators",
            unit="%",
        ),
        counted(
            "nominations.examples_per_nomination",
            "Examples per nomination",
            round(a.examples / a.nominations, 2) if a.nominations else 0.0,
            a.nominators,
            "nominators",
        ),
        counted("nominations.voters", "People who voted", a.voters, a.voters, "voters"),
    )
