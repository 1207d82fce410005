"""Blameless failure reviews with action items that get done.

`/review` opens a form with guidance in each field: what happened, its impact, the contributing
factors (process, tools, clarity of expectations, not people), what we learned, what we will try
next time, and up to 10 action items with an owner and a due date (rows, or strict lines
`@owner YYYY-MM-DD what`). Before it is published, a gentle blame check suggests reframing words
that blame a person (never blocking). The review is posted in the workspace's reviews channel with
a quality index from data/review_rubric.yml; owners get a message with Mark done, reminders at
09:00 their time 2 days before and on the due date, and overdue actions are summarised weekly. Their
open actions are on their home too, with the same Mark done.

Ticked anonymous, a review is kept with no author, through handlers/anonymity: a case code shown
once (its hash stored), publication in random batches, random public numbers.

The package: `ids` (stable string ids), `rules` (the numbers), `content` (the rubric and blame
words from data/), `model` (what a review is made of), `draft` (reading a form), `blame`, `quality`,
`local_time` (09:00 on each owner's calendar), `store` (all its SQL), `flows` (the command and the
Mark done button), `writing` and `editing` (the two forms' rules), `common` (what they share),
`publish` (posting and refreshing), `jobs` (batches, reminders, the digest), `report` (the team
report's figures), `home` (an owner's open actions on their home), `forms`, `posts` and `views`
(what it shows).
"""

from __future__ import annotations

from handlers.practice import PeriodicJob, Practice
from handlers.reviews import editing, flows, home, jobs, report, views, writing
from handlers.reviews.ids import ActionId, Commands, FormId, Job

PRACTICE = Practice(
    name="reviews",
    commands={Commands.REVIEW: flows.handle},
    actions={ActionId.DONE: flows.mark_done},
    forms={FormId.NEW: writing.submit_new, FormId.EDIT: editing.submit_edit},
    periodic=(
        PeriodicJob(Job.PUBLISH, jobs.run_publication, 60.0),
        PeriodicJob(Job.REMIND, jobs.run_reminders, 60.0),
        PeriodicJob(Job.DIGEST, jobs.run_digests, 300.0),
    ),
    help=views.HELP,
    # Every review form may come from an anonymous author: their replays are caught in memory only.
    anonymous=frozenset({FormId.NEW, FormId.EDIT}),
    anonymous_commands={Commands.REVIEW: flows.typed_anonymously},
    outbox_references=(
        ("reviews", "post_outbox"),
        ("review_actions", "dm_outbox"),
        ("review_messages", "outbox_id"),
    ),
    report=report.figures,
    home=home.section,
)

__all__ = ["PRACTICE"]
