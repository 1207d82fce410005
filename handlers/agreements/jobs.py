"""The periodic work of agreements: the one reminder before a due time, and the review after a miss.

Both find due rows, so a process that was down catches up when it starts; both claim each row with
a conditional update in the transaction that queues the messages, so however many processes run
the job, each reminder and each miss happens once.
"""

from __future__ import annotations

import logging
from functools import partial

from sqlite_utils import Database

from bot import outbox
from bot.outbox import Person
from handlers.agreements import posts, store
from handlers.agreements.access import words, zones
from handlers.agreements.ids import Miss, State
from handlers.agreements.progress import start_review
from handlers.agreements.store import Agreement
from handlers.context import Services
from handlers.timing import next_working_moment

log = logging.getLogger("candor.agreements")
BATCH = 100  # rows per pass; the next pass (a minute later) takes the rest


def _send_reminder(tx: Database, a: Agreement, now: float) -> bool:
    if not store.change(
        tx,
        agreement_id=a.id,
        expected={"state": State.ACCEPTED, "reminded_at": None, "due_at": a.due_at},
        values={"reminded_at": now},
    ):
        return False
    outbox.enqueue(
        tx,
        platform=a.platform,
        to=Person(a.performer),
        message=posts.reminder_message(a, a.performer_tz or "UTC"),
        now=now,
    )
    return True


def _postpone(tx: Database, a: Agreement, later: float | None) -> bool:
    return store.change(
        tx,
        agreement_id=a.id,
        expected={"state": State.ACCEPTED, "reminded_at": None, "remind_at": a.remind_at},
        values={"remind_at": later},
    )


async def reminders_due(services: Services) -> list[Agreement]:
    """Accepted agreements whose reminder time came (not yet claimed)."""
    now = services.clock.now()
    return await services.store.read(lambda db: store.due_reminders(db, now=now, limit=BATCH))


async def remind(services: Services, due: list[Agreement]) -> int:
    """Remind each performer, outside their quiet hours and weekends, claiming each row first: one
    another process reminded meanwhile is not reminded again. One late (after downtime) still goes
    if it is a working moment now and before the due time; in quiet hours it waits for the morning."""
    now = services.clock.now()
    sent = 0
    for a in due:
        moment = next_working_moment(now, a.performer_tz or "UTC", services.settings.quiet_hours, [])
        if moment is not None and moment > now:
            later = moment if moment < a.due_at else None
            await services.store.run(partial(_postpone, a=a, later=later))
            continue
        if await services.store.run(partial(_send_reminder, a=a, now=now)):
            sent += 1
    return sent


async def misses_due(services: Services) -> list[Agreement]:
    """Accepted agreements whose due time passed without being done (not yet claimed)."""
    now = services.clock.now()
    return await services.store.read(lambda db: store.due_misses(db, now=now, limit=BATCH))


async def start_reviews(services: Services, due: list[Agreement]) -> int:
    """Send both sides of each missed agreement the review card, claiming each row first."""
    now = services.clock.now()
    word_list = words(services)
    started = 0
    for a in due:
        tz = await zones(services, a.platform, a.requester, a.performer)
        begin = partial(
            start_review,
            a=a,
            expected=State.ACCEPTED,
            miss=Miss.MISSED,
            missing=None,
            zones_by_user=tz,
            words=word_list,
            now=now,
        )
        if await services.store.run(begin):
            started += 1
    return started


async def run_due(services: Services) -> int:
    """The job: reminders first (those still before their due time), then misses."""
    reminded = await remind(services, await reminders_due(services))
    missed = await start_reviews(services, await misses_due(services))
    if reminded or missed:
        log.info("agreements due", extra={"reminded": reminded, "missed": missed})
    return reminded + missed
