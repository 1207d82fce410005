"""Failure reviews' periodic jobs: the anonymous publication batch, owners' reminders, the weekly
overdue digest.

Each may run in more than one process on one database at once: every review, edit, follow-up,
reminder and digest is claimed by a conditional update (handlers/reviews/store.py) inside the
transaction that posts it, so whichever process wins posts it and the other posts nothing. After
downtime, the first run catches up: what came due meanwhile is sent once, and a reminder that
would only arrive after the moment it was for is settled as skipped instead.
"""

from __future__ import annotations

import json
import logging
from functools import partial

from sqlite_utils import Database

from bot import outbox
from bot.outbox import Channel, Person
from handlers import anonymity
from handlers.context import Services
from handlers.reviews import posts, publish, store
from handlers.reviews.ids import Reminder
from handlers.reviews.local_time import days_until, digest_week
from handlers.reviews.model import Quality, Sections
from handlers.reviews.rules import DIGEST_LIMIT
from handlers.reviews.store import Action, ChannelSetting, Edit, FollowUp, Review

log = logging.getLogger("candor.reviews")

Due = Review | Edit | FollowUp


# --- the publication batch ----------------------------------------------------------------------
async def due(services: Services) -> list[Due]:
    """Anonymous reviews, edits and follow-ups whose batch time has come (not yet claimed)."""
    now = services.clock.now()

    def read(db: Database) -> list[Due]:
        return [
            *store.due_reviews(db, now=now),
            *store.due_edits(db, now=now),
            *store.due_follow_ups(db, now=now),
        ]

    return await services.store.read(read)


async def publish_due(services: Services) -> int:
    """The publication job: release whatever is due. Runs every minute and after a restart; from
    a request only when the delay is off."""
    return await release(services, await due(services))


async def release(services: Services, items: list[Due]) -> int:
    """Release `items` as one batch, in random order with the batch's time, then empty the
    write-ahead log (handlers/anonymity). Returns how many this process released (another may
    have taken some first)."""
    now = services.clock.now()

    def release_one(tx: Database, item: Due, batch: float) -> bool:
        if isinstance(item, Review):
            if not store.claim_review(tx, review_id=item.id, now=now):
                return False
            publish.post_review(tx, item, now=now, batch=batch)
            return True
        if isinstance(item, Edit):
            return _apply_edit(tx, item, now)
        return _post_follow_up(tx, item, batch, now)

    released = await anonymity.release_batch(services.store, items=items, release=release_one, now=now)
    if released and anonymity.is_delayed(services.settings.speakup_delay_s):
        log.info("anonymous review batch published", extra={"published": released})
    return released


def _apply_edit(tx: Database, edit: Edit, now: float) -> bool:
    if not store.claim_edit(tx, review_id=edit.review_id, edit_at=edit.edit_at):  # gone, or taken
        return False
    data = json.loads(edit.sections)
    sections = Sections(**data["sections"])
    quality = Quality.from_json(int(data["quality"]), data["detail"])
    store.update_sections(tx, review_id=edit.review_id, sections=sections, quality=quality)
    publish.refresh_post(
        tx, review_id=edit.review_id, platform=edit.platform, workspace=edit.workspace, now=now
    )
    return True


def _post_follow_up(tx: Database, item: FollowUp, batch: float, now: float) -> bool:
    if not store.claim_follow_up(tx, message_id=item.id, now=now):
        return False
    post = outbox.enqueue(
        tx,
        platform=item.platform,
        to=Channel(item.channel),
        message=posts.author_post(item.body, None),
        now=now,
        reply_to=item.review_post,
        not_before=batch,
        created_at=batch,
    )
    store.set_follow_up_post(tx, message_id=item.id, post=post)
    return True


async def publish_at_once(services: Services) -> None:
    """With the delay off (the shell, tests) an anonymous submission publishes itself. What it
    wrote is committed already, so a failure here must not turn the answer into an error; the
    next batch publishes it."""
    try:
        await publish_due(services)
    except Exception:
        log.exception("reviews: publishing at once failed; the next batch will publish it")


# --- reminders ----------------------------------------------------------------------------------
async def send_reminders(services: Services) -> int:
    """The reminder job: owners hear 2 days before and on the due date at 09:00 their time."""
    return await remind(services, await reminders_due(services))


async def reminders_due(services: Services) -> list[Action]:
    """Open actions with a reminder whose time has come (not yet claimed)."""
    now = services.clock.now()
    return await services.store.read(lambda db: store.due_reminders(db, now=now))


async def remind(services: Services, actions: list[Action]) -> int:
    """Send each action's due reminders, each claimed first; returns how many this process sent."""
    now = services.clock.now()
    sent = 0
    for action in actions:
        sent += await services.store.run(partial(_remind, action=action, now=now))
    return sent


def _remind(tx: Database, action: Action, now: float) -> int:
    sent = 0
    windows = (
        # (which, state, when it is due, until when it still helps)
        ("before", action.before_state, action.remind_before_at, action.remind_due_at),
        ("due", action.due_state, action.remind_due_at, action.overdue_at),
    )
    for which, state, due_at, until in windows:
        if state != Reminder.PENDING or due_at is None or due_at > now:
            continue
        late = until is not None and now >= until  # the next reminder, or the digest, says it now
        if not store.claim_reminder(
            tx, action_id=action.id, which=which, state=Reminder.SKIPPED if late else Reminder.SENT
        ):
            continue  # another process took it, or it was done meanwhile
        if late:
            continue
        outbox.enqueue(
            tx,
            platform=action.platform,
            to=Person(action.owner),
            message=posts.reminder_dm(action, days_until(now, action.due_on, action.tz)),
            now=now,
        )
        sent += 1
    return sent


# --- the weekly overdue digest ------------------------------------------------------------------
async def send_digests(services: Services) -> int:
    """The digest job: on Mondays from 09:00 in the reviews channel's timezone, the workspace's
    overdue actions, once a week."""
    return await digest(services, await digests_due(services))


async def digests_due(services: Services) -> list[tuple[ChannelSetting, str]]:
    """Workspaces whose digest for this week is due (not yet claimed), with its Monday."""
    now = services.clock.now()
    found = []
    for setting in await services.store.read(store.channel_settings):
        monday, due_at = digest_week(now, setting.tz)
        if now >= due_at and (setting.digest_on or "") < monday:
            found.append((setting, monday))
    return found


async def digest(services: Services, due: list[tuple[ChannelSetting, str]]) -> int:
    """Post each due digest, claimed first; returns how many this process posted."""
    now = services.clock.now()
    posted = 0
    for setting, monday in due:
        if await services.store.run(partial(_digest, setting=setting, monday=monday, now=now)):
            posted += 1
    return posted


def _digest(tx: Database, setting: ChannelSetting, monday: str, now: float) -> bool:
    if not store.claim_digest(tx, platform=setting.platform, workspace=setting.workspace, monday=monday):
        return False
    late = store.overdue(tx, platform=setting.platform, workspace=setting.workspace, now=now)
    if not late:
        return False
    outbox.enqueue(
        tx,
        platform=setting.platform,
        to=Channel(setting.conversation),
        message=posts.digest_post(late[:DIGEST_LIMIT], max(0, len(late) - DIGEST_LIMIT)),
        now=now,
    )
    return True


async def run_publication(services: Services) -> int:
    return await publish_due(services)


async def run_reminders(services: Services) -> int:
    return await send_reminders(services)


async def run_digests(services: Services) -> int:
    return await send_digests(services)
