"""The numbers agreements' rules are made of."""

from __future__ import annotations

MAX_TEXT = 2000  # every text people write here: the request, done means, reasons, answers
MAX_AHEAD_DAYS = 365  # a due date at most a year ahead
DEFAULT_DUE_TIME = "17:00"
STATS_DAYS = 90
LIST_LIMIT = 15  # per side in /agree list; /agree show N has the rest
VERB_CHARS = 200  # enough of the text to choose what to do
DUE_EVERY_S = 60.0  # how often reminders and misses are looked for
DAY_S = 24 * 3600
SHOWN_OFFERS = 10  # /agree show lists the latest offers of a long negotiation
