"""What kudos says and posts, apart from the rules that decide when: neutral messages that each
adapter renders, with every command written the platform's own way (`Syntax`)."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.messages import Context, Mention, Message, Quote, Reply, Section, Span, Strong, error, ok, rich
from handlers.catalog import Behaviour, Catalog
from handlers.context import Syntax
from handlers.kudos.ids import Commands, Verb
from handlers.kudos.policy import MAX_RECEIVERS, SHOWN_TAG_CHARS, STATS_DAYS, UNDO_WINDOW_S
from handlers.kudos.store import ChannelStats
from handlers.practice import HelpLine
from handlers.text import plural

HELP = (
    HelpLine(
        Commands.KUDOS, "@person #behaviour what they did", "recognise a colleague for a behaviour you saw."
    ),
    HelpLine(
        Commands.KUDOS,
        Verb.STATS,
        f"this channel's recognition by behaviour over the last {STATS_DAYS} days.",
    ),
)
UNDO_MINUTES = UNDO_WINDOW_S // 60


def _kudos(syntax: Syntax, args: str = "") -> str:
    return syntax.command(Commands.KUDOS, args)


def stats_usage(syntax: Syntax) -> str:
    return (
        f"{_kudos(syntax, Verb.STATS)} shows this channel's last {STATS_DAYS} days by behaviour: "
        "a team view, never per person."
    )


def undo_usage(syntax: Syntax) -> str:
    return (
        f"{_kudos(syntax, Verb.UNDO)} takes back your last kudos within {UNDO_MINUTES} minutes of giving it."
    )


def usage(syntax: Syntax, catalog: Catalog) -> Reply:
    tags = ", ".join(f"#{b.slug}" for b in catalog.behaviours)
    return ok(
        rich(Strong("Recognise a colleague for something they did")),
        _kudos(syntax, "@person #behaviour what they did and why it mattered"),
        "Example: "
        + _kudos(
            syntax,
            "@alex #owned-it told us about the broken deploy at once and rolled it back before "
            "customers noticed",
        ),
        "Several people at once: " + _kudos(syntax, "@alex @sam #mentoring thanks for onboarding me"),
        f"Behaviours: {tags}",
        stats_usage(syntax),
        undo_usage(syntax),
        f"{_kudos(syntax, Verb.HELP)} shows this message.",
    )


def people_spans(users: tuple[str, ...] | list[str]) -> tuple[Span, ...]:
    """@a · @a and @b · @a, @b and @c"""
    spans: list[str | Span] = []
    for i, user in enumerate(users):
        if i:
            spans.append(" and " if i == len(users) - 1 else ", ")
        spans.append(Mention(user))
    return rich(*spans)


def _behaviour_list(catalog: Catalog) -> str:
    return "\n".join(f"#{b.slug} {b.emoji} {b.label}: {b.description}" for b in catalog.behaviours)


# --- refusals, in the order the rules check them ----------------------------------------------
def no_receiver(syntax: Syntax) -> Reply:
    return error(
        "Start with the person you are recognising, mentioned with @.",
        "Example: " + _kudos(syntax, "@alex #mentoring thanks for pairing on the flaky test"),
    )


def too_many_receivers() -> Reply:
    return error(f"One kudos can recognise at most {MAX_RECEIVERS} people.")


def no_behaviour(catalog: Catalog) -> Reply:
    return error(
        "Add the behaviour you saw, as #behaviour after the people. Choose one of:", _behaviour_list(catalog)
    )


def unknown_behaviour(tag: str, catalog: Catalog) -> Reply:
    return error(
        f"#{tag[:SHOWN_TAG_CHARS]} is not a behaviour Candor knows. Choose one of:", _behaviour_list(catalog)
    )


def no_message(syntax: Syntax, behaviour: Behaviour) -> Reply:
    return error(
        "Say what they did, so the recognition means something.",
        "Example: " + _kudos(syntax, f"@alex #{behaviour.slug} thanks for pairing on the flaky test"),
    )


def not_for_yourself() -> Reply:
    return error("Kudos are for someone else. Who helped you lately?")


def more_than_the_cap(cap: int) -> Reply:
    return error(f"You can give {cap} kudos in 24 hours, so one kudos can recognise at most {cap} people.")


def not_found(receiver: str, *, alone: bool) -> Reply:
    who = ("that person",) if alone else (Mention(receiver),)
    return error(rich("I could not find ", *who, " in this workspace. Check the @mention."))


def bot_receiver() -> Reply:
    return error("Bots do not need kudos. Recognise the person behind the work instead.")


def cap_reached(cap: int, next_free: str) -> Reply:
    return error(
        f"You have given {cap} kudos in the last 24 hours, the daily limit. "
        f"You can give the next one {next_free}.",
        "Until then, say thanks in the thread.",
    )


def too_few_left(wanted: int, left: int, cap: int, all_free: str) -> Reply:
    return error(
        f"This kudos is for {wanted} people, one kudos each, but you have {left} left: "
        f"the limit is {cap} in 24 hours.",
        f"Recognise fewer people now, or all of them {all_free}.",
    )


def wait_phrase(now: float, tz: str, at: float) -> str:
    """'in 3 h 20 min (at 14:35 your time)': when `at` comes, in the person's own terms."""
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


