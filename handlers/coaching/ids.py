"""Coaching notes' stable strings."""

from __future__ import annotations

from enum import StrEnum


class Commands(StrEnum):
    COACH = "coach"


class Verb(StrEnum):
    HELP = "help"
    LIST = "list"
    SHARED = "shared"


class ActionId(StrEnum):
    """Buttons; the value is the note's number."""

    READ = "coach_read"
    SHARE = "coach_share"
    UNSHARE = "coach_unshare"


class FormId(StrEnum):
    NOTE = "coach_note"


class Claim(StrEnum):
    FORM = "coach-form:"  # one opened form stores one note, however often it is submitted


class Job(StrEnum):
    CHECKINS = "coaching-checkins"
