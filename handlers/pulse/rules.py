"""The numbers the pulse is made of: thresholds, periods, limits, ids."""

from __future__ import annotations

from handlers.pulse.ids import Repeat

MIN_K = 3  # whatever CANDOR_ANONYMITY_K says, a round's results need at least this many answers
COMMENTS_K = 10  # comments are shown only from this many answers (or k, if larger)
OPEN_DAYS = (3, 5, 7, 10)  # how long a round may take answers
DEFAULT_OPEN_DAYS = 5
OPENS_AT_HOUR = 10  # a scheduled round opens at 10:00 in the scheduler's timezone
MAX_COMMENT = 1000
MAX_MEMBERS = 2000  # invited per round; a larger channel is not a team
# Answers get random ids from a wide range, so the order of rows says nothing about who answered when.
ANSWER_IDS = (1, 2**62)

REPEAT_LABELS = {
    Repeat.MONTHLY: "Every month",
    Repeat.FORTNIGHTLY: "Every two weeks",
    Repeat.QUARTERLY: "Every three months",
    Repeat.ONCE: "Once",
}
REPEAT_WORDS = {
    "monthly": Repeat.MONTHLY,
    "fortnightly": Repeat.FORTNIGHTLY,
    "biweekly": Repeat.FORTNIGHTLY,
    "quarterly": Repeat.QUARTERLY,
    "once": Repeat.ONCE,
}


def pulse_k(anonymity_k: int) -> int:
    """The answers a round needs before anything about it is shown: CANDOR_ANONYMITY_K, never below 3."""
    return max(MIN_K, anonymity_k)


def comments_k(anonymity_k: int) -> int:
    return max(COMMENTS_K, pulse_k(anonymity_k))
