"""Kudos' figures for the team report and the dashboard: recognition per behaviour, and kudos for
candour (the behaviours of saying the hard thing). Counts of public posts, but a figure about
fewer than k givers is withheld like any other: it would describe one or two people's habits. The
whole workspace counts only the channels with at least k givers (handlers/kudos/store.py)."""

from __future__ import annotations

from sqlite_utils import Database

from handlers.anonymity import meets_k, withheld
from handlers.kudos import store
from handlers.reporting import Figure, ReportScope

# Behaviours in data/behaviours.yml that are candour itself: feedback given, a mistake owned, a
# risk raised. The pilot view sets them beside the pulse score and the speak-up rate.
CANDOUR = ("feedback", "owned-it", "spoke-up")


def figures(db: Database, scope: ReportScope) -> tuple[Figure, ...]:
    counts = store.period_counts(db, scope=scope)
    if not meets_k(counts.givers, scope.k):
        note = withheld(scope.k, "people giving kudos")
        return (
            Figure("kudos.total", "Kudos given", None, "", None, note),
            Figure(
                "kudos.candour",
                "Kudos for candour (feedback, owning a mistake, speaking up)",
                None,
                "",
                None,
                note,
            ),
        )
    per = dict(counts.by_behaviour)
    return (
        Figure("kudos.total", "Kudos given", float(counts.total), "", counts.givers),
        Figure(
            "kudos.candour",
            "Kudos for candour (feedback, owning a mistake, speaking up)",
            float(sum(per.get(slug, 0) for slug in CANDOUR)),
            "",
            counts.givers,
        ),
        *(
            Figure(f"kudos.behaviour.{slug}", f"Kudos for #{slug}", float(n), "", counts.givers)
            for slug, n in counts.by_behaviour
        ),
    )
