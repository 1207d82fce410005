"""Speak-up's figures for the team report and the dashboard: concerns per 100 members per month,
and the share acknowledged within 7 days (the EU directive's deadline, handlers/speakup/rules.py).

Only days are counted, as a concern keeps nothing finer. Fewer than k concerns in the period show
nothing, as in /speakup stats: a single concern's handling would be described by name otherwise.
The whole workspace counts only the channels whose own figures are shown (handlers/speakup/store.py).
"""

from __future__ import annotations

from sqlite_utils import Database

from handlers.anonymity import day_of, meets_k, withheld
from handlers.reporting import Figure, ReportScope
from handlers.speakup import store

RATE = "speakup.rate"
ACK = "speakup.ack_within_7d"
RATE_LABEL = "Speak-up rate"
RATE_UNIT = "concerns per 100 members per month"
ACK_LABEL = "Concerns acknowledged within 7 days"


def figures(db: Database, scope: ReportScope) -> tuple[Figure, ...]:
    counts = store.period_counts(
        db,
        platform=scope.platform,
        workspace=scope.workspace,
        conversation=scope.conversation,
        first_day=day_of(scope.since),
        end_day=day_of(scope.until),
        today=day_of(scope.until),
        k=scope.k,
    )
    if not meets_k(counts.raised, scope.k):
        note = withheld(scope.k, "concerns")
        return (
            Figure("speakup.concerns", "Concerns raised", None, "", None, note),
            Figure(RATE, RATE_LABEL, None, RATE_UNIT, None, note),
            Figure(ACK, ACK_LABEL, None, "%", None, note),
        )
    months = max((scope.until - scope.since) / (30 * 86400), 1 / 30)
    if scope.members:
        rate: float | None = round(100 * counts.raised / scope.members / months, 2)
        rate_note = f"{scope.members} members"
    else:
        rate, rate_note = None, "the team's size is not known here: see one team's report"
    ack = round(100 * counts.ack_on_time / counts.ack_due, 1) if meets_k(counts.ack_due, scope.k) else None
    return (
        Figure("speakup.concerns", "Concerns raised", float(counts.raised), "", counts.raised),
        Figure(RATE, RATE_LABEL, rate, RATE_UNIT, counts.raised, rate_note),
        Figure(
            ACK,
            ACK_LABEL,
            ack,
            "%",
            counts.ack_due,
            "" if ack is not None else withheld(scope.k, "concerns past their 7 days"),
        ),
    )
