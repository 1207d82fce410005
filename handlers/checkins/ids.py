"""The check-ins' stable names: stored in rows, sent in buttons and forms, so never renamed."""

from __future__ import annotations

from enum import StrEnum

from handlers.schedules.ids import SCHEDULES_COMMAND

COMMAND = SCHEDULES_COMMAND  # /checkin also lists and changes every kind of schedule
CUSTOM_TEMPLATE = "custom"  # the template choice for "my own text"


class CheckinAction(StrEnum):
    RESPOND = "checkin_respond"


class CheckinForm(StrEnum):
    CREATE = "checkin_create"
    RESPONSE = "checkin_response"


class CheckinKind(StrEnum):
    CHECKIN = "checkin"


class Verb(StrEnum):
    """The words after /checkin (none opens the form)."""

    HELP = "help"
    LIST = "list"
    PAUSE = "pause"
    RESUME = "resume"
    DELETE = "delete"
    RUN = "run"
    ADD = "add"
    REMIND = "remind"  # a 1:1 reminder, the nudges' form


class Job(StrEnum):
    """Periodic jobs (the scheduler's job ids are made from them)."""

    REMINDERS = "checkin-reminders"
