"""What nominations say and post, apart from the rules that decide when: neutral messages and forms
that each adapter renders, every command written the platform's own way (`Syntax`).

What people wrote (examples) only ever travels as `Quote`, which every renderer escapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.messages import (
    Actions,
    Block,
    Button,
    ChannelRef,
    Choice,
    Context,
    Field,
    Form,
    Message,
    Reply,
    Section,
    Span,
    Strong,
    error,
    ok,
    only_you,
    rich,
)
from handlers.context import Syntax
from handlers.nominations import posts
from handlers.nominations.content import LEVEL_LABELS, Award, Content
from handlers.nominations.ids import (
    NO_VOTE,
    SHOW_NOMINATORS,
    ActionId,
    Commands,
    FieldId,
    FormId,
    Level,
    Verb,
)
from handlers.nominations.posts import people_spans
from handlers.nominations.rules import (
    DEFAULT_CLOSE_TIME,
    DEFAULT_TOP_N,
    MAX_EXAMPLE_CHARS,
    MAX_NOMINEES,
    MAX_OPEN_DAYS,
    MAX_TOP_N,
    MIN_EXAMPLE_CHARS,
    MIN_TOP_N,
    SHOWN_CYCLES,
    VOTING_DAYS,
)
from handlers.nominations.store import Cycle, Nomination, PastCycle
from handlers.nominations.when import local, local_day, time_left
from handlers.practice import HelpLine
from handlers.text import plural

HELP = (
    HelpLine(
        Commands.NOMINATE, "@person", "nominate a colleague for this channel's award, with two examples."
    ),
    HelpLine(Commands.NOMINATE, Verb.STATUS, "open nomination cycles, the time left, what you gave."),
    HelpLine(Commands.NOMINATE, Verb.MINE, "your own evidence (kudos and nominations), to export or share."),
)


def _nominate(syntax: Syntax, args: str = "") -> str:
    return syntax.command(Commands.NOMINATE, args)


# --- usage and refusals of the command ----------------------------------------------------------
def usage(syntax: Syntax) -> Reply:
    return ok(
        rich(Strong("Peer nominations: recognise colleagues with concrete evidence")),
        f"{_nominate(syntax, '@person')}: nominate a colleague for the award open in this channel, with "
        f"two concrete examples and the level they show. You can change it until the cycle closes; "
        f"at most {MAX_NOMINEES} people per cycle. Nominations stay private until the result.",
        f"{_nominate(syntax, Verb.STATUS)}: open cycles, the time left and what you have given.",
        f"{_nominate(syntax, Verb.HISTORY)}: past winners of each award.",
        f"{_nominate(syntax, Verb.MINE)}: your own evidence (nominations and kudos you received), "
        "to export or share with one person.",
        f"Admins: {_nominate(syntax, Verb.OPEN)} starts a cycle, {_nominate(syntax, Verb.CLOSE)} ends "
        "its current phase now.",
    )


def too_long(syntax: Syntax) -> Reply:
    return error(
        f"That is too long for {_nominate(syntax)}. Type {_nominate(syntax, Verb.HELP)} for the options."
    )


def unknown(syntax: Syntax, word: str) -> Reply:
    return error(
        f"{_nominate(syntax)} does not know {word[:30]!r}. Mention the person you nominate with @, "
        f"or type {_nominate(syntax, Verb.HELP)}."
    )


def takes_nothing(syntax: Syntax, verb: Verb) -> Reply:
    return error(f"{_nominate(syntax, verb)} takes nothing after it.")


def one_person(syntax: Syntax) -> Reply:
    return error(
        f"Nominate one person at a time: {_nominate(syntax, '@person')}. "
        "Your examples go in the form that opens."
    )


def admins_only(verb: Verb) -> Reply:
    return error(f"Only Candor admins can {verb.value} a nomination cycle.")


def not_yourself() -> str:
    return "You cannot nominate yourself. Who has shown this behaviour lately?"


def is_a_bot() -> str:
    return "Bots cannot be nominated. Nominate the person behind the work instead."


def not_found() -> str:
    return "I could not find that person in this workspace."


def no_open_cycle(syntax: Syntax) -> Reply:
    return error(
        "No nomination cycle is taking nominations in this channel. "
        f"{_nominate(syntax, Verb.STATUS)} lists the open ones."
    )


def cycle_gone() -> Reply:
    return error("This nomination cycle is no longer taking nominations.")


def closed_for_nominations() -> str:
    return "Nominations for this cycle are closed; nothing was saved."


# --- opening a cycle ----------------------------------------------------------------------------
VOTING_CHOICES = (
    Choice(NO_VOTE, "No vote: the most nominated win"),
    *(
        Choice(str(d), f"A vote among the most nominated, for {plural(d, 'day', 'days')}")
        for d in VOTING_DAYS
    ),
)


def open_form(content: Content, conversation: str, tz: str, default_day: str) -> Form:
    return Form(
        callback=FormId.OPEN,
        title="Open nominations",
        submit="Open",
        intro=(
            Section(
                rich(
                    "Peers nominate colleagues with two concrete examples each; the result is "
                    "announced in the channel and every nominee gets what was written about them."
                )
            ),
        ),
        fields=(
            Field(
                FieldId.AWARD,
                "Award",
                "select",
                choices=tuple(Choice(a.slug, a.label) for a in content.awards),
                initial=content.default_award,
            ),
            Field(FieldId.CHANNEL, "Channel", "channel", initial=conversation),
            Field(
                FieldId.CLOSES_ON,
                "Nominations close on",
                "date",
                initial=default_day,
                hint=f"Date and time in your timezone, {tz}.",
            ),
            Field(FieldId.CLOSES_AT, "At", "time", initial=DEFAULT_CLOSE_TIME),
            Field(
                FieldId.NOMINATORS,
                "Nominators",
                "checkboxes",
                optional=True,
                choices=(Choice(SHOW_NOMINATORS, "Name the nominators in the result and to the nominees"),),
            ),
            Field(FieldId.VOTING, "Voting", "select", choices=VOTING_CHOICES, initial=NO_VOTE),
            Field(
                FieldId.TOP_N,
                "Finalists in the vote",
                "text",
                optional=True,
                initial=str(DEFAULT_TOP_N),
                max_length=3,
                hint=f"With a vote: how many of the most nominated go to it ({MIN_TOP_N}-{MAX_TOP_N}).",
            ),
        ),
        context=tz,
    )


def unknown_award() -> str:
    return "Pick one of the awards in the list."


def no_channel() -> str:
    return "Pick the channel the cycle belongs to."


def bot_not_in_channel(syntax: Syntax) -> str:
    return f"Candor is not in that channel yet: {syntax.invite_hint}, then open the cycle again."


def too_soon() -> str:
    return "Pick a closing time at least 10 minutes from now."


def too_far() -> str:
    return f"Pick a closing date within {MAX_OPEN_DAYS} days."


def bad_voting() -> str:
    return "Pick one of the voting choices in the list."


def bad_top_n() -> str:
    return f"Give a whole number from {MIN_TOP_N} to {MAX_TOP_N}."


def already_running(award: Award) -> str:
    return f"{award.label} already has a cycle running in that channel; close it first."


def opened(cycle: Cycle, award: Award) -> Reply:
    return ok(
        rich(
            "The cycle for ",
            Strong(award.label),
            " is open: its announcement will appear in ",
            ChannelRef(cycle.conversation),
            " in a moment.",
        ),
        f"Nominations close {local(cycle.closes_at, cycle.tz)}. {posts.rules_line(cycle)}",
    )


# --- nominating ---------------------------------------------------------------------------------
def _level_lines(content: Content, award: Award | None) -> str:
    behaviour = award.behaviour if award else None
    return "\n".join(
        f"{LEVEL_LABELS[level]}: {content.descriptor(behaviour, level) or '-'}" for level in Level
    )


def nomination_form(
    content: Content,
    cycles: Sequence[Cycle],
    *,
    nominee: str | None,
    existing: Nomination | None,
    fixed: Cycle | None,
) -> Form:
    """The nomination form: for one cycle (`fixed`), or with a choice among the channel's."""
    award = content.award(fixed.award) if fixed else None
    examples = existing.examples if existing else ()
    shown = fixed.show_nominators if fixed else False
    intro: list[Block] = []
    if award:
        intro += [Section(rich("🏆 ", Strong(award.label))), Context(rich(award.description))]
    intro += [
        Section(
            rich(
                f"Give at least two concrete examples ({MIN_EXAMPLE_CHARS}-{MAX_EXAMPLE_CHARS:,} characters "
                "each): what they did, when, and what it changed. Role model and developing are above "
                "and below expectations: they need two separate, corroborating examples."
            )
        ),
        Context(rich(_level_lines(content, award))),
        Context(
            rich(
                "Nobody sees your nomination until the cycle closes. Then the nominee gets your examples"
                + (", with your name." if shown else ", without your name.")
            )
        ),
    ]
    if existing:
        intro.append(Context(rich("You nominated this person already: sending the form again changes it.")))
    fields: list[Field] = []
    if fixed is None:
        fields.append(
            Field(
                FieldId.CYCLE,
                "Award",
                "select",
                choices=tuple(Choice(str(c.id), content.award_label(c.award)) for c in cycles),
            )
        )
    fields += [
        Field(FieldId.NOMINEE, "Who", "user", initial=nominee),
        Field(
            FieldId.EXAMPLE_1,
            "Example 1",
            "multiline",
            initial=examples[0] if examples else None,
            max_length=MAX_EXAMPLE_CHARS,
        ),
        Field(
            FieldId.EXAMPLE_2,
            "Example 2",
            "multiline",
            initial=examples[1] if len(examples) > 1 else None,
            max_length=MAX_EXAMPLE_CHARS,
        ),
        Field(
            FieldId.EXAMPLE_3,
            "Example 3",
            "multiline",
            optional=True,
            initial=examples[2] if len(examples) > 2 else None,
            max_length=MAX_EXAMPLE_CHARS,
        ),
        Field(
            FieldId.LEVEL,
            "Level they show",
            "select",
            choices=tuple(Choice(level.value, LEVEL_LABELS[level]) for level in Level),
            initial=existing.level.value if existing else None,
        ),
    ]
    return Form(
        callback=FormId.NOMINATE,
        title="Nominate someone",
        submit="Nominate",
        fields=tuple(fields),
        intro=tuple(intro),
        context=str(fixed.id) if fixed else "",
    )


