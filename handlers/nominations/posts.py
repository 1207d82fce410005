"""What nominations post for everyone to see, and what each nominee is sent: the announcement, the
ballot, the result with short quotes, and the nominee's own evidence. What people wrote only ever
travels as `Quote`, which every renderer escapes."""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import (
    Actions,
    Block,
    Button,
    ChannelRef,
    Context,
    Divider,
    Mention,
    Message,
    Quote,
    Section,
    Span,
    Strong,
    rich,
)
from handlers.nominations.content import LEVEL_LABELS, Award, Content
from handlers.nominations.ids import ActionId
from handlers.nominations.rules import MAX_NOMINEES, QUOTE_CHARS, QUOTED_WINNERS, QUOTES_PER_WINNER
from handlers.nominations.store import Cycle, Nomination, Result
from handlers.nominations.when import local
from handlers.text import plural


def people_spans(users: Sequence[str]) -> tuple[Span, ...]:
    """@a · @a and @b · @a, @b and @c"""
    spans: list[str | Span] = []
    for i, user in enumerate(users):
        if i:
            spans.append(" and " if i == len(users) - 1 else ", ")
        spans.append(Mention(user))
    return rich(*spans)


def short(text: str, limit: int = QUOTE_CHARS) -> str:
    """The start of a piece of evidence, cut at a word, for the public announcement."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] or line[:limit]
    return cut.rstrip(" ,.;:") + "…"


def rules_line(cycle: Cycle) -> str:
    named = (
        "Nominators are named in the result and to the nominees."
        if cycle.show_nominators
        else "Nominators are not named, in the result or to the nominees."
    )
    if not cycle.has_vote:
        return named
    days = plural(round(cycle.voting_s / 86400), "day", "days")
    return f"{named} Then the {cycle.top_n} most nominated go to a vote of this channel for {days}."


def announcement(cycle: Cycle, award: Award) -> Message:
    return Message(
        (
            Section(rich("🏆 Nominations are open: ", Strong(award.label))),
            Context(rich(award.description)),
            Section(
                rich(
                    "Nominate a colleague with two concrete examples of what they did and the level "
                    f"it shows. Nominations close {local(cycle.closes_at, cycle.tz)}. "
                    f"You can nominate up to {MAX_NOMINEES} people and change your nominations until then."
                )
            ),
            Context(rich(rules_line(cycle))),
            Actions((Button("Nominate someone", ActionId.NOMINATE, str(cycle.id), style="primary"),)),
        )
    )


def announcement_closed(award_label: str, *, vote: bool) -> Message:
    after = "the vote is on below." if vote else "the result is posted below."
    return Message((Section(rich("🏆 Nominations for ", Strong(award_label), f" are closed: {after}")),))


def ballot(cycle: Cycle, award_label: str) -> Message:
    assert cycle.voting_closes_at is not None
    return Message(
        (
            Section(
                rich(
                    "🗳️ Nominations for ",
                    Strong(award_label),
                    " are closed. Vote for one of the most nominated:",
                )
            ),
            Section(people_spans(cycle.finalists)),
            Context(
                rich(
                    "One vote per member of this channel; you can change it until "
                    f"{local(cycle.voting_closes_at, cycle.tz)}. Nobody sees the votes before the result."
                )
            ),
            Actions((Button("Vote", ActionId.VOTE, str(cycle.id), style="primary"),)),
        )
    )


def ballot_closed(award_label: str) -> Message:
    return Message(
        (Section(rich("🗳️ The vote for ", Strong(award_label), " is closed: the result is below.")),)
    )


def result(
    cycle: Cycle, award_label: str, results: Sequence[Result], nominations: Sequence[Nomination]
) -> Message:
    winners = [r for r in results if r.winner]
    if not winners:
        return Message(
            (Section(rich("🏆 ", Strong(award_label), ": no nominations this time, so no award.")),)
        )
    title = "joint winners " if len(winners) > 1 else ""
    blocks: list[Block] = [
        Section(rich("🏆 ", Strong(award_label), f": {title}", *people_spans([w.nominee for w in winners])))
    ]
    for w in winners[:QUOTED_WINNERS]:  # many joint winners: the post must stay one message
        about = [n for n in nominations if n.nominee == w.nominee]
        counted = plural(w.nominators, "nominator", "nominators")
        if w.votes is not None:
            counted += ", " + plural(w.votes, "vote", "votes")
        by: tuple[str | Span, ...] = ()
        if cycle.show_nominators:
            by = (", nominated by ", *people_spans([n.nominator for n in about]))
        blocks.append(Context(rich("For ", *people_spans([w.nominee]), f" ({counted})", *by, ":")))
        blocks += [Quote(short(n.examples[0])) for n in about[:QUOTES_PER_WINNER]]
    if len(winners) > QUOTED_WINNERS:
        blocks.append(
            Context(rich(f"Quotes for the first {QUOTED_WINNERS} winners; each winner has all of theirs."))
        )
    total = sum(r.nominators for r in results)
    blocks.append(
        Context(
            rich(
                f"Thank you: {plural(total, 'nomination', 'nominations')} for "
                f"{plural(len(results), 'person', 'people')}. Every nominee gets what was written about them."
            )
        )
    )
    return Message(tuple(blocks))


def nominee_dms(
    cycle: Cycle,
    content: Content,
    nominee: str,
    about: Sequence[Nomination],
    winners: Sequence[str],
    per_message: int,
) -> list[Message]:
    """What one nominee is sent: everything written about them, in one or more messages."""
    award = content.award(cycle.award)
    label = content.award_label(cycle.award)
    if nominee in winners:
        outcome: tuple[Span, ...] = rich("You won" + (", jointly." if len(winners) > 1 else "! 🎉"))
    elif winners:
        outcome = rich("The award went to ", *people_spans(winners), ".")
    else:
        outcome = ()
    head: list[Block] = [
        Section(
            rich(
                "You were nominated for ",
                Strong(label),
                " in ",
                ChannelRef(cycle.conversation),
                ". ",
                *outcome,
            )
        ),
        Context(
            rich(
                "Here is what colleagues wrote about you "
                f"({plural(len(about), 'nomination', 'nominations')}). "
                "It is yours: keep it for your next review."
            )
        ),
    ]
    parts = [about[i : i + per_message] for i in range(0, len(about), per_message)] or [[]]
    messages = []
    for index, part in enumerate(parts):
        blocks: list[Block] = (
            list(head)
            if index == 0
            else [
                Section(
                    rich(
                        "More of what colleagues wrote about you for ",
                        Strong(label),
                        f" ({index + 1}/{len(parts)})",
                    )
                )
            ]
        )
        for n in part:
            level = LEVEL_LABELS[n.level]
            descriptor = content.descriptor(award.behaviour if award else None, n.level)
            by: tuple[str | Span, ...] = (
                (" from ", *people_spans([n.nominator])) if cycle.show_nominators else ()
            )
            blocks += [Divider(), Context(rich(Strong(level), *by, f": {descriptor}" if descriptor else ""))]
            blocks += [Quote(example) for example in n.examples]
        messages.append(Message(tuple(blocks)))
    return messages
