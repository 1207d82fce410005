"""APScheduler wiring: in-memory jobs rebuilt from the `schedules` rows, the source of truth.

Schedules that fire at the same local time in the same timezone share one job (a *group*), so
5,000 channels due in one minute are one job. It reads the due members a page at a time and fires
them in short transactions (a few rows, a few milliseconds), yielding to the event loop between
them, so requests are answered meanwhile. Each member row records how far its occurrences are
accounted for (`checked_until`): after downtime a missed occurrence fires once, and one later than
the grace period is skipped and logged. Moving `checked_until` is a conditional update, and only
the process whose update changed the row fires it, so two Candor processes on one database fire
each schedule once per occurrence. Firing only writes rows and outbox posts; the outbox paces
delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlite_utils import Database

from bot.clock import Clock
from bot.recurrence import Recurrence
from bot.store import Store
from handlers.schedules import store as schedules
from handlers.schedules.store import Schedule

log = logging.getLogger("candor.scheduler")

PAGE = 100  # due members read at once, in id order (reading 100 takes about a millisecond)
CHUNK = 25  # at most this many fired per transaction; the event loop runs in between
SLICE_S = 0.004  # and a transaction stops taking more after this long, however many it fired

Fire = Callable[[Database, Schedule, float, float], None]


@dataclass(frozen=True)
class FireReport:
    fired: int = 0
    skipped_late: int = 0
    skipped_dates: int = 0
    failed: int = 0
    taken: int = 0  # already accounted for by another process (or paused or deleted meanwhile)

    def __add__(self, other: FireReport) -> FireReport:
        return FireReport(*(a + b for a, b in zip(vars(self).values(), vars(other).values(), strict=True)))


def _job_id(group: Recurrence) -> str:
    return "group:" + "|".join(
        str(part) for part in (group.days, group.at, group.tz, group.every_weeks, group.anchor)
    )


class Scheduler:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        fire: Fire,
        *,
        grace_s: float,
        periodic: tuple[tuple[str, Callable[[], Awaitable[Any]], float], ...] = (),
    ) -> None:
        self.store = store
        self.clock = clock
        self.fire = fire
        self.grace_s = grace_s
        self.periodic = periodic
        self.aps = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": int(grace_s) or 1}
        )
        self._lock = asyncio.Lock()
        # Rebuilds take turns: each reads the rows off the event loop, and one that read earlier
        # must not apply its (older) groups after one that read later.
        self._rebuilding = asyncio.Lock()
        # Set once the start-up catch-up has fired what was missed (tests that move the clock wait
        # for it, so that it does not take an occurrence they fire themselves).
        self.caught_up = asyncio.Event()

    # --- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        self.aps.start()
        for name, job, seconds in self.periodic:  # first run right away: catch up after downtime
            self.aps.add_job(
                job,
                IntervalTrigger(seconds=seconds),
                id=f"periodic:{name}",
                replace_existing=True,
                next_run_time=datetime.now(UTC),
            )
        await self.rebuild()
        # Occurrences missed while Candor was down: once each, within the grace period.
        self.aps.add_job(self._catch_up, id="catch-up")

    async def _catch_up(self) -> None:
        try:
            await self.fire_due()
        finally:
            self.caught_up.set()

    async def shutdown(self, grace_s: float = 10.0) -> None:
        """Stop the timers, then let a firing in progress finish before the store closes."""
        if self.aps.running:
            self.aps.shutdown(wait=False)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_s), self._lock:
                pass

    # --- jobs from rows ------------------------------------------------------------------
    async def groups(self) -> set[Recurrence]:
        return await self.store.read(schedules.groups)

    async def rebuild(self) -> None:
        """Make the in-memory jobs match the schedule rows (cheap: one job per group)."""
        async with self._rebuilding:
            wanted = {_job_id(group): group for group in await self.groups()}
            for job in self.aps.get_jobs():
                if job.id.startswith("group:") and job.id not in wanted:
                    job.remove()
            for job_id, group in wanted.items():
                if self.aps.get_job(job_id) is None:
                    self.aps.add_job(
                        self.fire_group, group.trigger(), args=[group], id=job_id, replace_existing=True
                    )

    # --- firing --------------------------------------------------------------------------
    async def fire_due(self) -> FireReport:
        """Fire every group's due members (start-up catch-up, and tests with a moved clock)."""
        total = FireReport()
        for group in sorted(await self.groups(), key=_job_id):
            total += await self.fire_group(group)
        return total

    async def fire_group(self, group: Recurrence) -> FireReport:
        async with self._lock:  # a catch-up and a job for the same group never interleave
            return await self._fire_group(group)

    async def _fire_group(self, group: Recurrence) -> FireReport:
        now = self.clock.now()
        occurrence = group.latest(now)
        if occurrence is None or occurrence > now:
            return FireReport()
        firing = _Firing(self.fire, occurrence, now, late=now - occurrence > self.grace_s, group=group)
        after_id = 0
        while page := await self.store.read(
            partial(schedules.due_in_group, group=group, occurrence=occurrence, after_id=after_id, limit=PAGE)
        ):
            after_id = page[-1].id
            waiting = deque(page)
            while waiting:
                firing.took(await self.store.run(partial(firing.take, list(waiting))), waiting)
                await asyncio.sleep(0)  # let requests in between transactions
        report = firing.report()
        if report.skipped_late:
            log.warning(
                "skipped schedules: occurrence missed by more than the grace period",
                extra={
                    "count": report.skipped_late,
                    "late_s": round(now - occurrence),
                    "grace_s": self.grace_s,
                },
            )
        return report


class _Firing:
    """One occurrence of a group being fired: a transaction at a time, with what happened so far."""

    def __init__(self, fire: Fire, occurrence: float, now: float, *, late: bool, group: Recurrence) -> None:
        self.fire = fire
        self.occurrence = occurrence
        self.now = now
        self.late = late
        self.local_date = group.local_date(occurrence)
        self.counts = dict.fromkeys(("fired", "skipped_late", "skipped_dates", "failed", "taken"), 0)

    def take(self, waiting: list[Schedule], tx: Database) -> list[str]:
        """Fire the next few waiting schedules in one short transaction (`Store.run`'s: off the
        event loop on PostgreSQL, and run again whole if PostgreSQL makes it lose a deadlock, so it
        changes nothing here); what became of each."""
        stop_at = time.perf_counter() + SLICE_S
        outcomes: list[str] = []
        for schedule in waiting[:CHUNK]:
            outcomes.append(self._one(tx, schedule))
            if time.perf_counter() >= stop_at:
                break
        return outcomes

    def took(self, outcomes: list[str], waiting: deque[Schedule]) -> None:
        """Count a committed `take` and drop the schedules it handled."""
        for outcome in outcomes:
            waiting.popleft()
            self.counts[outcome] += 1

    def _one(self, tx: Database, schedule: Schedule) -> str:
        # The claim comes first: only the process whose update moved `checked_until` fires.
        until = max(self.now, self.occurrence)
        if not schedules.claim_occurrence(
            tx, schedule_id=schedule.id, occurrence=self.occurrence, until=until
        ):
            return "taken"
        if self.late:
            return "skipped_late"
        if self.local_date in schedule.skip_dates:
            return "skipped_dates"
        try:
            with tx.atomic():
                self.fire(tx, schedule, self.occurrence, self.now)
        except Exception:
            log.exception("schedule failed to fire", extra={"schedule": schedule.id})
            return "failed"
        return "fired"

    def report(self) -> FireReport:
        return FireReport(**self.counts)
