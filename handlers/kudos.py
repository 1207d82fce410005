"""Peer recognition tied to an observable behaviour, with a team-level view instead of a ranking.

One /kudos may recognise several people; each receiver counts towards the giver's daily cap. The
giver can take their last kudos back for a few minutes (`/kudos undo`): its posts are edited to
say so and it no longer counts anywhere.
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot import outbox
from bot.messages import (
    Context,
    Mention,
    Message,
    Quote,
    Reply,
    Section,
    Span,
    Strong,
    error,
    ok,
    rich,
)
from bot.outbox import Channel, Person
from bot.store import claim_once
from handlers.catalog import Behaviour
from handlers.context import Command, Services, timezone_of
from handlers.practice import HelpLine, Practice
from handlers.text import Mentioned, clean_user_text, plural, read_text

MAX_MESSAGE_CHARS = 1000
MAX_RECEIVERS = 10
UNDO_WINDOW_S = 600
DAY_S = 24 * 3600
STATS_DAYS = 30
NAME_BUDGET_S = 0.5  # to name a mention Slack sent without one; its id is shown otherwise
_WORD = re.compile(r"\S+")


def usage(services: Services) -> Reply:
    tags = ", ".join(f"#{b.slug}" for b in services.catalog.behaviours)
    return ok(
        rich(Strong("Recognise a colleague for something they did")),
        "/kudos @person #behaviour what they did and why it mattered",
        "Example: /kudos @alex #owned-it told us about the broken deploy at once and rolled it "
        "back before customers noticed",
        "Several people at once: /kudos @alex @sam #mentoring thanks for onboarding me",
        f"Behaviours: {tags}",
        STATS_USAGE,
        UNDO_USAGE,
        "/kudos help shows this message.",
    )


STATS_USAGE = "/kudos stats shows this channel's last 30 days by behaviour: a team view, never per person."
UNDO_USAGE = f"/kudos undo takes back your last kudos within {UNDO_WINDOW_S // 60} minutes of giving it."


def _behaviour_list(services: Services) -> str:
    return "\n".join(f"#{b.slug} {b.emoji} {b.label}: {b.description}" for b in services.catalog.behaviours)


async def handle(cmd: Command, services: Services) -> Reply:
    words = clean_user_text(cmd.text[:200]).split()  # the first words choose what to do
    verb = words[0].lower() if words else ""
    if verb in ("", "help", "?", "-h", "--help"):
        return usage(services)
    if verb == "stats":
        return stats(cmd, services) if len(words) == 1 else error("/kudos stats takes no name.", STATS_USAGE)
    if verb == "undo":
        return (
            await undo(cmd, services)
            if len(words) == 1
            else error("/kudos undo takes nothing after it.", UNDO_USAGE)
        )
    return await give(cmd, services)


def people_spans(users: list[str]) -> tuple[Span, ...]:
    """@a · @a and @b · @a, @b and @c"""
    spans: list[str | Span] = []
    for i, user in enumerate(users):
        if i:
            spans.append(" and " if i == len(users) - 1 else ", ")
        spans.append(Mention(user))
    return rich(*spans)


@dataclass(frozen=True)
class _Parsed:
    receivers: list[str]  # in the order mentioned, without repeats
    tag: str | None
    message: str  # as typed, not yet cleaned
    mentioned_in_message: list[Mentioned]


def _ends_word(text: str, at: int) -> bool:
    return at == len(text) or text[at].isspace()


def _split(cmd: Command, services: Services) -> _Parsed:
    """The people, the #behaviour and the message of '@person [@person …] #behaviour message'.

    People and the #behaviour may come in any order; the message keeps its line breaks. A person
    is one the platform marked as mentioned (`cmd.mentions`), or, where plain text is how people
    mention, a word the directory reads as one.
    """
    text, pending = cmd.text, list(cmd.mentions)
    receivers: list[str] = []
    tag = None
    pos = 0
    for _ in range(MAX_RECEIVERS + 2):  # bounded: more people than that is refused anyway
        word = _WORD.search(text, pos)
        if word is None:
            pos = len(text)
            break
        start = word.start()
        marked = next(
            (m for m in pending if text.startswith(m.text, start) and _ends_word(text, start + len(m.text))),
            None,
        )
        if marked:
            pending.remove(marked)
            receivers.append(marked.user)
            pos = start + len(marked.text)
            continue
        typed = services.people_for(cmd.platform).parse_mention(word.group())
        if typed:
            receivers.append(typed)
            pos = word.end()
            continue
        token = clean_user_text(word.group())
        if token.startswith("#") and len(token) > 1 and tag is None:
            tag = token[1:]
            pos = word.end()
            continue
        pos = start
        break
    return _Parsed(list(dict.fromkeys(receivers)), tag, text[pos:], pending)


async def _with_names(message: str, mentioned: list[Mentioned], services: Services, platform: str) -> str:
    """A mention Slack sent without a name reads "@U0456"; show the person's name instead."""
    for m in mentioned[:MAX_RECEIVERS]:
        if m.text != "@" + m.user or m.text not in message:
            continue
        try:
            info = await asyncio.wait_for(services.people_for(platform).lookup(m.user), NAME_BUDGET_S)
        except Exception:
            continue  # the id stays: readable enough, and it notifies no one
        if info:
            name = "@" + info.name
            message = re.sub(re.escape(m.text) + r"(?![A-Za-z0-9])", name.replace("\\", r"\\"), message)
    return message


