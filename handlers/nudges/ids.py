"""The nudges' stable names: stored in rows and sent in forms, so never renamed."""

from __future__ import annotations

from enum import StrEnum

COMMAND = "nudge"


class NudgeForm(StrEnum):
    SCHEDULE = "nudge_schedule"
    ONE_ON_ONE = "one_on_one_create"


class NudgeKind(StrEnum):
    CHANNEL = "nudge"  # nudges posted in a channel
    WEEKLY = "weekly_nudge"  # one nudge a week by DM to its owner
    ONE_ON_ONE = "one_on_one"  # a manager's recurring 1:1 reminder, by DM
