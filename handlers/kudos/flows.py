"""Kudos' rules: who may recognise whom, how many times a day, and taking a kudos back.

The SQL is in store.py, the texts and posts in views.py; this module decides.
"""

from __future__ import annotations

import asyncio

from sqlite_utils import Database

from bot import outbox
from bot.messages import Reply, error
from bot.outbox import Channel, Person
from bot.store import claim_once
from handlers.catalog import Behaviour
from handlers.context import Command, People, Services, lookup_all, timezone_of
from handlers.kudos import store, views
from handlers.kudos.ids import Claim, Verb
from handlers.kudos.parse import Parsed, split
from handlers.kudos.policy import (
    DAY_S,
    MAX_MESSAGE_CHARS,
    MAX_RECEIVERS,
    NAME_BUDGET_S,
    STATS_DAYS,
    UNDO_WINDOW_S,
    VERB_CHARS,
)
from handlers.kudos.store import Recognition
from handlers.text import clean_user_text, read_text

_HELP_WORDS = ("", Verb.HELP, "?", "-h", "--help")


async def handle(cmd: Command, services: Services) -> Reply:
    """/kudos: help, stats, undo, or a kudos to give."""
    words = clean_user_text(cmd.text[:VERB_CHARS]).split()
    verb = words[0].lower() if words else ""
    syntax = services.syntax_for(cmd.platform)
    if verb in _HELP_WORDS:
        return views.usage(syntax, services.catalog)
    if verb in (Verb.STATS, Verb.UNDO) and len(words) > 1:
        return views.takes_nothing(syntax, Verb(verb))
    if verb == Verb.STATS:
        return await stats(cmd, services)
    if verb == Verb.UNDO:
        return await undo(cmd, services)
    return await give(cmd, services)


async def _name_of(people: People, user: str) -> str | None:
    try:
        info = await asyncio.wait_for(people.lookup(user), NAME_BUDGET_S)
    except Exception:
        return None  # the id stays: readable enough, and it notifies no one
    return info.name if info else None


async def _with_names(parsed: Parsed, people: People) -> str:
    """A mention the platform sent without a name reads as its id ("@U0456"); show the person's
    name there instead, at the very place the adapter marked."""
    unnamed = [m for m in parsed.mentioned_in_message if m.text == "@" + m.user]
    if not unnamed:
        return parsed.message
    users = list(dict.fromkeys(m.user for m in unnamed))[:MAX_RECEIVERS]
    names = dict(zip(users, await asyncio.gather(*(_name_of(people, u) for u in users)), strict=True))
    message = parsed.message
    for m in reversed(unnamed):  # from the end, so earlier offsets stay right
        name = names.get(m.user)
        if name:
            at = m.at - parsed.message_at
            message = message[:at] + "@" + name + message[at + len(m.text) :]
    return message


async def give(cmd: Command, services: Services) -> Reply:
    syntax, catalog = services.syntax_for(cmd.platform), services.catalog
    parsed = split(cmd)
    receivers = parsed.receivers
    if not receivers:
        return views.no_receiver(syntax)
    if len(receivers) > MAX_RECEIVERS:
        return views.too_many_receivers()
    if not parsed.tag:
        return views.no_behaviour(catalog)
    behaviour = catalog.behaviour(parsed.tag)
    if behaviour is None:
        return views.unknown_behaviour(parsed.tag, catalog)
    people = services.people_for(cmd.platform)
    typed = await _with_names(parsed, people)
    message, problem = read_text(typed, label="Your message", limit=MAX_MESSAGE_CHARS, required=False)
    if problem:
        return error(problem)
    if not message:
        return views.no_message(syntax, behaviour)
    if cmd.user in receivers:
        return views.not_for_yourself()
    cap = services.settings.kudos_daily_cap
    if len(receivers) > cap:
        return views.more_than_the_cap(cap)
    found = await lookup_all(people, receivers)
    for receiver, person in zip(receivers, found, strict=True):
        if person is None or person.deleted:
            return views.not_found(receiver, alone=len(receivers) == 1)
        if person.is_bot:
            return views.bot_receiver()

    now = services.clock.now()
    key = f"{Claim.DELIVERY}{cmd.delivery_id}" if cmd.delivery_id else None

    def work(tx: Database) -> list[float] | None:
        """The giver's kudos counted in the last day; None if this delivery was recorded before."""
        if key and store.delivery_recorded(tx, key=key):
            return None
        recent = store.counted_since(tx, giver=cmd.person_key(), since=now - DAY_S)
        if len(receivers) <= cap - len(recent):
            # The claim's row decides, should two processes take the same retried delivery at once.
            if key and not claim_once(tx, key, now):
                return None
            _record(tx, cmd, receivers, behaviour, message, now)
        return recent

    recent = await services.store.run(work)
    if recent is None:
        return views.already_recorded()
    left = cap - len(recent)
    if len(receivers) > left:
        return await _capped(cmd, services, len(receivers), recent)
    return views.sent(syntax, receivers, behaviour, left - len(receivers))


