"""What failure reviews add to the team report: reviews published in the period, their mean
quality index, and the share of actions done on time (the paired process figure: delivery beside
review quality). Team figures only, never per person.

A mean or a share over fewer than `scope.k` reviews or actions is withheld (`value=None`): each
review's own index is public in its post, but the report promises no figure about a tiny group.
The whole workspace's mean and share combine only the teams whose own are shown; its number of
reviews counts them all, as every team's number is shown.
"""

from __future__ import annotations

from sqlite_utils import Database

from handlers.anonymity import meets_k, withheld
from handlers.reporting import Figure, ReportScope
from handlers.reviews import store


def figures(db: Database, scope: ReportScope) -> tuple[Figure, ...]:
    published = store.published(db, scope=scope)
    outcomes = store.outcomes(db, scope=scope)
    enough_reviews = meets_k(published.scored, scope.k)
    enough_actions = meets_k(outcomes.due, scope.k)
    return (
        Figure(
            "reviews.count", "Failure reviews published", float(published.reviews), count=published.reviews
        ),
        Figure(
            "reviews.mean_quality",
            "Mean review quality index (0-100)",
            round(published.quality / published.scored, 1) if enough_reviews else None,
            count=published.scored,
            note="" if enough_reviews else withheld(scope.k, "reviews"),
        ),
        Figure(
            "reviews.actions_on_time",
            "Review actions done by their due date",
            round(100 * outcomes.on_time / outcomes.due, 1) if enough_actions else None,
            unit="%",
            count=outcomes.due,
            note="" if enough_actions else withheld(scope.k, "actions that came due"),
        ),
    )
