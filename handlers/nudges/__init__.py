"""Coaching nudges for managers: on demand, weekly by DM, scheduled in channels, and with 1:1s.

ids.py holds the stable names, store.py all the SQL, flows.py the rules, views.py what people see.
"""

from __future__ import annotations

from handlers.nudges import flows
from handlers.nudges.ids import COMMAND, NudgeForm, NudgeKind
from handlers.practice import HelpLine, Practice, ScheduleKind
from handlers.schedules.ids import SCHEDULES_COMMAND

PRACTICE = Practice(
    name="nudges",
    commands={COMMAND: flows.handle},
    forms={NudgeForm.SCHEDULE: flows.submit_schedule, NudgeForm.ONE_ON_ONE: flows.submit_one_on_one},
    schedule_kinds={
        NudgeKind.CHANNEL: ScheduleKind(
            flows.fire_channel,
            "Coaching nudge",
            how_to_add=HelpLine(COMMAND, "schedule", "sets coaching nudges for a channel"),
        ),
        NudgeKind.WEEKLY: ScheduleKind(flows.fire_weekly, "Weekly coaching nudge", personal=True),
        NudgeKind.ONE_ON_ONE: ScheduleKind(
            flows.fire_one_on_one,
            "1:1 reminder",
            personal=True,
            how_to_add=HelpLine(SCHEDULES_COMMAND, "remind", "sets 1:1 reminders"),
        ),
    },
    help=(HelpLine(COMMAND, "", "a coaching prompt for managers, now, weekly or on a channel schedule."),),
    on_schedule_delete=flows.forget_schedule,
)

__all__ = ["PRACTICE"]