def pick_cycle() -> str:
    return "Pick the award you are nominating for."


def pick_person() -> str:
    return "Pick the person you are nominating."


def example_too_short(n: int, length: int) -> str:
    return (
        f"Example {n} is {plural(length, 'character', 'characters')}; give at least {MIN_EXAMPLE_CHARS}: "
        "what they did, when, and what it changed."
    )


def example_missing(n: int) -> str:
    return f"Example {n} cannot be empty: every nomination needs two concrete examples."


def calibration(level: Level) -> str:
    above = "above" if level == Level.ROLE_MODEL else "below"
    return (
        f"{LEVEL_LABELS[level]} is {above} expectations, so it needs at least two corroborating "
        "examples: add a second, separate one."
    )


def repeated(n: int, earlier: int) -> str:
    return f"Example {n} repeats example {earlier}: give a separate instance."


def pick_level() -> str:
    return "Pick the level they show."


def cap_reached() -> str:
    return (
        f"You have nominated {MAX_NOMINEES} people in this cycle, the limit. You can still change "
        "those nominations until it closes."
    )


def nominated(cycle: Cycle, award_label: str, nominee: str, *, edited: bool, given: int) -> Reply:
    first = (
        rich("Your nomination of ", *people_spans([nominee]), " for ", Strong(award_label), " is updated.")
        if edited
        else rich("You nominated ", *people_spans([nominee]), " for ", Strong(award_label), ".")
    )
    return ok(
        first,
        f"Nobody sees it until nominations close {local(cycle.closes_at, cycle.tz)}; until then you can "
        f"change it by nominating them again. You have nominated {given} of at most {MAX_NOMINEES} people "
        "in this cycle.",
    )


