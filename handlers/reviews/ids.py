"""Failure reviews' stable string ids: the command and its words, buttons, forms and their fields,
stored states, jobs and claims. Changing a value strands what is already posted, stored or open,
so each is written here once."""

from __future__ import annotations

from enum import StrEnum


class Commands(StrEnum):
    REVIEW = "review"  # written by each platform its own way: "/review" on Slack, "review" on Teams


class Verb(StrEnum):
    """The first word after the command."""

    HELP = "help"
    ACTIONS = "actions"
    LIST = "list"
    STATS = "stats"
    CHANNEL = "channel"
    EDIT = "edit"


class ActionId(StrEnum):
    """Buttons on review messages."""

    DONE = "review_action_done"  # an owner (or an admin) marks an action done


class FormId(StrEnum):
    """Form callbacks."""

    NEW = "review_new"  # write a review (named or anonymous)
    EDIT = "review_edit"  # the author edits it or adds a follow-up


class Section(StrEnum):
    """The review's written sections: form field ids and, but for NEXT_TIME, column names."""

    TITLE = "title"
    HAPPENED = "happened"
    IMPACT = "impact"
    FACTORS = "factors"
    LEARNED = "learned"
    NEXT_TIME = "next_time"


class FieldId(StrEnum):
    """The other fields of the forms. Action rows are `row_field(n, RowPart)`."""

    LINES = "action_lines"  # one action per line: @owner YYYY-MM-DD what
    ANONYMOUS = "anonymous"
    MORE_ROWS = "more_rows"
    FOLLOW_UP = "follow_up"


class RowPart(StrEnum):
    WHAT = "what"
    OWNER = "owner"
    DUE = "due"


def row_field(row: int, part: RowPart) -> str:
    """The field id of one part of action row `row` (1-based), e.g. "action_2_owner"."""
    return f"action_{row}_{part}"


class Reminder(StrEnum):
    """The state of a reminder, as stored in `review_actions.before_state` and `due_state`."""

    PENDING = "pending"
    SENT = "sent"
    SKIPPED = "skipped"  # not needed (the date was too close) or too late to help


class Criterion(StrEnum):
    """The quality index's criteria, as data/review_rubric.yml names them."""

    COMPLETE = "complete"
    LEARNING = "learning"
    ACTIONS = "actions"
    PROCESS = "process"
    NOT_PERSON = "not_person"


class Job(StrEnum):
    """Periodic jobs (the scheduler's job ids are made from them)."""

    PUBLISH = "reviews-publications"
    REMIND = "reviews-reminders"
    DIGEST = "reviews-digest"


class Limit(StrEnum):
    """Kinds counted by the shared in-memory limiter."""

    ANONYMOUS = "reviews-anonymous"  # anonymous reviews per person per UTC day
    CODE = "reviews-code"  # wrong case codes per person per clock hour