async def give(cmd: Command, services: Services) -> Reply:
    parsed = _split(cmd, services)
    receivers = parsed.receivers
    if not receivers:
        return error(
            "Start with the person you are recognising, mentioned with @.",
            "Example: /kudos @alex #mentoring thanks for pairing on the flaky test",
        )
    if len(receivers) > MAX_RECEIVERS:
        return error(f"One kudos can recognise at most {MAX_RECEIVERS} people.")
    if not parsed.tag:
        return error(
            "Add the behaviour you saw, as #behaviour after the people. Choose one of:",
            _behaviour_list(services),
        )
    behaviour = services.catalog.behaviour(parsed.tag)
    if behaviour is None:
        return error(
            f"#{parsed.tag[:40]} is not a behaviour Candor knows. Choose one of:",
            _behaviour_list(services),
        )
    typed = await _with_names(parsed.message, parsed.mentioned_in_message, services, cmd.platform)
    message, problem = read_text(typed, label="Your message", limit=MAX_MESSAGE_CHARS, required=False)
    if problem:
        return error(problem)
    if not message:
        return error(
            "Say what they did, so the recognition means something.",
            f"Example: /kudos @alex #{behaviour.slug} thanks for pairing on the flaky test",
        )
    if cmd.user in receivers:
        return error("Kudos are for someone else. Who helped you lately?")
    cap = services.settings.kudos_daily_cap
    if len(receivers) > cap:
        return error(
            f"You can give {cap} kudos in 24 hours, so one kudos can recognise at most {cap} people."
        )
    people = services.people_for(cmd.platform)
    found = await asyncio.gather(*(people.lookup(r) for r in receivers))
    for receiver, person in zip(receivers, found, strict=True):
        if person is None or person.deleted:
            who = ("that person",) if len(receivers) == 1 else (Mention(receiver),)
            return error(rich("I could not find ", *who, " in this workspace. Check the @mention."))
        if person.is_bot:
            return error("Bots do not need kudos. Recognise the person behind the work instead.")

    now = services.clock.now()
    key = f"kudos:{cmd.delivery_id}" if cmd.delivery_id else None
    with services.store.transaction() as tx:
        if key and tx.execute("select 1 from processed where key = ?", [key]).fetchone():
            return ok("That kudos is already recorded.")
        recent = _counted_since(tx, cmd.person_key(), now - DAY_S)
        left = cap - len(recent)
        if len(receivers) <= left:
            if key:
                claim_once(tx, key, now)
            _record(tx, cmd, receivers, behaviour, message, now)
    if len(receivers) > left:
        return await _capped(cmd, services, len(receivers), recent)
    return ok(
        rich(
            "Kudos sent to ",
            *people_spans(receivers),
            " for ",
            Strong(behaviour.label),
            f" {behaviour.emoji}. It will appear in this channel in a moment.",
        ),
        f"You can give {left - len(receivers)} more in the next 24 hours. "
        f"Changed your mind? /kudos undo takes it back within {UNDO_WINDOW_S // 60} minutes.",
    )


def _counted_since(db: Database, giver_key: str, since: float) -> list[float]:
    """When each kudos that counts towards the giver's cap was given, oldest first."""
    return [
        r[0]
        for r in db.execute(
            "select created_at from kudos where giver = ? and created_at > ? and undone_at is null "
            "order by created_at",
            [giver_key, since],
        )
    ]


def _record(
    tx: Database, cmd: Command, receivers: list[str], behaviour: Behaviour, message: str, now: float
) -> None:
    """One channel post for the whole kudos, one DM and one row per receiver."""
    announcement = Message(
        (
            Section(
                rich(
                    f"{behaviour.emoji} ",
                    Mention(cmd.user),
                    " recognised ",
                    *people_spans(receivers),
                    " for ",
                    Strong(behaviour.label),
                )
            ),
            Quote(message),
            Context(rich(behaviour.description)),
        )
    )
    post = outbox.enqueue(
        tx, platform=cmd.platform, to=Channel(cmd.conversation), message=announcement, now=now
    )
    for receiver in receivers:
        others = [r for r in receivers if r != receiver]
        together = (" together with ", *people_spans(others)) if others else ()
        dm = Message(
            (
                Section(
                    rich(
                        Mention(cmd.user),
                        " recognised you",
                        *together,
                        " for ",
                        Strong(behaviour.label),
                        f" {behaviour.emoji}",
                    )
                ),
                Quote(message),
            )
        )
        tx.table("kudos").insert(
            {
                "platform": cmd.platform,
                "workspace": cmd.workspace,
                "conversation": cmd.conversation,
                "giver": cmd.person_key(),
                "receiver": cmd.person_key(receiver),
                "behaviour": behaviour.slug,
                "message": message,
                "created_at": now,
                "post_outbox": post,
                "dm_outbox": outbox.enqueue(
                    tx, platform=cmd.platform, to=Person(receiver), message=dm, now=now
                ),
            }
        )


