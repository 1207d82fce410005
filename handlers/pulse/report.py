"""The pulse's figures for the team report and the dashboard: the latest score, the change since
the round before, the response rate, and the trend over the period.

Only published rounds count: a round with fewer than k answers (or one whose comparison with a
concurrent round would single out fewer than k people) contributes nothing, anywhere. A figure
over several teams' rounds combines published rounds only, so comparing it with one team's figure
can reveal no more than other published rounds, each of at least k answers. So the whole
workspace already counts only teams whose own figure is shown (handlers/reporting.py): a team with
no published round shows nothing and adds nothing.
"""

from __future__ import annotations

from sqlite_utils import Database

from handlers.pulse import scoring, store
from handlers.pulse.rules import pulse_k
from handlers.reporting import Figure, ReportScope

NOT_YET = "not enough answers yet"


def figures(db: Database, scope: ReportScope) -> tuple[Figure, ...]:
    rounds = store.closed_rounds(
        db,
        platform=scope.platform,
        workspace=scope.workspace,
        conversation=scope.conversation,
        since=scope.since,
        until=scope.until,
    )
    k = pulse_k(scope.k)
    shown = [r for r in rounds if r.published and r.score is not None]
    if not shown:
        note = f"{NOT_YET}: results need at least {k} answers per round"
        return (
            Figure("pulse.score", "Pulse team score (1-7)", None, "of 7", None, note),
            Figure("pulse.change", "Pulse change since the round before", None, "", None, note),
            Figure("pulse.response_rate", "Pulse response rate", None, "%", None, note),
            Figure("pulse.trend", "Pulse trend over the period", None, "", None, note),
        )
    answers = sum(r.answers or 0 for r in shown)
    invited = sum(r.invited for r in shown)
    score = scoring.combined([(r.answers or 0, r.score or 0.0) for r in shown])
    latest = shown[-1]
    previous = (
        store.previous_published(
            db,
            platform=scope.platform,
            workspace=scope.workspace,
            conversation=scope.conversation,
            before=latest.closed_at or scope.until,
        )
        if scope.conversation is not None
        else None
    )
    change = (
        round((latest.score or 0) - previous.score, 2) if previous and previous.score is not None else None
    )
    if scope.conversation is None:
        change_note = "per team only"
    else:
        change_note = "" if change is not None else "no earlier round with results"
    return (
        Figure("pulse.score", "Pulse team score (1-7)", score, "of 7", answers, _rounds(len(shown))),
        Figure(
            "pulse.change", "Pulse change since the round before", change, "", latest.answers, change_note
        ),
        Figure("pulse.response_rate", "Pulse response rate", round(100 * answers / invited, 1), "%", answers),
        Figure(
            "pulse.trend",
            "Pulse trend over the period",
            round((latest.score or 0) - (shown[0].score or 0), 2),
            "",
            answers,
            " → ".join(f"{r.score:.2f}" for r in shown),
        ),
    )


def _rounds(n: int) -> str:
    return "1 round" if n == 1 else f"{n} rounds"
