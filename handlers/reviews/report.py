"""What failure reviews add to the team report: reviews published in the period, their mean
quality index, and the share of actions done on time (the paired process figure: delivery beside
review quality). Team figures only, never per person.

A mean or a share over fewer than `scope.k` reviews or actions is withheld (`value=None`): each
review's own index is public in its post, but the report promises no figure about a tiny group.
"""

from __future__ import annotations

from sqlite_utils import Database

from handlers.anonymity import meets_k, withheld
from handlers.reporting import Figure, ReportScope
from handlers.reviews import store


def figures(db: Database, scope: ReportScope) -> tuple[Figure, ...]:
    platform, workspace, conversation = scope.platform, scope.workspace, scope.conversation
    scored = store.qualities(
        db,
        platform=platform,
        workspace=workspace,
        conversation=conversation,
        since=scope.since,
        until=scope.until,
    )
    outcomes = store.outcomes(
        db,
        platform=platform,
        workspace=workspace,
        conversation=conversation,
        since=scope.since,
        until=scope.until,
    )
    count = len(scored)
    enough_reviews = meets_k(count, scope.k)
    enough_actions = meets_k(outcomes.due, scope.k)
    return (
        Figure("reviews.count", "Failure reviews published", float(count), count=count),
        Figure(
            "reviews.mean_quality",
            "Mean review quality index (0-100)",
            round(sum(q for _, q in scored) / count, 1) if enough_reviews else None,
            count=count,
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
