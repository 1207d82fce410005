"""Local times for reminders and the weekly digest: 09:00 on a person's own calendar, DST-correct.

An instant is computed from a local date and hour with zoneinfo, so 09:00 Europe/Berlin is 07:00
UTC in summer and 08:00 in winter, on the day the clocks change too. A timezone this machine does
not know counts as UTC.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.reviews.rules import DIGEST_WEEKDAY, REMIND_AT_HOUR, REMIND_DAYS_BEFORE


def zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def known_tz(tz: str | None) -> str:
    """The timezone name to keep: the person's, or UTC when it is missing or unknown here."""
    return zone(tz).key


def local_at(day: date, hour: int, tz: str) -> float:
    """The instant of `hour`:00 on `day` in `tz`."""
    return datetime.combine(day, time(hour), zone(tz)).timestamp()


def today_in(now: float, tz: str) -> date:
    return datetime.fromtimestamp(now, zone(tz)).date()


def reminder_times(due_on: str, tz: str) -> tuple[float, float, float]:
    """(the first reminder, the due-date reminder, the moment the action becomes overdue): 09:00
    two days before, 09:00 on the day, and midnight after it, all in `tz`."""
    due = date.fromisoformat(due_on)
    return (
        local_at(due - timedelta(days=REMIND_DAYS_BEFORE), REMIND_AT_HOUR, tz),
        local_at(due, REMIND_AT_HOUR, tz),
        local_at(due + timedelta(days=1), 0, tz),
    )


def digest_week(now: float, tz: str) -> tuple[str, float]:
    """This week's digest in `tz`: its Monday (ISO date) and when it is due (09:00 that day)."""
    today = today_in(now, tz)
    monday = today - timedelta(days=(today.weekday() - DIGEST_WEEKDAY) % 7)
    return monday.isoformat(), local_at(monday, REMIND_AT_HOUR, tz)


def days_until(now: float, due_on: str, tz: str) -> int:
    """Whole calendar days from today (in `tz`) to the due date; negative once it has passed."""
    return (date.fromisoformat(due_on) - today_in(now, tz)).days
