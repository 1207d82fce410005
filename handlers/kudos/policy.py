"""The numbers kudos' rules and its texts share (the daily cap is a setting: CANDOR_KUDOS_DAILY_CAP)."""

from __future__ import annotations

MAX_MESSAGE_CHARS = 1000
MAX_RECEIVERS = 10
UNDO_WINDOW_S = 600
DAY_S = 24 * 3600
STATS_DAYS = 30
SHOWN_TAG_CHARS = 40  # an unknown #behaviour is echoed back, not a pasted paragraph
VERB_CHARS = 200  # the first words choose what to do; no need to clean a whole long message for that
NAME_BUDGET_S = 0.5  # to name a mention the platform sent without one; its id is shown otherwise
