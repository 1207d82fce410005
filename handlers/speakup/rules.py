"""The numbers speak-up's rules are made of: text limits, abuse limits, deadlines, case numbers."""

from __future__ import annotations

from handlers.speakup.ids import Deadline

MAX_CONCERN = 3000
MAX_WANTS = 1000
MAX_REPLY = 3000  # replies and the author's follow-ups
MAX_NOTE = 500  # a resolution note, a reason for hiding
CONCERNS_PER_DAY = 3
CODE_TRIES_PER_HOUR = 10
# The author's view of a case shows the newest messages and the start of each, so it stays one
# readable screen however long the thread grows.
CASE_VIEW_MESSAGES = 12
CASE_VIEW_CHARS = 1000
CASE_IDS = (1_000_000, 9_999_999)  # public case numbers: random, seven digits
MESSAGE_IDS = (1, 2**62)  # concern_messages ids: random, so no row's id dates an author's follow-up

# Days after the day of publication, and what is overdue then (after EU directive 2019/1937 art. 9).
DEADLINES: dict[Deadline, tuple[int, str]] = {
    Deadline.ACK: (7, "has not been acknowledged within 7 days"),
    Deadline.REPLY: (30, "has had no reply within 30 days"),
    Deadline.RESOLVE: (90, "is still open after 90 days"),
}
