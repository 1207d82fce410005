"""Scheduled team check-ins: a prompt in the channel, answers in its thread, one gentle reminder.

ids.py holds the stable names, store.py all the SQL, flows.py the rules, views.py what people see.
"""

from __future__ import annotations

from handlers.checkins import flows, report
from handlers.checkins.ids import COMMAND, CheckinAction, CheckinForm, CheckinKind, Job
from handlers.practice import HelpLine, PeriodicJob, Practice, ScheduleKind

PRACTICE = Practice(
    name="checkins",
    commands={COMMAND: flows.handle},
    actions={CheckinAction.RESPOND: flows.respond},
    forms={CheckinForm.CREATE: flows.submit_create, CheckinForm.RESPONSE: flows.submit_response},
    schedule_kinds={
        CheckinKind.CHECKIN: ScheduleKind(
            flows.fire,
            "Check-in",
            title=flows.title_of,
            how_to_add=HelpLine(COMMAND, "", "opens the check-in form"),
        )
    },
    periodic=(PeriodicJob(Job.REMINDERS, flows.send_due_reminders, 60.0),),
    help=(HelpLine(COMMAND, "", "schedule a regular check-in in a channel."),),
    on_schedule_delete=flows.forget_schedule,
    outbox_references=(("checkin_runs", "prompt_outbox"),),
    report=report.report,
    home=report.home,
)

__all__ = ["PRACTICE"]
