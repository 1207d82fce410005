"""What check-ins add to the team report (held, response rate) and to a person's home.

Nothing here needs keeping to the teams shown (handlers/reporting.py): the number held is never
withheld, and the whole workspace shows no rate, so no difference reveals a withheld team's rate.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.messages import ChannelRef, rich
from handlers.anonymity import meets_k, withheld
from handlers.checkins import store
from handlers.home import HomeScope, HomeSection
from handlers.reporting import Figure, ReportScope
from handlers.schedules import store as schedules
from handlers.timing import describe

RATE = "checkins.response_rate"
RATE_LABEL = "Check-in response rate"


def report(db: Database, scope: ReportScope) -> tuple[Figure, ...]:
    """Check-ins held in the period, and the response rate: answers per member asked. A team of
    fewer than k, or one of unknown size (the whole workspace), shows no rate."""
    counts = store.held_and_answered(
        db,
        platform=scope.platform,
        workspace=scope.workspace,
        conversation=scope.conversation,
        since=scope.since,
        until=scope.until,
    )
    runs, answers = counts.runs, counts.answers
    held = Figure("checkins.held", "Check-ins held", float(runs), "", runs)
    if scope.members is None:
        return held, Figure(RATE, RATE_LABEL, None, "%", None, "per team only: the team's size is needed")
    if not meets_k(scope.members, scope.k):
        return held, Figure(RATE, RATE_LABEL, None, "%", None, withheld(scope.k, "members"))
    if not runs:
        return held, Figure(RATE, RATE_LABEL, None, "%", 0, "no check-in in the period")
    rate = min(100.0, round(100 * answers / (runs * scope.members), 1))
    return held, Figure(RATE, RATE_LABEL, rate, "%", answers, f"{answers} answers to {runs} check-ins")


def home(db: Database, scope: HomeScope) -> tuple[HomeSection, ...]:
    """The check-ins, nudges and 1:1 reminders the person scheduled."""
    lines = []
    for s in schedules.owned_by(db, platform=scope.platform, workspace=scope.workspace, owner=scope.user):
        kind = scope.kinds.get(s.kind)
        label = kind.label if kind else s.kind
        where: tuple = () if kind is None or kind.personal else (" in ", ChannelRef(s.conversation))
        state = " (paused)" if s.paused else ""
        lines.append(
            rich(f"#{s.id} {label}", *where, f": {describe(s.days, s.at, s.tz, s.every_weeks)}{state}")
        )
    return (HomeSection("Your check-ins and reminders", tuple(lines), "You have scheduled none."),)
