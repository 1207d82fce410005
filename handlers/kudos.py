"""Peer recognition tied to an observable behaviour, with a team-level view instead of a ranking."""

from __future__ import annotations

import re

from bot import outbox
from bot.messages import Context, Mention, Message, Quote, Reply, Section, Strong, error, ok, rich
from bot.store import claim_once
from handlers.context import Command, Services
from handlers.text import clean_user_text, read_text

MAX_MESSAGE_CHARS = 1000
_TOKEN = re.compile(r"(\S+)\s*")
DAY_S = 24 * 3600
STATS_DAYS = 30


def usage(services: Services) -> Reply:
    tags = ", ".join(f"#{b.slug}" for b in services.catalog.behaviours)
    return ok(
        rich(Strong("Recognise a colleague for something they did")),
        "/kudos @person #behaviour what they did and why it mattered",
        "Example: /kudos @alex #owned-it told us about the broken deploy at once and rolled it "
        "back before customers noticed",
        f"Behaviours: {tags}",
        "/kudos stats shows this channel's last 30 days by behaviour.",
        "/kudos help shows this message.",
    )


def _behaviour_list(services: Services) -> str:
    return "\n".join(f"#{b.slug} {b.emoji} {b.label}: {b.description}" for b in services.catalog.behaviours)


async def handle(cmd: Command, services: Services) -> Reply:
    word = clean_user_text(cmd.text[:200]).lower()  # the first words choose what to do
    if word in ("", "help", "?", "-h", "--help"):
        return usage(services)
    if word == "stats":
        return stats(cmd, services)
    return await give(cmd, cmd.text, services)


def _split(text: str, services: Services) -> tuple[str | None, str | None, str]:
    """(receiver user id, behaviour word, message) from '@person #behaviour message'.

    The mention and the #behaviour may come in either order; the message keeps its line breaks.
    """
    receiver = tag = None
    rest = text
    for _ in range(2):
        match = _TOKEN.match(rest)
        if not match:
            break
        token = clean_user_text(match.group(1))
        user = services.people.parse_mention(token)
        if user and receiver is None:
            receiver = user
        elif token.startswith("#") and tag is None:
            tag = token[1:]
        else:
            break
        rest = rest[match.end() :]
    return receiver, tag, rest


async def give(cmd: Command, text: str, services: Services) -> Reply:
    receiver, tag, typed = _split(text.lstrip(), services)
    if receiver is None:
        return error(
            "Start with the person you are recognising, mentioned with @.",
            "Example: /kudos @alex #mentoring thanks for pairing on the flaky test",
        )
    if not tag:
        return error(
            "Add the behaviour you saw, as #behaviour after the person. Choose one of:",
            _behaviour_list(services),
        )
    behaviour = services.catalog.behaviour(tag)
    if behaviour is None:
        return error(
            f"#{tag[:40]} is not a behaviour Candor knows. Choose one of:",
            _behaviour_list(services),
        )
    message, problem = read_text(typed, label="Your message", limit=MAX_MESSAGE_CHARS, required=False)
    if problem:
        return error(problem)
    if not message:
        return error(
            "Say what they did, so the recognition means something.",
            f"Example: /kudos @alex #{behaviour.slug} thanks for pairing on the flaky test",
        )
    if receiver == cmd.user:
        return error("Kudos are for someone else. Who helped you lately?")
    person = await services.people.lookup(receiver)
    if person is None or person.deleted:
        return error("I could not find that person in this workspace. Check the @mention.")
    if person.is_bot:
        return error("Bots do not need kudos. Recognise the person behind the work instead.")

    now = services.clock.now()
    cap = services.settings.kudos_daily_cap
    giver_key, receiver_key = cmd.person_key(), cmd.person_key(receiver)
    db = services.store.db
    (given_today,) = db.execute(
        "select count(*) from kudos where giver = ? and created_at > ?", [giver_key, now - DAY_S]
    ).fetchone()
    if given_today >= cap:
        return error(
            f"You have given {cap} kudos in the last 24 hours, the daily limit. "
            "Save this one for tomorrow, or say thanks in the thread."
        )

    announcement = Message(
        (
            Section(
                rich(
                    f"{behaviour.emoji} ",
                    Mention(cmd.user),
                    " recognised ",
                    Mention(receiver),
                    " for ",
                    Strong(behaviour.label),
                )
            ),
            Quote(message),
            Context(rich(behaviour.description)),
        )
    )
    dm = Message(
        (
            Section(
                rich(
                    Mention(cmd.user),
                    " recognised you for ",
                    Strong(behaviour.label),
                    f" {behaviour.emoji}",
                )
            ),
            Quote(message),
        )
    )
    with services.store.transaction() as tx:
        if cmd.delivery_id and not claim_once(tx, f"kudos:{cmd.delivery_id}", now):
            return ok("That kudos is already recorded.")
        tx["kudos"].insert(
            {
                "platform": cmd.platform,
                "workspace": cmd.workspace,
                "conversation": cmd.conversation,
                "giver": giver_key,
                "receiver": receiver_key,
                "behaviour": behaviour.slug,
                "message": message,
                "created_at": now,
            }
        )
        outbox.enqueue(
            tx, platform=cmd.platform, conversation=cmd.conversation, message=announcement, now=now
        )
        outbox.enqueue(tx, platform=cmd.platform, conversation=receiver, message=dm, now=now)
    return ok(
        rich(
            "Kudos sent to ",
            Mention(receiver),
            " for ",
            Strong(behaviour.label),
            f" {behaviour.emoji}. It will appear in this channel in a moment.",
        )
    )


def stats(cmd: Command, services: Services) -> Reply:
    since = services.clock.now() - STATS_DAYS * DAY_S
    where = "platform = ? and workspace = ? and conversation = ? and created_at >= ?"
    args = [cmd.platform, cmd.workspace, cmd.conversation, since]
    db = services.store.db
    counts = dict(
        db.execute(f"select behaviour, count(*) from kudos where {where} group by behaviour", args).fetchall()
    )
    total, givers, receivers = db.execute(
        f"select count(*), count(distinct giver), count(distinct receiver) from kudos where {where}",
        args,
    ).fetchone()
    if not total:
        return ok(
            f"No kudos in this channel in the last {STATS_DAYS} days yet.",
            "Start with /kudos @person #behaviour what they did.",
        )
    lines: list[str | tuple] = [
        rich(Strong(f"Kudos in this channel, last {STATS_DAYS} days")),
        f"{total} kudos; {givers} people gave and {receivers} received recognition.",
    ]
    lines += [
        f"{b.emoji} {b.label}: {counts[b.slug]}" for b in services.catalog.behaviours if counts.get(b.slug)
    ]
    quiet = [b.label for b in services.catalog.behaviours if not counts.get(b.slug)]
    if quiet:
        lines.append("Not yet recognised here: " + "; ".join(quiet) + ".")
    return ok(*lines)
