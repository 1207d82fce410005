"""Speak-up's stable string ids: buttons, forms, stored states and job names. Changing a value
strands what is already posted, stored or scheduled, so each is written here once."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    """Buttons on speak-up messages."""

    VIEW = "speakup_view"  # the author's private copy: view replies, add more
    REPLY = "speakup_reply_open"
    ACK = "speakup_ack"
    RESOLVE = "speakup_resolve_open"
    HIDE = "speakup_hide_open"


class FormId(StrEnum):
    """Form callbacks."""

    NEW = "speakup_new"  # the author raises a concern
    CASE = "speakup_case"  # the author's view of their case, with a follow-up
    REPLY = "speakup_reply"
    RESOLVE = "speakup_resolve"
    HIDE = "speakup_hide"


class Status(StrEnum):
    """A concern's state, as stored in `concerns.status`."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Kind(StrEnum):
    """What a row of `concern_messages` records."""

    REPLY = "reply"  # a manager's reply, under their name
    AUTHOR = "author"  # the author's follow-up, never with who wrote it
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    HIDDEN = "hidden"


class Deadline(StrEnum):
    """Deadlines flagged in a concern's thread, as stored in `concerns.flagged`."""

    ACK = "ack"
    REPLY = "reply"
    RESOLVE = "resolve"


class Limit(StrEnum):
    """Kinds counted by the shared in-memory limiter."""

    CONCERN = "speakup-concern"  # concerns raised per person per UTC day
    CODE = "speakup-code"  # wrong case codes per person per clock hour


class Verb(StrEnum):
    """The words after /speakup (none opens the form; anything else may be a case code)."""

    HELP = "help"
    STATUS = "status"
    ENABLE = "enable"  # the admins' verbs
    DISABLE = "disable"
    STATS = "stats"


class Job(StrEnum):
    """Periodic jobs (the scheduler's job ids are made from them)."""

    PUBLISH = "speakup-publications"
    DEADLINES = "speakup-deadlines"


SEED_KEY = "speakup-seed:"  # `processed` key prefix: CANDOR_SPEAKUP_CHANNELS applied to a workspace
