"""The numbers nominations' rules and texts share."""

from __future__ import annotations

MIN_EXAMPLE_CHARS = 20
MAX_EXAMPLE_CHARS = 1000
REQUIRED_EXAMPLES = 2  # the seed's "two pieces of corroborating evidence"
MAX_NOMINEES = 3  # per nominator per cycle
DEFAULT_TOP_N = 5  # finalists put to the vote
MIN_TOP_N, MAX_TOP_N = 2, 20
VOTING_DAYS = (1, 2, 3, 7)
DEFAULT_OPEN_DAYS = 7
DEFAULT_CLOSE_TIME = "17:00"
MIN_OPEN_S = 10 * 60  # a cycle must close at least this far ahead
MAX_OPEN_DAYS = 90
CLOSE_EVERY_S = 60.0  # how often the job looks for cycles due to move on
QUOTE_CHARS = 160  # a short quote of evidence in the public announcement
QUOTES_PER_WINNER = 2
QUOTED_WINNERS = 8  # joint winners quoted in the result; a message holds 50 blocks on Slack
SHOWN_CYCLES = 20  # /nominate status and history list at most this many lines
HISTORY_PER_AWARD = 5
NOMINATIONS_PER_DM = 6  # a nominee's evidence is split over messages of this many nominations
SHOWN_PER_GROUP = 3  # /nominate mine shows this many items per behaviour and level
MAX_SHOWN_BLOCKS = 45  # and stays within what one message can hold
RESEND_AFTER_S = 10 * 60  # the same evidence to the same place is not sent twice within this
VERB_CHARS = 200
NAME_BUDGET_S = 0.8  # looking up names for a form or an export; ids are shown otherwise
MAX_NAMED = 40  # people named in one export; more are shown by id