# --- the vote -----------------------------------------------------------------------------------
def vote_form(cycle: Cycle, award_label: str, names: dict[str, str], current: str | None) -> Form:
    assert cycle.voting_closes_at is not None
    return Form(
        callback=FormId.VOTE,
        title="Vote",
        submit="Vote",
        intro=(
            Section(rich("🏆 ", Strong(award_label))),
            Context(
                rich(
                    "One vote; you can change it until "
                    f"{local(cycle.voting_closes_at, cycle.tz)}. Nobody sees who voted for whom."
                )
            ),
        ),
        fields=(
            Field(
                FieldId.CHOICE,
                "Your vote",
                "select",
                choices=tuple(Choice(who, names.get(who, who)) for who in cycle.finalists),
                initial=current,
            ),
        ),
        context=str(cycle.id),
    )


def vote_closed() -> str:
    return "The vote is closed; nothing was saved."


def not_voting() -> Reply:
    return error("This vote is closed.")


def pick_finalist() -> str:
    return "Pick one of the people in the list."


def no_vote_for_yourself() -> str:
    return "You cannot vote for yourself. Pick one of the others."


def not_a_member() -> str:
    return "Only members of the cycle's channel can vote."


def voted(nominee: str, before: str | None, cycle: Cycle) -> Reply:
    assert cycle.voting_closes_at is not None
    if before and before != nominee:
        first = rich("Your vote is changed to ", *people_spans([nominee]), ".")
    else:
        first = rich("Your vote for ", *people_spans([nominee]), " is in.")
    return ok(first, f"You can change it until {local(cycle.voting_closes_at, cycle.tz)}.")


