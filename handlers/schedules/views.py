"""What people read about their schedules: the list, and what to do when there is none."""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import Mention, Reply, Span, Strong, ok, rich
from handlers.context import Syntax
from handlers.practice import HelpLine
from handlers.schedules.ids import SCHEDULES_COMMAND
from handlers.schedules.store import Schedule
from handlers.timing import describe, format_local


def nothing_scheduled(syntax: Syntax, hints: Sequence[HelpLine]) -> Reply:
    how = "; ".join(f"{syntax.command(h.command, h.args)} {h.does}" for h in hints)
    return ok("Nothing is scheduled in this channel, and you have no reminders.", f"{how}.")


def when_text(schedule: Schedule) -> str:
    return describe(schedule.days, schedule.at, schedule.tz, schedule.every_weeks)


def schedule_list(syntax: Syntax, titled: Sequence[tuple[Schedule, str]], now: float) -> Reply:
    lines: list[str | tuple[Span, ...]] = [rich(Strong("Schedules in this channel and your reminders"))]
    for schedule, title in titled:
        upcoming = schedule.recurrence.next(now)
        if schedule.paused:
            state = "paused"
        else:
            state = f"next {format_local(upcoming, schedule.tz)}" if upcoming else ""
        parts: list[str | Span] = [f"#{schedule.id} · {title}"]
        if schedule.subject:
            parts += [" with ", Mention(schedule.subject)]
        parts.append(f" · {when_text(schedule)} · {state}")
        lines.append(rich(*parts))
    lines.append(f"Change one with {syntax.command(SCHEDULES_COMMAND, 'pause|resume|delete|run <id>')}.")
    return ok(*lines)
