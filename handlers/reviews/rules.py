"""The numbers failure reviews are made of: text limits, action items, reminders, ids, limits."""

from __future__ import annotations

MAX_TITLE = 150
MAX_SECTION = 3000  # every written section, and a follow-up
MAX_ACTION = 300  # one action's description
MAX_LINES_FIELD = 3000
MAX_ACTIONS = 10  # rows and lines together
FIRST_ROWS = 3  # action rows the form starts with
MORE_ROWS = 3  # rows each "more rows" adds, up to MAX_ACTIONS
MAX_DUE_DAYS = 2 * 366  # a due date further out than this is a typo
SHOWN_CHARS = 40  # typed text echoed in an error is cut to this

REMIND_AT_HOUR = 9  # reminders go out at 09:00 in the owner's timezone
REMIND_DAYS_BEFORE = 2  # the first reminder, this many days before the due date
DIGEST_WEEKDAY = 0  # Monday: the weekly overdue digest, at REMIND_AT_HOUR in the channel's timezone

REVIEW_IDS = (1_000_000, 9_999_999)  # public review numbers: random, seven digits
ROW_IDS = (1, 2**62)  # actions and follow-ups: random, so no id dates an anonymous review

ANONYMOUS_PER_DAY = 5
CODE_TRIES_PER_HOUR = 10

STATS_DAYS = 90
TREND_BUCKETS = 3  # the stats' trend: the mean quality of each 30-day third of the period
LIST_LIMIT = 10  # /review list shows this many recent reviews
ACTIONS_LIMIT = 20  # /review actions shows this many open actions
DIGEST_LIMIT = 30  # the overdue digest names at most this many actions, then says how many more
