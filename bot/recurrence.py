"""When a weekly schedule fires: APScheduler's CronTrigger in the schedule's own IANA timezone.

Local wall-clock time is kept across DST changes because the trigger works in `ZoneInfo(tz)`.
Occurrences are walked and compared as UTC instants: wall-clock comparisons in one zone ignore
`fold`, which made the repeated hour of an autumn change loop forever. A wall time that happens
twice that night counts once; one that does not exist in spring fires an hour later.
`every_weeks` > 1 keeps only the weeks counted from `anchor` (a Monday).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_STEPS = 500  # a week has at most 7 occurrences; this only guards against a trigger bug


@dataclass(frozen=True)
class Recurrence:
    days: str  # "mon,thu"
    at: str  # "09:30"
    tz: str
    every_weeks: int = 1
    anchor: str = ""  # ISO date of a Monday

    def trigger(self) -> CronTrigger:
        hour, minute = self.at.split(":")
        return CronTrigger(
            day_of_week=self.days, hour=int(hour), minute=int(minute), timezone=ZoneInfo(self.tz)
        )

    def _in_rotation(self, when: datetime) -> bool:
        if self.every_weeks <= 1 or not self.anchor:
            return True
        weeks = (when.date() - date.fromisoformat(self.anchor)).days // 7
        return weeks % self.every_weeks == 0

    def _span(self) -> float:
        return (7 * self.every_weeks + 1) * 86400.0

    def occurrences(self, start: float, end: float) -> Iterator[float]:
        """Occurrences in [start, end] as epoch seconds, in order."""
        zone = ZoneInfo(self.tz)
        trigger = self.trigger()
        cursor, last_wall = start, None
        for _ in range(_MAX_STEPS):
            when = trigger.get_next_fire_time(None, datetime.fromtimestamp(cursor, UTC).astimezone(zone))
            if when is None or when.timestamp() > end:
                return
            instant = when.timestamp()
            wall = when.replace(tzinfo=None)
            if wall != last_wall and self._in_rotation(when):
                yield instant
            last_wall = wall
            cursor = max(instant, cursor) + 1.0

    def latest(self, now: float) -> float | None:
        """The last occurrence at or before `now` within one rotation."""
        last = None
        for instant in self.occurrences(now - self._span(), now):
            last = instant
        return last

    def next(self, after: float) -> float | None:
        """The first occurrence strictly after `after`."""
        return next(self.occurrences(after + 1.0, after + 2 * self._span()), None)

    def local_date(self, instant: float) -> str:
        return datetime.fromtimestamp(instant, ZoneInfo(self.tz)).date().isoformat()


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())
