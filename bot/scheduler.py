"""APScheduler wiring: in-memory jobs rebuilt from the `schedules` rows, the source of truth.

Schedules that fire at the same local time in the same timezone share one job (a *group*), so
5,000 channels due in one minute are one job that fires members in small chunks, yielding to the
event loop between chunks. Each member row records how far its occurrences are accounted for
(`checked_until`), so after downtime a missed occurrence fires once, and one later than the grace
period is skipped and logged. Firing only writes rows and outbox posts; the outbox paces delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock
from bot.recurrence import Recurrence
from bot.store import Store

log = logging.getLogger("candor.scheduler")

GROUP_COLUMNS = ("days", "at", "tz", "every_weeks", "anchor")
CHUNK = 25  # schedules fired per transaction; the event loop runs in between

Fire = Callable[[Any, dict[str, Any], float, float], None]


@dataclass(frozen=True)
class FireReport:
    fired: int = 0
    skipped_late: int = 0
    skipped_dates: int = 0
    failed: int = 0


def _group_key(row: dict[str, Any]) -> tuple:
    return tuple(row[c] for c in GROUP_COLUMNS)


def _job_id(key: tuple) -> str:
    return "group:" + "|".join(str(k) for k in key)


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

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        self.aps.start()
        for name, job, seconds in self.periodic:  # first run right away: catch up after downtime
            self.aps.add_job(
                job,
                IntervalTrigger(seconds=seconds),
                id=f"periodic:{name}",
                replace_existing=True,
                next_run_time=datetime.now(UTC),
            )
        self.rebuild()
        # Occurrences missed while Candor was down: once each, within the grace period.
        self.aps.add_job(self.fire_due, id="catch-up")

    async def shutdown(self, grace_s: float = 10.0) -> None:
        """Stop the timers, then let a firing in progress finish before the store closes."""
        if self.aps.running:
            self.aps.shutdown(wait=False)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_s), self._lock:
                pass

    # --- jobs from rows ------------------------------------------------------------------
    def groups(self) -> set[tuple]:
        columns = ", ".join(GROUP_COLUMNS)
        rows = self.store.db.execute(f"select distinct {columns} from schedules where paused = 0").fetchall()
        return {tuple(r) for r in rows}

    def rebuild(self) -> None:
        """Make the in-memory jobs match the schedule rows (cheap: one job per group)."""
        wanted = {_job_id(key): key for key in self.groups()}
        for job in self.aps.get_jobs():
            if job.id.startswith("group:") and job.id not in wanted:
                job.remove()
        for job_id, key in wanted.items():
            if self.aps.get_job(job_id) is None:
                trigger = Recurrence(*key).trigger()
                self.aps.add_job(self.fire_group, trigger, args=[key], id=job_id, replace_existing=True)

    # --- firing --------------------------------------------------------------------------
    async def fire_due(self) -> FireReport:
        """Fire every group's due members (start-up catch-up, and tests with a moved clock)."""
        total = FireReport()
        for key in sorted(self.groups(), key=str):
            report = await self.fire_group(key)
            total = FireReport(
                *(a + b for a, b in zip(vars(total).values(), vars(report).values(), strict=True))
            )
        return total

    async def fire_group(self, key: tuple) -> FireReport:
        async with self._lock:  # a catch-up and a job for the same group never interleave
            return await self._fire_group(key)

    async def _fire_group(self, key: tuple) -> FireReport:
        now = self.clock.now()
        recurrence = Recurrence(*key)
        occurrence = recurrence.latest(now)
        if occurrence is None or occurrence > now:
            return FireReport()
        where = " and ".join(f"{c} = ?" for c in GROUP_COLUMNS) + " and paused = 0 and checked_until < ?"
        args = [*key, occurrence]
        late = now - occurrence > self.grace_s
        local_date = recurrence.local_date(occurrence)
        fired = skipped_late = skipped_dates = failed = 0
        while True:
            rows = list(
                self.store.db.query(f"select * from schedules where {where} order by id limit {CHUNK}", args)
            )
            if not rows:
                break
            with self.store.transaction() as tx:
                for row in rows:
                    tx.execute(
                        "update schedules set checked_until = ? where id = ?",
                        [max(now, occurrence), row["id"]],
                    )
                    if late:
                        skipped_late += 1
                    elif local_date in json.loads(row["skip_dates"] or "[]"):
                        skipped_dates += 1
                    else:
                        try:
                            with tx.atomic():
                                self.fire(tx, row, occurrence, now)
                            fired += 1
                        except Exception:
                            failed += 1
                            log.exception("schedule failed to fire", extra={"schedule": row["id"]})
            await asyncio.sleep(0)  # let requests in between chunks
        if skipped_late:
            log.warning(
                "skipped schedules: occurrence missed by more than the grace period",
                extra={"count": skipped_late, "late_s": round(now - occurrence), "grace_s": self.grace_s},
            )
        return FireReport(fired, skipped_late, skipped_dates, failed)
