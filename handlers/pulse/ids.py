"""The pulse's stable strings: its command, buttons, forms, stored states and job names. Changing a
value strands what is already posted, stored or scheduled, so each is written here once."""

from __future__ import annotations

from enum import StrEnum


class Commands(StrEnum):
    PULSE = "pulse"  # "/pulse" on Slack, "pulse" on Teams


class Verb(StrEnum):
    """The first word after the command."""

    HELP = "help"
    START = "start"  # schedule in this channel in one line, the first round now
    STATUS = "status"
    RESULTS = "results"
    CLOSE = "close"  # close the open round now
    STOP = "stop"  # stop the schedule


class ActionId(StrEnum):
    ANSWER = "pulse_answer"  # the member's card: open the seven questions


class FormId(StrEnum):
    SCHEDULE = "pulse_schedule"
    ANSWER = "pulse_answer_form"


class Repeat(StrEnum):
    """How often a schedule opens a round, as stored in `pulse_schedules.repeat`."""

    MONTHLY = "monthly"
    FORTNIGHTLY = "fortnightly"
    QUARTERLY = "quarterly"
    ONCE = "once"


class RoundState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Withheld(StrEnum):
    """Why a closed round's results are not shown, as stored in `pulse_rounds.withheld`."""

    FEW = "few"  # fewer than k answers
    OVERLAP = "overlap"  # compared with a concurrent round, it would single out fewer than k people


class Job(StrEnum):
    ROUNDS = "pulse-rounds"  # open due rounds, send the reminder, close and publish