def _record(
    tx: Database, cmd: Command, receivers: tuple[str, ...], behaviour: Behaviour, message: str, now: float
) -> None:
    """One channel post for the whole kudos, one DM and one row per receiver."""
    post = outbox.enqueue(
        tx,
        platform=cmd.platform,
        to=Channel(cmd.conversation),
        message=views.announcement(cmd.user, receivers, behaviour, message),
        now=now,
    )
    for receiver in receivers:
        dm = outbox.enqueue(
            tx,
            platform=cmd.platform,
            to=Person(receiver),
            message=views.receiver_dm(cmd.user, receiver, receivers, behaviour, message),
            now=now,
        )
        store.insert_kudos(
            tx,
            platform=cmd.platform,
            workspace=cmd.workspace,
            conversation=cmd.conversation,
            giver=cmd.person_key(),
            receiver=cmd.person_key(receiver),
            behaviour=behaviour.slug,
            message=message,
            created_at=now,
            post_outbox=post,
            dm_outbox=dm,
        )


async def _capped(cmd: Command, services: Services, wanted: int, recent: list[float]) -> Reply:
    cap = services.settings.kudos_daily_cap
    left = max(0, cap - len(recent))
    tz = await timezone_of(services, cmd.platform, cmd.user)
    now = services.clock.now()

    def free_for(n: int) -> str:
        # A kudos stops counting when it turns 24 hours old; n more must be free.
        return views.wait_phrase(now, tz, recent[len(recent) - cap + n - 1] + DAY_S)

    if left == 0:
        return views.cap_reached(cap, free_for(1))
    return views.too_few_left(wanted, left, cap, free_for(wanted))


async def undo(cmd: Command, services: Services) -> Reply:
    """Take back the giver's last kudos within UNDO_WINDOW_S: edit its posts, stop counting it."""
    now = services.clock.now()

    def work(tx: Database) -> Reply | list[Recognition]:
        """What was taken back, or the reply saying why nothing was."""
        last = store.last_given(tx, giver=cmd.person_key())
        if last is None:
            return views.nothing_to_undo()
        if last.undone_at is not None:
            return views.already_undone()
        post = last.post_outbox
        given = store.recognitions(tx, post_outbox=post) if post is not None else []
        if post is None or not given or now - last.created_at > UNDO_WINDOW_S:
            return views.too_old_to_undo(services.syntax_for(cmd.platform))
        store.take_back(tx, post_outbox=post, at=now)
        taken_back = views.taken_back(cmd.user)
        outbox.edit(tx, original=post, message=taken_back, now=now)
        for recognition in given:
            outbox.edit(tx, original=recognition.dm_outbox, message=taken_back, now=now)
        return given

    given = await services.store.run(work)
    if isinstance(given, Reply):
        return given
    behaviour = services.catalog.behaviour(given[0].behaviour)
    label = behaviour.label if behaviour else given[0].behaviour
    return views.undone(tuple(r.receiver for r in given), label)


async def stats(cmd: Command, services: Services) -> Reply:
    since = services.clock.now() - STATS_DAYS * DAY_S
    counts = await services.store.read(
        lambda db: store.channel_stats(
            db, platform=cmd.platform, workspace=cmd.workspace, conversation=cmd.conversation, since=since
        )
    )
    return views.stats(services.syntax_for(cmd.platform), services.catalog, counts)
