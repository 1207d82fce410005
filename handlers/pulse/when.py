"""When rounds open, remind and close, in the scheduler's timezone (zoneinfo, so DST-correct)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.pulse.ids import Repeat
from handlers.pulse.rules import OPENS_AT_HOUR
from handlers.timing import next_working_moment

DAY_S = 86400.0


def opening(on: date, tz: str) -> float:
    """10:00 on that local day."""
    return datetime.combine(on, time(OPENS_AT_HOUR), ZoneInfo(tz)).timestamp()


def first_round(on: date, tz: str, now: float) -> float:
    """The first round opens at 10:00 on the chosen day, or at once if that has passed."""
    return max(opening(on, tz), now)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_round(repeat: Repeat, previous: float, tz: str) -> float | None:
    """The round after one that opened at `previous`: 10:00 local a month (two weeks, three months)
    later; None for a schedule that runs once. A month has at most as many days as the next one
    allows (31 January → 28 February)."""
    local = datetime.fromtimestamp(previous, ZoneInfo(tz)).date()
    if repeat == Repeat.ONCE:
        return None
    if repeat == Repeat.FORTNIGHTLY:
        return opening(local + timedelta(days=14), tz)
    return opening(_add_months(local, 3 if repeat == Repeat.QUARTERLY else 1), tz)


def reminder_time(opened: float, closes: float, tz: str, quiet: tuple[int, int]) -> float | None:
    """Halfway through the round, moved out of quiet hours and weekends; None if that would leave
    less than an hour before it closes (nobody is reminded of a round they can no longer answer)."""
    halfway = opened + (closes - opened) / 2
    moment = next_working_moment(halfway, tz, quiet, [])
    if moment is None or moment > closes - 3600:
        return halfway if halfway < closes - 3600 else None
    return moment