# --- closing ------------------------------------------------------------------------------------
def nothing_to_close(syntax: Syntax) -> Reply:
    return error(
        f"No nomination cycle is running in this channel. {_nominate(syntax, Verb.STATUS)} lists them."
    )


def which_to_close(cycles: Sequence[Cycle], content: Content) -> Reply:
    return Reply(
        Message(
            (
                Section(rich("Several cycles run in this channel. Which one ends its current phase now?")),
                Actions(
                    tuple(
                        Button(f"Close {content.award_label(c.award)}", ActionId.CLOSE, str(c.id))
                        for c in cycles
                    )
                ),
            )
        )
    )


def vote_started(award_label: str) -> Reply:
    return ok(
        rich("Nominations for ", Strong(award_label), " are closed; the vote is posted in the channel.")
    )


def closed_now(award_label: str) -> Reply:
    return ok(rich(Strong(award_label), " is closed; the result is posted in the channel."))


def already_moved() -> Reply:
    return ok("That cycle had already moved on; nothing else changed.")


# --- status and history -------------------------------------------------------------------------
@dataclass(frozen=True)
class StatusLine:
    """One running cycle as /nominate status shows it to one person."""

    cycle: Cycle
    given: list[str]  # whom they nominated in it
    my_vote: str | None
    tally: dict[str, int] | None  # distinct nominators per nominee: admins only, else None
    votes: dict[str, int] | None  # admins only, during the vote


def status(now: float, tz: str, content: Content, lines: Sequence[StatusLine], syntax: Syntax) -> Reply:
    """Each running cycle with the time left and what the asker gave; a tally only if passed (admins)."""
    if not lines:
        return ok("No nomination cycle is running.", f"{_nominate(syntax, Verb.HISTORY)} shows past winners.")
    out: list[str | tuple[Span, ...]] = [rich(Strong("Nomination cycles running now"))]
    for line in lines[:SHOWN_CYCLES]:
        cycle, given, my_vote, tally, votes = line.cycle, line.given, line.my_vote, line.tally, line.votes
        label = content.award_label(cycle.award)
        if cycle.voting_closes_at is not None:
            closes = cycle.voting_closes_at
            when = f"the vote closes {time_left(now, closes)}, {local(closes, tz)}"
            mine: tuple[str | Span, ...] = (
                ("You voted for ", *people_spans([my_vote]), "; you can change it until then.")
                if my_vote
                else ("You have not voted yet.",)
            )
        else:
            when = f"nominations close {time_left(now, cycle.closes_at)}, {local(cycle.closes_at, tz)}"
            mine = (f"You have given {len(given)} of at most {MAX_NOMINEES} nominations",)
            mine += (": ", *people_spans(given), ".") if given else (".",)
        out.append(rich("🏆 ", Strong(label), " in ", ChannelRef(cycle.conversation), f": {when}. ", *mine))
        if tally is not None:
            ranked = sorted(tally, key=lambda who: (-tally[who], who))
            counts: list[str | Span] = ["    Running tally (admins only): "]
            for i, who in enumerate(ranked):
                counts += [", " if i else "", *people_spans([who]), f" {tally[who]}"]
                if votes is not None and who in cycle.finalists:
                    counts.append(f" ({plural(votes.get(who, 0), 'vote', 'votes')})")
            if not ranked:
                counts.append("no nominations yet")
            out.append(rich(*counts, "."))
    if len(lines) > SHOWN_CYCLES:
        out.append(f"…and {len(lines) - SHOWN_CYCLES} more.")
    return only_you(*out)  # what the asker gave and voted, and an admin's tally


def history(past: Sequence[PastCycle], content: Content, tz: str, syntax: Syntax) -> Reply:
    if not past:
        return ok(
            "No nomination cycle has closed yet.", f"{_nominate(syntax, Verb.STATUS)} shows the open ones."
        )
    # One section per award (its latest cycles on lines of their own), so it stays one message.
    out: list[str | tuple[Span, ...]] = [rich(Strong("Past winners"))]
    award = None
    section: list[str | Span] = []
    for cycle in past:
        if cycle.award != award:
            if section:
                out.append(rich(*section))
            award = cycle.award
            section = ["🏆 ", Strong(content.award_label(award))]
        winners: tuple[str | Span, ...] = (
            (*people_spans(cycle.winners), " (joint)" if len(cycle.winners) > 1 else "")
            if cycle.winners
            else ("no nominations",)
        )
        section += [
            f"\n    {local_day(cycle.closed_at, tz)} in ",
            ChannelRef(cycle.conversation),
            ": ",
            *winners,
        ]
    out.append(rich(*section))
    return ok(*out)
