"""Failure reviews on a person's home: the review actions they own that are still open, soonest due
first, each with the Mark done button their message has (the same action id and flow).

A line names the action, its review's number and title, and its due date: a day on the owner's own
calendar, judged overdue or due today in the zone it was given in, as the reminders and the digest
judge it. It never names a review's author: an anonymous review's must stay unknown, and a line that
named some authors would set the anonymous ones apart.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.messages import Button, Span, Strong, rich
from handlers.home import HomeScope, HomeSection
from handlers.reviews import store
from handlers.reviews.local_time import days_until
from handlers.reviews.posts import day_text, done_button

SHOWN = 5  # each with its button: the Slack home holds 100 blocks for every practice together
TITLE = "Your open actions from failure reviews"


def _due(action: store.Action, now: float) -> tuple[Span, ...]:
    days = days_until(now, action.due_on, action.tz)
    due = f" · due {day_text(action.due_on)}"
    if days < 0:
        return rich(due + " ", Strong("(overdue)"))
    return rich(due + (" (today)" if days == 0 else ""))


def _line(action: store.Action, now: float) -> tuple[Span, ...]:
    return rich(
        "☐ ", action.description, *_due(action, now), f" · review #{action.review_id} ", Strong(action.title)
    )


def section(db: Database, scope: HomeScope) -> tuple[HomeSection, ...]:
    whose = {"platform": scope.platform, "workspace": scope.workspace, "owner": scope.user}
    shown = store.open_actions_of(db, limit=SHOWN, **whose)
    lines = [_line(a, scope.now) for a in shown]
    buttons: list[tuple[Button, ...]] = [done_button(a).buttons for a in shown]
    more = store.open_action_count(db, **whose) - len(shown) if len(shown) == SHOWN else 0
    if more > 0:
        lines.append(rich(f"…and {more} more, due later."))
    return (HomeSection(TITLE, tuple(lines), "None open.", tuple(buttons)),)
