"""Staged escalation with a public rubric.

The rubric (data/escalation.yml) is the same for everyone and shown to anyone with `/escalation
rubric`: observation → coaching → documented plan → corrective action, each with what it means,
its minimum time and what must exist before the next. A manager opens a case about one person
with an observed behaviour; the person is told at once and at every step, with the rubric and what
happens next. Candor refuses to skip a stage, to move before a stage's minimum time or before
what it asks for exists, and says why. A documented plan is a set of agreements (/agree); coaching
counts the manager's coaching notes by date only.

The package: `ids`, `store` (all its SQL), `rules` (when a case may move), `flows`, `posts` (what
the person is told), `views` (answers to the one asking).
"""

from __future__ import annotations

from handlers.escalation import flows, views
from handlers.escalation.ids import ActionId, Commands, FormId
from handlers.practice import Practice

PRACTICE = Practice(
    name="escalation",
    commands={Commands.ESCALATION: flows.handle},
    actions={
        ActionId.MOVE: flows.move_clicked,
        ActionId.CLOSE: flows.close_clicked,
        ActionId.PLAN: flows.plan_clicked,
    },
    forms={FormId.OPEN: flows.submit_open, FormId.CLOSE: flows.submit_close},
    help=views.HELP,
)

__all__ = ["PRACTICE"]
