"""Dates and times people give for agreements and check-ins: read in their own zone, checked,
shown back in the reader's zone, and the one working-day reminder before a due time."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.timing import InputError, next_working_moment, parse_time

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UTC_NAME = "UTC"


def zone(tz: str | None) -> ZoneInfo:
    """The zone, or UTC for a name this machine does not know (a directory may know more)."""
    try:
        return ZoneInfo(tz or UTC_NAME)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(UTC_NAME)


def read_date(raw: object) -> date:
    typed = str(raw or "").strip()
    if not _DATE.match(typed):
        raise InputError("Give the date as YYYY-MM-DD, e.g. 2026-12-15.")
    try:
        return date.fromisoformat(typed)
    except ValueError:
        raise InputError(f"{typed} is not a date in the calendar.") from None


def local_instant(day: date, hhmm: str, tz: str) -> float:
    """The instant a wall-clock time on `day` names in `tz`; a time the clocks skip is refused."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    local = datetime.combine(day, time(hour, minute), zone(tz))
    back = datetime.fromtimestamp(local.timestamp(), zone(tz))
    if (back.hour, back.minute) != (hour, minute):
        raise InputError(f"{hhmm} does not exist on {day.isoformat()} in {tz}: the clocks go forward then.")
    return local.timestamp()


def today(now: float, tz: str) -> date:
    return datetime.fromtimestamp(now, zone(tz)).date()


def read_due(
    raw_date: object, raw_time: object, tz: str, now: float, max_days: int
) -> tuple[float, str, str]:
    """(instant, date problem, time problem): a due time in the future and at most `max_days` ahead."""
    try:
        day = read_date(raw_date)
    except InputError as problem:
        return 0.0, str(problem), ""
    try:
        hhmm = parse_time(str(raw_time or ""))
    except InputError as problem:
        return 0.0, "", str(problem)
    try:
        instant = local_instant(day, hhmm, tz)
    except InputError as problem:
        return 0.0, "", str(problem)
    if instant <= now:
        return 0.0, f"{shown(instant, tz)} ({tz}) has passed. Choose a time from now on.", ""
    if instant > now + max_days * 86400:
        return 0.0, f"Choose a date at most {max_days} days ahead.", ""
    return instant, "", ""


def shown(instant: float, tz: str) -> str:
    """'Mon 30 Mar 2026, 17:00' in the reader's zone."""
    return datetime.fromtimestamp(instant, zone(tz)).strftime("%a %d %b %Y, %H:%M")


def shown_day(day: date) -> str:
    return day.strftime("%a %d %b %Y")


def iso_day(instant: float, tz: str) -> str:
    return datetime.fromtimestamp(instant, zone(tz)).date().isoformat()


def previous_working_day(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def reminder_moment(due_at: float, tz: str, quiet: tuple[int, int]) -> float | None:
    """One working day before the due time, at the same local time, in the performer's zone;
    if that falls in quiet hours, the first working moment after, as long as it is still before
    the due time. None when there is no such moment."""
    due = datetime.fromtimestamp(due_at, zone(tz))
    candidate = datetime.combine(previous_working_day(due.date()), due.time().replace(tzinfo=None), zone(tz))
    moment = next_working_moment(candidate.timestamp(), str(zone(tz)), quiet, [])
    return moment if moment is not None and moment < due_at else None


def first_working_hour(day: date, tz: str, quiet: tuple[int, int]) -> float:
    """The end of the quiet hours on `day` (09:00 by default) in `tz`: when a check-in date is reminded."""
    return datetime.combine(day, time(quiet[1]), zone(tz)).timestamp()
