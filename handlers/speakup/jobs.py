"""Speak-up's periodic jobs: the publication batch (every minute) and the deadline flags (hourly).

Both may run in more than one process on one database at once: each concern, follow-up and
deadline is claimed by a conditional update (handlers/speakup/store.py) inside the transaction
that posts it, so whichever process wins posts it, and the other posts nothing.
"""

from __future__ import annotations

import logging
from functools import partial

from sqlite_utils import Database

from bot import outbox
from bot.outbox import Channel
from handlers import anonymity
from handlers.context import Services
from handlers.speakup import store, views
from handlers.speakup.ids import Deadline, Status
from handlers.speakup.rules import DEADLINES
from handlers.speakup.store import Concern, FollowUp

log = logging.getLogger("candor.speakup")

Due = Concern | FollowUp


async def due(services: Services) -> list[Due]:
    """Concerns and the author's follow-ups whose batch time has come (not yet claimed)."""
    now = services.clock.now()
    return await services.store.read(
        lambda db: [*store.due_concerns(db, now=now), *store.due_follow_ups(db, now=now)]
    )


async def release(services: Services, items: list[Due]) -> int:
    """Publish `items` as one batch, in random order with the batch's time; then empty the WAL.
    Returns how many this process published (another may have taken some first)."""
    now = services.clock.now()

    def publish(tx: Database, item: Due, batch: float) -> bool:
        if isinstance(item, Concern):
            return _publish_concern(tx, item, batch, now)
        return _publish_follow_up(tx, item, batch, now)

    released = await anonymity.release_batch(services.store, items=items, release=publish, now=now)
    if released and anonymity.is_delayed(services.settings.speakup_delay_s):
        # With no delay this runs inside a request, whose time is the post's anyway.
        log.info("speak-up batch published", extra={"published": released})
    return released


def _publish_concern(tx: Database, concern: Concern, batch: float, now: float) -> bool:
    if not store.claim_concern(tx, concern_id=concern.id, now=now):
        return False
    post = outbox.enqueue(
        tx,
        platform=concern.platform,
        to=Channel(concern.conversation),
        message=views.channel_post(concern),
        now=now,
        not_before=batch,
        created_at=batch,
    )
    store.set_concern_post(tx, concern_id=concern.id, post=post)
    return True


def _publish_follow_up(tx: Database, item: FollowUp, batch: float, now: float) -> bool:
    if not store.claim_follow_up(tx, message_id=item.id, now=now):
        return False
    post = outbox.enqueue(
        tx,
        platform=item.platform,
        to=Channel(item.conversation),
        message=views.author_post(item.body),
        now=now,
        reply_to=item.concern_post,
        not_before=batch,
        created_at=batch,
    )
    store.set_follow_up_post(tx, message_id=item.id, post=post)
    return True


async def publish_due(services: Services) -> int:
    """The publication job: release whatever is due. Runs every minute and after a restart; from a
    request only when the delay is off. Also reports undelivered private copies, once a day."""
    anonymity.report_undelivered(services.anonymity_limits, services.clock.now())
    return await release(services, await due(services))


async def publish_at_once(services: Services) -> None:
    """With the delay off (the shell, tests) a submission publishes itself. What it wrote is
    committed already, so a failure here must not turn the author's answer into an error; the
    next batch publishes it. (Logging the time is harmless: with no delay it is the post's time.)"""
    try:
        await publish_due(services)
    except Exception:
        log.exception("speak-up: publishing at once failed; the next batch will publish it")


def overdue(concern: Concern, day: str) -> frozenset[Deadline]:
    """Deadlines of `concern` that passed by `day` and are not flagged yet."""
    pending = {
        Deadline.ACK: concern.status == Status.OPEN,
        Deadline.REPLY: not concern.first_reply_on,
        Deadline.RESOLVE: True,
    }
    return frozenset(
        flag
        for flag in DEADLINES
        if (due_on := concern.due_on(flag))
        and due_on <= day
        and flag not in concern.flagged
        and pending[flag]
    )


async def deadlines_due(services: Services) -> list[tuple[Concern, frozenset[Deadline]]]:
    """Concerns with deadlines to flag now, each with those deadlines (not yet claimed)."""
    day = anonymity.day_of(services.clock.now())
    found = [(concern, overdue(concern, day)) for concern in await services.store.read(store.open_concerns)]
    return [(concern, late) for concern, late in found if late]


async def flag(services: Services, due: list[tuple[Concern, frozenset[Deadline]]]) -> int:
    """Post a reminder in each concern's thread for each of its deadlines that passed, claiming them
    first: a deadline another process flagged meanwhile is not posted again. Returns how many."""
    now = services.clock.now()
    flagged = 0
    for concern, late in due:
        flagged += await services.store.run(partial(_flag, concern=concern, late=late, now=now))
    return flagged


def _flag(tx: Database, *, concern: Concern, late: frozenset[Deadline], now: float) -> int:
    """One concern's transaction: claim its passed deadlines, then post one reminder for each."""
    if not store.claim_flags(tx, concern_id=concern.id, before=concern.flagged, after=concern.flagged | late):
        return 0
    flagged = 0
    for deadline in (d for d in DEADLINES if d in late):
        outbox.enqueue(
            tx,
            platform=concern.platform,
            to=Channel(concern.conversation),
            message=views.overdue_post(concern.id, DEADLINES[deadline][1]),
            now=now,
            reply_to=concern.post_outbox,
        )
        flagged += 1
    return flagged


async def flag_overdue(services: Services) -> int:
    """The deadline job: a reminder in a concern's thread when a deadline passes, once per deadline."""
    return await flag(services, await deadlines_due(services))


async def run_publication(services: Services) -> int:
    return await publish_due(services)


async def run_deadlines(services: Services) -> int:
    return await flag_overdue(services)
