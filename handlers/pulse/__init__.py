"""The psychological-safety pulse: Edmondson's seven items, answered anonymously by a team.

An admin or manager schedules it for a channel (`/pulse`, monthly by default); a periodic job opens
each round, sends every member a private card, reminds those who have not answered once, and at
the close posts the team score, each item's mean, the change since the last round and the response
rate, only when at least k people answered (CANDOR_ANONYMITY_K, never below 3; comments from 10).
Answers are stored with no user, no time and a random id, apart from who answered
(handlers/anonymity's building blocks, and the store's own notes).

The package: `ids`, `rules` (the numbers), `content` (data/pulse.yml), `scoring`, `when` (times),
`store` (all its SQL), `flows` (the command and answering), `views` (messages and forms), `jobs`
(opening, reminding, closing), `report` (figures for the team report).
"""

from __future__ import annotations

from handlers.practice import HelpLine, PeriodicJob, Practice
from handlers.pulse import flows, jobs, report
from handlers.pulse.ids import ActionId, Commands, FormId, Job

PRACTICE = Practice(
    name="pulse",
    commands={Commands.PULSE: flows.handle},
    actions={ActionId.ANSWER: flows.open_answer},
    forms={FormId.SCHEDULE: flows.submit_schedule, FormId.ANSWER: flows.submit_answer},
    periodic=(PeriodicJob(Job.ROUNDS, jobs.run, 60.0),),
    help=(HelpLine("pulse", "", "an anonymous psychological-safety pulse for a team, monthly."),),
    # Opening the questions and sending them: their replays are remembered in memory only, so no
    # row records when someone answered.
    anonymous=frozenset({ActionId.ANSWER, FormId.ANSWER}),
    report=report.figures,
)

__all__ = ["PRACTICE"]
