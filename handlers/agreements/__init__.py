"""Agreements: a clear request, an explicit yes, and a shared review when it does not work out.

`/agree @person` asks for something with what done means and a due date (and, if wanted, a
process goal beside the outcome). The person accepts, proposes a change or declines, with a
reason; a proposal goes back to the one who asked, and so on, and every offer is kept. Once agreed,
the performer is reminded once a working day before the due time and can say it is done or
renegotiate before then. Done is accepted as done or "not yet"; a miss or a "not yet" leads both
sides to the same short review, "How can we do this better next time?", whose answers both see.
The words for those moments are in data/agreements.yml: they hold the process accountable, never
the person.

The package: `ids` (stable strings), `rules` (the numbers), `when` (dates in people's zones),
`store` (all its SQL), `flows` (the command and a new request), `answers` (accept, propose,
decline), `progress` (done, not yet, the review), `thread` (the offers), `jobs` (reminders and
misses), `posts` (what each side receives), `views` (answers to the one asking), `forms`, `report`
(the team figures), `home` (what a person sees of their own agreements).
"""

from __future__ import annotations

from handlers.agreements import answers, flows, home, jobs, progress, report, views
from handlers.agreements.ids import ActionId, Commands, FormId, Job
from handlers.agreements.rules import DUE_EVERY_S
from handlers.practice import PeriodicJob, Practice

PRACTICE = Practice(
    name="agreements",
    commands={Commands.AGREE: flows.handle},
    actions={
        ActionId.ACCEPT: answers.accept,
        ActionId.PROPOSE: answers.propose,
        ActionId.DECLINE: answers.decline,
        ActionId.RENEGOTIATE: answers.renegotiate,
        ActionId.DONE: progress.done,
        ActionId.ACCEPT_DONE: progress.accept_done,
        ActionId.NOT_YET: progress.not_yet,
        ActionId.REVIEW: progress.review,
    },
    forms={
        FormId.NEW: flows.submit_new,
        FormId.PROPOSE: answers.submit_proposal,
        FormId.DECLINE: answers.submit_decline,
        FormId.NOT_YET: progress.submit_not_yet,
        FormId.REVIEW: progress.submit_review,
    },
    periodic=(PeriodicJob(Job.DUE, jobs.run_due, DUE_EVERY_S),),
    help=views.HELP,
    outbox_references=(("agreement_offers", "dm_outbox"),),
    report=report.figures,
    home=home.section,
)

__all__ = ["PRACTICE"]
