"""Agreements' stable strings: its command and verbs, buttons, forms, states and claims."""

from __future__ import annotations

from enum import StrEnum


class Commands(StrEnum):
    AGREE = "agree"


class Verb(StrEnum):
    HELP = "help"
    LIST = "list"
    SHOW = "show"
    STATS = "stats"


class ActionId(StrEnum):
    """Buttons; the value is "<agreement>:<offer>" for answers to an offer, else "<agreement>"."""

    ACCEPT = "agree_accept"
    PROPOSE = "agree_propose"
    DECLINE = "agree_decline"
    DONE = "agree_done"
    RENEGOTIATE = "agree_renegotiate"
    ACCEPT_DONE = "agree_accept_done"
    NOT_YET = "agree_not_yet"
    REVIEW = "agree_review"


class FormId(StrEnum):
    NEW = "agree_new"
    PROPOSE = "agree_propose_form"
    DECLINE = "agree_decline_form"
    NOT_YET = "agree_not_yet_form"
    REVIEW = "agree_review_form"


class State(StrEnum):
    OFFERED = "offered"  # asked, not yet agreed: an offer waits for `turn`
    ACCEPTED = "accepted"  # agreed; a change may be on the table (`turn` set)
    DONE = "done"  # the performer says it is done; the requester has not answered
    KEPT = "kept"  # accepted as done
    DECLINED = "declined"
    REVIEWING = "reviewing"  # missed or "not yet": "How can we do this better next time?"
    REVIEWED = "reviewed"  # both answered; the learning is kept


OPEN_STATES = (State.OFFERED, State.ACCEPTED, State.DONE, State.REVIEWING)


class Role(StrEnum):
    REQUESTER = "requester"
    PERFORMER = "performer"


class OfferKind(StrEnum):
    REQUEST = "request"  # the first offer, from the requester
    PROPOSAL = "proposal"  # a change proposed by either side


class Outcome(StrEnum):
    """What became of an offer."""

    ACCEPTED = "accepted"
    COUNTERED = "countered"
    DECLINED = "declined"
    SUPERSEDED = "superseded"  # done, missed or reviewed before anyone answered it


class Miss(StrEnum):
    MISSED = "missed"  # the due time passed before it was marked done
    NOT_YET = "not_yet"  # the requester said it is not done yet


class Claim(StrEnum):
    """Prefixes of `processed` keys: one opened form sends one request, however often submitted."""

    FORM = "agree-form:"


class Job(StrEnum):
    DUE = "agreements-due"  # the reminder before the due time, and the review after a miss
