"""Escalation's stable strings. The stages' slugs are fixed in data/escalation.yml too
(handlers/catalog.py: ESCALATION_STAGES); everything else about a stage may be edited there."""

from __future__ import annotations

from enum import StrEnum


class Commands(StrEnum):
    ESCALATION = "escalation"


class Verb(StrEnum):
    HELP = "help"
    RUBRIC = "rubric"
    OPEN = "open"
    LIST = "list"
    SHOW = "show"
    MOVE = "move"
    CLOSE = "close"


class Stage(StrEnum):
    OBSERVATION = "observation"
    COACHING = "coaching"
    PLAN = "plan"  # a documented plan: a set of agreements with dates
    CORRECTIVE = "corrective"


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Outcome(StrEnum):
    RESOLVED = "resolved"
    CLOSED = "closed"


class StepKind(StrEnum):
    OPENED = "opened"
    MOVED = "moved"
    CLOSED = "closed"


class Check(StrEnum):
    """What a stage's `before_next` may count (data/escalation.yml)."""

    OBSERVATIONS = "observations"
    COACHING_NOTES = "coaching_notes"
    REVIEWED_AGREEMENTS = "reviewed_agreements"
    PLAN_AGREEMENTS = "plan_agreements"
    PLAN_MISSED_REVIEWED = "plan_missed_reviewed"


class ActionId(StrEnum):
    MOVE = "escalation_move"  # value "<case>:<the stage it moves from>": a second click is harmless
    CLOSE = "escalation_close"  # value "<case>"
    PLAN = "escalation_plan"  # value "<case>": a plan agreement, through /agree's form


class FormId(StrEnum):
    OPEN = "escalation_open"
    CLOSE = "escalation_close_form"


class Claim(StrEnum):
    FORM = "escalation-form:"  # one opened form opens one case
    MOVE = "escalation-move:"  # one /escalation move delivery moves once, even when retried