def wait_phrase(services: Services, tz: str, at: float) -> str:
    """'in 3 h 20 min (at 14:35 your time)': when `at` comes, in the person's own terms."""
    now = services.clock.now()
    minutes = max(1, math.ceil((at - now) / 60))
    hours, mins = divmod(minutes, 60)
    span = " ".join(p for p in (f"{hours} h" if hours else "", f"{mins} min" if mins else "") if p)
    try:
        zone = ZoneInfo(tz)
    except (ValueError, KeyError):  # a name the directory knows and this machine does not
        zone, tz = ZoneInfo("UTC"), "UTC"
    local = datetime.fromtimestamp(now + minutes * 60, zone)
    day = "" if local.date() == datetime.fromtimestamp(now, zone).date() else "tomorrow "
    return f"in {span} ({day}at {local:%H:%M} {'UTC' if tz == 'UTC' else 'your time'})"


async def _capped(cmd: Command, services: Services, wanted: int, recent: list[float]) -> Reply:
    cap = services.settings.kudos_daily_cap
    left = max(0, cap - len(recent))
    tz = await timezone_of(services, cmd.platform, cmd.user)

    def free_for(n: int) -> str:
        # A kudos stops counting when it turns 24 hours old; n more must be free.
        return wait_phrase(services, tz, recent[len(recent) - cap + n - 1] + DAY_S)

    if left == 0:
        return error(
            f"You have given {cap} kudos in the last 24 hours, the daily limit. "
            f"You can give the next one {free_for(1)}.",
            "Until then, say thanks in the thread.",
        )
    return error(
        f"This kudos is for {wanted} people, one kudos each, but you have {left} left: "
        f"the limit is {cap} in 24 hours.",
        f"Recognise fewer people now, or all of them {free_for(wanted)}.",
    )


async def undo(cmd: Command, services: Services) -> Reply:
    """Take back the giver's last kudos within UNDO_WINDOW_S: edit its posts, stop counting it."""
    now = services.clock.now()
    with services.store.transaction() as tx:
        last = tx.execute(
            "select post_outbox, created_at, undone_at from kudos where giver = ? "
            "order by created_at desc, id desc limit 1",
            [cmd.person_key()],
        ).fetchone()
        if last is None:
            return ok("You have not given a kudos yet, so there is nothing to take back.")
        post, created_at, undone_at = last
        if undone_at is not None:
            return ok("Your last kudos is already taken back; there is nothing else to undo.")
        rows = list(
            tx.query(
                "select k.id, k.behaviour, o.platform, o.conversation, k.dm_outbox from kudos k "
                "join outbox o on o.id = k.dm_outbox where k.post_outbox = ? order by k.id",
                [post],
            )
        )
        receivers = [r["conversation"] for r in rows]
        if post is None or not rows or now - created_at > UNDO_WINDOW_S:
            minutes = UNDO_WINDOW_S // 60
            return error(
                f"Your last kudos is more than {minutes} minutes old, so it stays. "
                f"/kudos undo works within {minutes} minutes of giving one."
            )
        tx.execute("update kudos set undone_at = ?, message = null where post_outbox = ?", [now, post])
        taken_back = Message((Section(rich("↩️ ", Mention(cmd.user), " took back this kudos.")),))
        outbox.edit(tx, original=post, message=taken_back, now=now)
        for row in rows:
            outbox.edit(tx, original=row["dm_outbox"], message=taken_back, now=now)
    behaviour = services.catalog.behaviour(rows[0]["behaviour"])
    label = behaviour.label if behaviour else rows[0]["behaviour"]
    return ok(
        rich("Taken back: your kudos to ", *people_spans(receivers), " for ", Strong(label), "."),
        "The channel post and the message to them now say so, and it no longer counts.",
    )


def stats(cmd: Command, services: Services) -> Reply:
    since = services.clock.now() - STATS_DAYS * DAY_S
    where = "platform = ? and workspace = ? and conversation = ? and created_at >= ? and undone_at is null"
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
        f"{total:,} kudos; {plural(givers, 'person', 'people')} gave and {receivers:,} received recognition.",
    ]
    lines += [
        f"{b.emoji} {b.label}: {counts[b.slug]}" for b in services.catalog.behaviours if counts.get(b.slug)
    ]
    quiet = [b.label for b in services.catalog.behaviours if not counts.get(b.slug)]
    if quiet:
        lines.append("Not yet recognised here: " + "; ".join(quiet) + ".")
    return ok(*lines)


PRACTICE = Practice(
    name="kudos",
    commands={"kudos": handle},
    help=(
        HelpLine(
            "kudos", "@person #behaviour what they did", "recognise a colleague for a behaviour you saw."
        ),
        HelpLine("kudos", "stats", "this channel's recognition by behaviour over the last 30 days."),
    ),
)
