"""Stable names the schedules share."""

from __future__ import annotations

# The command that creates check-ins and also lists, changes and runs schedules of every kind
# (/checkin list, /checkin pause 3, /checkin remind), whichever practice owns them.
SCHEDULES_COMMAND = "checkin"
