"""Nominations' stable string ids: its command and verbs, buttons, forms, fields, stored states,
claims and job. Changing a value strands what is already posted, stored or scheduled."""

from __future__ import annotations

from enum import StrEnum


class Commands(StrEnum):
    NOMINATE = "nominate"  # "/nominate" on Slack, "nominate" on Teams


class Verb(StrEnum):
    """The first word after the command, when it is not a person."""

    HELP = "help"
    OPEN = "open"
    CLOSE = "close"
    STATUS = "status"
    HISTORY = "history"
    MINE = "mine"


class ActionId(StrEnum):
    """Buttons on nominations' messages; the value says which cycle (or export format)."""

    NOMINATE = "nominate_someone"  # on the announcement: opens the nomination form
    VOTE = "nominate_vote"  # on the ballot: opens the vote form
    CLOSE = "nominate_close"  # an admin's choice when a channel has several cycles
    EXPORT = "nominate_export"  # the person's own evidence, sent to them privately
    SHARE = "nominate_share"  # opens the form to share one's evidence with one person


class FormId(StrEnum):
    OPEN = "nominate_open"  # an admin opens a cycle
    NOMINATE = "nominate_person"
    VOTE = "nominate_ballot"
    SHARE = "nominate_share_with"


class FieldId(StrEnum):
    AWARD = "award"
    CHANNEL = "channel"
    CLOSES_ON = "closes_on"
    CLOSES_AT = "closes_at"
    NOMINATORS = "nominators"
    VOTING = "voting"
    TOP_N = "top_n"
    CYCLE = "cycle"
    NOMINEE = "nominee"
    EXAMPLE_1 = "example_1"
    EXAMPLE_2 = "example_2"
    EXAMPLE_3 = "example_3"
    LEVEL = "level"
    CHOICE = "choice"
    PERSON = "person"
    FORMAT = "format"


EXAMPLE_FIELDS = (FieldId.EXAMPLE_1, FieldId.EXAMPLE_2, FieldId.EXAMPLE_3)
SHOW_NOMINATORS = "show"  # the checkbox's value on the open form
NO_VOTE = "none"  # the voting select's value for "no vote"


class Phase(StrEnum):
    """A cycle's state, as stored in `nomination_cycles.phase`."""

    OPEN = "open"  # taking nominations
    VOTING = "voting"  # nominations closed; the finalists are put to a vote
    CLOSED = "closed"  # tallied and announced


class Level(StrEnum):
    """The competency level a nomination rates, in the order forms and evidence list them."""

    ROLE_MODEL = "role_model"
    COMPETENT = "competent"
    DEVELOPING = "developing"


# "Above or below expectations": the calibration rule asks two corroborating examples of these.
CALIBRATED = frozenset({Level.ROLE_MODEL, Level.DEVELOPING})


class ExportFormat(StrEnum):
    MARKDOWN = "markdown"
    CSV = "csv"


class Claim(StrEnum):
    """Prefixes of `processed` keys: the same evidence sent to the same place is sent once a while."""

    EXPORT = "nominate-export:"
    SHARE = "nominate-share:"


class Job(StrEnum):
    CLOSE = "nominations-close"
