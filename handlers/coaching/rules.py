"""The numbers coaching notes are made of."""

from __future__ import annotations

MAX_TEXT = 2000
MAX_AHEAD_DAYS = 365  # a next check-in at most a year ahead
LIST_LIMIT = 8  # notes shown by /coach list and /coach shared, newest first (5 blocks each)
VERB_CHARS = 200
CHECKINS_EVERY_S = 300.0  # how often due check-in reminders are looked for
