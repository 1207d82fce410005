"""When a weekly schedule fires: APScheduler's CronTrigger in the schedule's own IANA timezone.

Local wall-clock time is kept across DST changes because the trigger works in `ZoneInfo(tz)`.
`every_weeks` > 1 keeps only the weeks counted from `anchor` (a Monday).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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

    def latest(self, now: float) -> float | None:
        """The last occurrence at or before `now` within one rotation, as epoch seconds."""
        zone = ZoneInfo(self.tz)
        now_dt = datetime.fromtimestamp(now, zone)
        trigger = self.trigger()
        when = trigger.get_next_fire_time(None, now_dt - timedelta(days=7 * self.every_weeks + 1))
        last = None
        while when is not None and when <= now_dt:
            if self._in_rotation(when):
                last = when
            when = trigger.get_next_fire_time(when, when + timedelta(seconds=1))
        return last.timestamp() if last else None

    def next(self, after: float) -> float | None:
        """The first occurrence strictly after `after`."""
        zone = ZoneInfo(self.tz)
        trigger = self.trigger()
        when = trigger.get_next_fire_time(None, datetime.fromtimestamp(after, zone) + timedelta(seconds=1))
        for _ in range(8 * max(1, self.every_weeks)):
            if when is None or self._in_rotation(when):
                break
            when = trigger.get_next_fire_time(when, when + timedelta(seconds=1))
        return when.timestamp() if when else None

    def local_date(self, instant: float) -> str:
        return datetime.fromtimestamp(instant, ZoneInfo(self.tz)).date().isoformat()


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())
