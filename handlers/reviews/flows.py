"""Failure reviews' commands and buttons: what each word of /review does, who may choose the reviews
channel, and owners marking their actions done. Writing a review is in writing.py, editing one in
editing.py.
"""

from __future__ import annotations

import asyncio

from sqlite_utils import Database

from bot import outbox
from bot.messages import Reply, error
from handlers.anonymity import DAY_S, start_of_day
from handlers.context import Action, Command, Services, is_admin, timezone_of
from handlers.reporting import ReportScope
from handlers.reviews import common, posts, publish, store, views
from handlers.reviews.editing import open_edit
from handlers.reviews.ids import Verb
from handlers.reviews.rules import ACTIONS_LIMIT, LIST_LIMIT, STATS_DAYS, TREND_BUCKETS
from handlers.reviews.writing import new_form
from handlers.text import MAX_COMMAND_CHARS, clean_user_text

_HELP_WORDS = ("", Verb.HELP, "?", "-h", "--help")
_TAKE_NOTHING = (Verb.ACTIONS, Verb.LIST, Verb.STATS, Verb.CHANNEL)


def typed_anonymously(text: str) -> bool:
    """/review alone opens a form that may be ticked anonymous, and /review edit <case code> is an
    anonymous author's: their deliveries may come from one. Read exactly as `handle` reads them."""
    words = clean_user_text(text).split()
    verb = words[0].lower() if words else ""
    return verb == "" or (verb == Verb.EDIT and not "".join(words[1:]).isdigit())


# --- the command --------------------------------------------------------------------------------
async def handle(cmd: Command, services: Services) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return views.too_long(syntax)
    words = clean_user_text(cmd.text).split()
    verb = words[0].lower() if words else ""
    await seed_channel(services, cmd.platform, cmd.workspace)
    if verb == "":
        return await new_form(cmd, services)
    if verb in _HELP_WORDS:
        return views.usage(syntax, common.delay(services))
    if verb == Verb.EDIT:
        return (
            await open_edit(cmd, services, "".join(words[1:])) if len(words) > 1 else views.edit_usage(syntax)
        )
    if verb in _TAKE_NOTHING and len(words) > 1:
        return views.takes_nothing(syntax, Verb(verb))
    if verb == Verb.ACTIONS:
        return await open_actions(cmd, services)
    if verb == Verb.LIST:
        return await recent(cmd, services)
    if verb == Verb.STATS:
        return await stats(cmd, services)
    if verb == Verb.CHANNEL:
        return await choose_channel(cmd, services)
    return views.unknown(syntax, verb[:30])  # an unknown word is echoed, never at length


async def seed_channel(services: Services, platform: str, workspace: str) -> None:
    """CANDOR_REVIEWS_CHANNEL: the reviews channel of a workspace that has none yet, so an admin's
    choice always stands."""
    channel = services.settings.reviews_channel
    if not channel:
        return
    found = await services.store.read(
        lambda db: store.channel_setting(db, platform=platform, workspace=workspace)
    )
    if found:
        return
    now = services.clock.now()
    await services.store.run(
        lambda tx: store.set_channel(
            tx,
            platform=platform,
            workspace=workspace,
            conversation=channel,
            set_by="CANDOR_REVIEWS_CHANNEL",
            tz="UTC",
            digest_on=common.first_digest(now, "UTC"),
            day=start_of_day(now),
            replace=False,
        )
    )


async def choose_channel(cmd: Command, services: Services) -> Reply:
    """An admin makes this channel the workspace's reviews channel."""
    if not await is_admin(services, cmd.platform, cmd.user):
        return error(views.ONLY_ADMINS)
    people = services.people_for(cmd.platform)
    tz = await timezone_of(services, cmd.platform, cmd.user)
    try:
        member = await asyncio.wait_for(people.bot_is_member(cmd.conversation), 1.0)
    except Exception:
        member = True  # unknown: say nothing rather than something wrong
    now = services.clock.now()
    await services.store.run(
        lambda tx: store.set_channel(
            tx,
            platform=cmd.platform,
            workspace=cmd.workspace,
            conversation=cmd.conversation,
            set_by=cmd.user,
            tz=tz,
            digest_on=common.first_digest(now, tz),
            day=start_of_day(now),
            replace=True,
        )
    )
    return views.channel_set(services.syntax_for(cmd.platform), cmd.conversation, member)


# --- owners mark actions done -------------------------------------------------------------------
async def mark_done(action: Action, services: Services) -> Reply:
    raw = action.value
    found = (
        await services.store.read(
            lambda db: store.action(
                db, action_id=int(raw), platform=action.platform, workspace=action.workspace
            )
        )
        if raw.isdigit() and len(raw) <= 20
        else None
    )
    if found is None:
        return error(views.NO_ACTION)
    if found.done:
        return views.already_done(found)
    if action.user != found.owner and not await is_admin(services, action.platform, action.user):
        return views.not_the_owner(found)
    now = services.clock.now()

    def work(tx: Database) -> bool:
        if not store.mark_done(tx, action_id=found.id, at=now, by=action.user):
            return False
        fresh = store.action(tx, action_id=found.id, platform=action.platform, workspace=action.workspace)
        assert fresh is not None
        if fresh.dm_outbox is not None:
            outbox.edit(tx, original=fresh.dm_outbox, message=posts.action_dm(fresh), now=now)
        publish.refresh_post(
            tx, review_id=fresh.review_id, platform=action.platform, workspace=action.workspace, now=now
        )
        return True

    if not await services.store.run(work):
        return views.already_done(found)  # a double click, or another process, got there first
    return views.marked_done(found)


# --- lists and figures --------------------------------------------------------------------------
async def open_actions(cmd: Command, services: Services) -> Reply:
    actions = await services.store.read(
        lambda db: store.open_actions_of(db, platform=cmd.platform, workspace=cmd.workspace, owner=cmd.user)
    )
    return views.open_actions(services.syntax_for(cmd.platform), actions, ACTIONS_LIMIT)


async def recent(cmd: Command, services: Services) -> Reply:
    reviews = await services.store.read(
        lambda db: store.recent_reviews(
            db,
            platform=cmd.platform,
            workspace=cmd.workspace,
            conversation=cmd.conversation,
            limit=LIST_LIMIT,
        )
    )
    return views.recent(services.syntax_for(cmd.platform), reviews)


async def stats(cmd: Command, services: Services) -> Reply:
    now = services.clock.now()
    since, until = now - STATS_DAYS * DAY_S, now + 1  # up to and including this moment
    scope = ReportScope(
        cmd.platform, cmd.workspace, cmd.conversation, since, until, services.settings.anonymity_k
    )
    scored, outcomes = await services.store.read(
        lambda db: (store.qualities(db, scope=scope), store.outcomes(db, scope=scope))
    )
    bucket_s = (until - since) / TREND_BUCKETS
    trend: list[float | None] = []
    for i in range(TREND_BUCKETS):
        inside = [s.quality for s in scored if int((s.published_at - since) // bucket_s) == i]
        trend.append(sum(inside) / len(inside) if inside else None)
    figures = views.Stats(
        reviews=len(scored),
        mean=sum(s.quality for s in scored) / len(scored) if scored else None,
        trend=tuple(trend),
        outcomes=outcomes,
    )
    return views.stats(services.syntax_for(cmd.platform), figures)