# --- a kudos given ------------------------------------------------------------------------------
def already_recorded() -> Reply:
    return ok("That kudos is already recorded.")


def sent(syntax: Syntax, receivers: tuple[str, ...], behaviour: Behaviour, left: int) -> Reply:
    return ok(
        rich(
            "Kudos sent to ",
            *people_spans(receivers),
            " for ",
            Strong(behaviour.label),
            f" {behaviour.emoji}. It will appear in this channel in a moment.",
        ),
        f"You can give {left} more in the next 24 hours. "
        f"Changed your mind? {_kudos(syntax, Verb.UNDO)} takes it back within {UNDO_MINUTES} minutes.",
    )


def announcement(giver: str, receivers: tuple[str, ...], behaviour: Behaviour, message: str) -> Message:
    """The channel's post: one for the whole kudos, however many it recognises."""
    return Message(
        (
            Section(
                rich(
                    f"{behaviour.emoji} ",
                    Mention(giver),
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


def receiver_dm(
    giver: str, receiver: str, receivers: tuple[str, ...], behaviour: Behaviour, message: str
) -> Message:
    others = [r for r in receivers if r != receiver]
    together = (" together with ", *people_spans(others)) if others else ()
    return Message(
        (
            Section(
                rich(
                    Mention(giver),
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


# --- undo ---------------------------------------------------------------------------------------
def nothing_to_undo() -> Reply:
    return ok("You have not given a kudos yet, so there is nothing to take back.")


def already_undone() -> Reply:
    return ok("Your last kudos is already taken back; there is nothing else to undo.")


def too_old_to_undo(syntax: Syntax) -> Reply:
    return error(
        f"Your last kudos is more than {UNDO_MINUTES} minutes old, so it stays. "
        f"{_kudos(syntax, Verb.UNDO)} works within {UNDO_MINUTES} minutes of giving one."
    )


def taken_back(giver: str) -> Message:
    """What the channel post and each DM say instead, once the kudos is taken back."""
    return Message((Section(rich("↩️ ", Mention(giver), " took back this kudos.")),))


def undone(receivers: tuple[str, ...], label: str) -> Reply:
    return ok(
        rich("Taken back: your kudos to ", *people_spans(receivers), " for ", Strong(label), "."),
        "The channel post and the message to them now say so, and it no longer counts.",
    )


# --- stats and verbs given something after them -------------------------------------------------
def takes_nothing(syntax: Syntax, verb: Verb) -> Reply:
    if verb is Verb.STATS:
        return error(f"{_kudos(syntax, Verb.STATS)} takes no name.", stats_usage(syntax))
    return error(f"{_kudos(syntax, Verb.UNDO)} takes nothing after it.", undo_usage(syntax))


def stats(syntax: Syntax, catalog: Catalog, counts: ChannelStats) -> Reply:
    if not counts.total:
        return ok(
            f"No kudos in this channel in the last {STATS_DAYS} days yet.",
            f"Start with {_kudos(syntax, '@person #behaviour what they did')}.",
        )
    lines: list[str | tuple[Span, ...]] = [
        rich(Strong(f"Kudos in this channel, last {STATS_DAYS} days")),
        f"{counts.total:,} kudos; {plural(counts.givers, 'person', 'people')} gave and "
        f"{counts.receivers:,} received recognition.",
    ]
    lines += [
        f"{b.emoji} {b.label}: {counts.count(b.slug)}" for b in catalog.behaviours if counts.count(b.slug)
    ]
    quiet = [b.label for b in catalog.behaviours if not counts.count(b.slug)]
    if quiet:
        lines.append("Not yet recognised here: " + "; ".join(quiet) + ".")
    return ok(*lines)
