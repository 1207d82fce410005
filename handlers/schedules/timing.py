"""Reading and checking what people type for schedules: days, times, timezones, dates."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from bot.recurrence import DAYS

DAY_NAMES = {d: d.capitalize() for d in DAYS}
_ALIASES = {"weekdays": DAYS[:5], "daily": DAYS, "everyday": DAYS, "weekends": DAYS[5:]}
_FULL_NAMES = {
    d: n
    for d, n in zip(
        DAYS,
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        strict=True,
    )
}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
MAX_SKIP_DATES = 50


class InputError(ValueError):
    """What the person typed cannot be used; the message says what to type instead."""


def parse_days(raw: str | list[str] | None) -> str:
    """'mon,thu', 'Mon Thu', 'weekdays' or a list of day ids → 'mon,thu' in week order."""
    words = raw if isinstance(raw, list) else re.split(r"[\s,]+", (raw or "").strip().lower())
    chosen: set[str] = set()
    for word in (w.strip().lower() for w in words if w and w.strip()):
        if word in _ALIASES:
            chosen.update(_ALIASES[word])
        elif len(word) >= 3 and _FULL_NAMES.get(word[:3], "").startswith(word):
            chosen.add(word[:3])
        else:
            raise InputError(f"{word[:20]!r} is not a day. Use mon, tue, … sun, or weekdays.")
    if not chosen:
        raise InputError("Pick at least one day of the week.")
    return ",".join(d for d in DAYS if d in chosen)


def parse_time(raw: str | None) -> str:
    typed = (raw or "").strip()
    match = _TIME.match(typed)
    if not match:
        raise InputError("Give the time as HH:MM on a 24-hour clock, e.g. 09:30.")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise InputError(f"{typed} is not a time of day. Use 00:00 to 23:59.")
    return f"{hour:02d}:{minute:02d}"


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_tz(raw: str | None) -> str:
    name = (raw or "").strip()
    if name in _zones():
        return name
    lowered = {z.lower(): z for z in _zones()}
    if name.lower() in lowered:
        return lowered[name.lower()]
    raise InputError(
        f"{name[:40] or 'That'!r} is not a timezone I know. Use an IANA name such as "
        "Europe/Berlin, America/New_York or Asia/Kolkata."
    )


def parse_skip_dates(raw: str | None) -> list[str]:
    dates = []
    for word in re.split(r"[\s,]+", (raw or "").strip()):
        if not word:
            continue
        try:
            dates.append(date.fromisoformat(word).isoformat())
        except ValueError:
            raise InputError(f"{word[:20]!r} is not a date. Write dates as 2026-12-24.") from None
    if len(dates) > MAX_SKIP_DATES:
        raise InputError(f"At most {MAX_SKIP_DATES} skip dates.")
    return sorted(set(dates))


def describe(days: str, at: str, tz: str, every_weeks: int = 1) -> str:
    names = ", ".join(DAY_NAMES[d] for d in days.split(","))
    cadence = f"every {every_weeks} weeks on " if every_weeks > 1 else ""
    return f"{cadence}{names} at {at} ({tz})"


def format_local(instant: float, tz: str) -> str:
    return datetime.fromtimestamp(instant, ZoneInfo(tz)).strftime("%a %d %b %H:%M")


def next_working_moment(
    instant: float, tz: str, quiet: tuple[int, int], skip_dates: list[str]
) -> float | None:
    """`instant`, or the first later moment outside quiet hours, weekends and skip dates.

    None when there is none within the skip list's reach (every day blocked): skip the reminder.
    """
    start_quiet, end_quiet = quiet
    zone = ZoneInfo(tz)
    when = datetime.fromtimestamp(instant, zone)
    for _ in range(2 * len(skip_dates) + 10):
        is_quiet = (
            (when.hour >= start_quiet or when.hour < end_quiet)
            if start_quiet > end_quiet
            else start_quiet <= when.hour < end_quiet
        )
        blocked = when.weekday() >= 5 or when.date().isoformat() in skip_dates
        if not blocked and not is_quiet:
            return when.timestamp()
        day = when.date() if when.hour < end_quiet and not blocked else when.date() + timedelta(days=1)
        when = datetime.combine(day, time(end_quiet), zone)
    return None
