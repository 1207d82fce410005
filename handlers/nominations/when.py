"""Times as nominations read and show them: the admin's closing date and time in their own
timezone (DST-correct), and how long is left."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.timing import InputError, parse_time, parse_tz


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(parse_tz(tz))
    except InputError:  # a name the directory knows and this machine does not
        return ZoneInfo("UTC")


def default_close_day(now: float, tz: str, days: int) -> str:
    return (datetime.fromtimestamp(now, zone(tz)).date() + timedelta(days=days)).isoformat()


def read_day(raw: object) -> date:
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise InputError("Pick a date, e.g. 2026-06-19.") from None


def closing_instant(day: date, at: object, tz: str) -> float:
    """The instant a local date and time name; refuses a time the clocks skip (a DST change)."""
    hour, minute = (int(part) for part in parse_time(str(at or "")).split(":"))
    where = zone(tz)
    instant = datetime.combine(day, time(hour, minute), where).timestamp()
    back = datetime.fromtimestamp(instant, where)
    if (back.date(), back.hour, back.minute) != (day, hour, minute):
        raise InputError(
            f"{day.isoformat()} {hour:02d}:{minute:02d} does not exist in {where.key}: the clocks "
            "change then. Pick another time."
        )
    return instant


def local(instant: float, tz: str) -> str:
    """'Fri 19 Jun 17:00 (Europe/Berlin)'"""
    where = zone(tz)
    return f"{datetime.fromtimestamp(instant, where):%a %d %b %H:%M} ({where.key})"


def local_day(instant: float, tz: str) -> str:
    return f"{datetime.fromtimestamp(instant, zone(tz)):%d %b %Y}"


def time_left(now: float, instant: float) -> str:
    """'in 2 days 3 h', 'in 3 h 20 min', 'in 4 min' (rounded up), or 'now' once it has come."""
    if instant <= now:
        return "now"
    minutes = max(1, math.ceil((instant - now) / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        parts = [f"{days} day{'s' if days > 1 else ''}", f"{hours} h" if hours else ""]
    else:
        parts = [f"{hours} h" if hours else "", f"{mins} min" if mins else ""]
    return "in " + " ".join(p for p in parts if p)
