"""Peer nomination cycles: colleagues nominate each other for an award with concrete evidence.

An admin opens a cycle for an award (data/awards.yml) in a channel; peers nominate with two
examples and a competency level; at the closing time (the periodic job, or an admin) the cycle goes
to an optional vote among the most nominated, then the result is announced with short quotes and
every nominee is sent what was written about them. Nominators are hidden unless the cycle names
them; running tallies are for admins only. A person's nominations and kudos are their evidence,
which only they can see, export or share (`/nominate mine`).

The package: `ids` (stable strings), `rules` (the numbers), `content` (awards and competency
descriptors), `store` (all its SQL), `parse` and `cycles` (what a request names), `flows` (the
command, opening, closing by hand, status, history), `nominating`, `voting`, `closing` (the
claimed move from one phase to the next, and the job), `tally` (who goes to the vote, who wins),
`evidence*` and `export` (a person's own evidence), `views` and `posts` (what it says and posts),
`when` (times), `report` (team figures).
"""

from __future__ import annotations

from handlers.nominations import closing, evidence, flows, nominating, report, views, voting
from handlers.nominations.ids import ActionId, Commands, FormId, Job
from handlers.nominations.rules import CLOSE_EVERY_S
from handlers.practice import PeriodicJob, Practice

PRACTICE = Practice(
    name="nominations",
    commands={Commands.NOMINATE: flows.handle},
    actions={
        ActionId.NOMINATE: nominating.nominate_button,
        ActionId.VOTE: voting.vote_button,
        ActionId.CLOSE: flows.close_button,
        ActionId.EXPORT: evidence.export_own,
        ActionId.SHARE: evidence.share_button,
    },
    forms={
        FormId.OPEN: flows.submit_open,
        FormId.NOMINATE: nominating.submit_nomination,
        FormId.VOTE: voting.submit_vote,
        FormId.SHARE: evidence.submit_share,
    },
    periodic=(PeriodicJob(Job.CLOSE, closing.close_due, CLOSE_EVERY_S),),
    help=views.HELP,
    # The announcement and the ballot are edited when the cycle moves on, however long it ran.
    outbox_references=(("nomination_cycles", "announce_outbox"), ("nomination_cycles", "vote_outbox")),
    report=report.figures,
)

__all__ = ["PRACTICE"]
