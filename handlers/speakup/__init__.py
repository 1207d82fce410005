"""Anonymous speak-up: concerns posted without an author, answered in the open.

The author's only link to a concern is a random case code shown to them alone, in the form once
it is sent (and by private message only if they ask); Candor keeps just its SHA-256. No row,
outbox entry, log line or message anyone else can see holds who wrote it. Publication waits a
random delay and is released only by the batch job, in random order, with the batch's time; case
numbers are random and dates are the day of publication, so neither timing nor order points at
the author. Those safeguards are shared with every anonymous practice (handlers/anonymity).

The package: `ids` (stable string ids), `rules` (the numbers), `store` (all its SQL), `flows`
(what the author, managers and admins do), `views` (messages and forms), `jobs` (publication
and deadline flags), `report` (team figures).
"""

from __future__ import annotations

from handlers.practice import HelpLine, PeriodicJob, Practice
from handlers.speakup import flows, jobs, report
from handlers.speakup.ids import SEED_KEY, ActionId, FormId, Job

PRACTICE = Practice(
    name="speakup",
    commands={"speakup": flows.handle},
    actions={
        ActionId.VIEW: flows.view_case,
        ActionId.REPLY: flows.open_reply,
        ActionId.ACK: flows.acknowledge,
        ActionId.RESOLVE: flows.open_resolve,
        ActionId.HIDE: flows.open_hide,
    },
    forms={
        FormId.NEW: flows.submit_new,
        FormId.CASE: flows.submit_case,
        FormId.REPLY: flows.submit_reply,
        FormId.RESOLVE: flows.submit_resolve,
        FormId.HIDE: flows.submit_hide,
    },
    periodic=(
        PeriodicJob(Job.PUBLISH, jobs.run_publication, 60.0),
        PeriodicJob(Job.DEADLINES, jobs.run_deadlines, 3600.0),
    ),
    help=(HelpLine("speakup", "", "raise a concern anonymously; managers answer in the open."),),
    anonymous=frozenset({FormId.NEW, FormId.CASE, ActionId.VIEW}),
    anonymous_commands={"speakup": flows.typed_anonymously},
    outbox_references=(("concerns", "post_outbox"), ("concern_messages", "outbox_id")),
    permanent_keys=(SEED_KEY,),
    report=report.figures,
)

__all__ = ["PRACTICE"]
