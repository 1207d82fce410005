"""Coaching notes, kept apart from formal records.

`/coach @person` keeps a private note of a coaching conversation: what was talked about, what was
agreed, and the next check-in date, of which its author is reminded on the day. A note is read by
its author, and by the person when the author shares it. It is in no report, export, admin view or
escalation record: an escalation case at the coaching stage counts only the notes' dates, as
evidence that coaching took place.

The package: `ids`, `rules`, `store` (all its SQL; the only reader of a note's text), `flows`,
`views`, `jobs` (the check-in reminder).
"""

from __future__ import annotations

from handlers.coaching import flows, jobs, views
from handlers.coaching.ids import ActionId, Commands, FormId, Job
from handlers.coaching.rules import CHECKINS_EVERY_S
from handlers.practice import PeriodicJob, Practice

PRACTICE = Practice(
    name="coaching",
    commands={Commands.COACH: flows.handle},
    actions={ActionId.READ: flows.read, ActionId.SHARE: flows.share, ActionId.UNSHARE: flows.unshare},
    forms={FormId.NOTE: flows.submit_note},
    periodic=(PeriodicJob(Job.CHECKINS, jobs.remind_checkins, CHECKINS_EVERY_S),),
    help=views.HELP,
)

__all__ = ["PRACTICE"]
