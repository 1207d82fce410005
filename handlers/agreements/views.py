"""What agreements answer the person who asked: help, refusals, confirmations, and the views of
one's agreements (list, show, stats). What each side receives by message is in posts.py."""

from __future__ import annotations

from bot.messages import (
    Actions,
    Block,
    Button,
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
from handlers.agreements.ids import Commands, Outcome, Role, State, Verb
from handlers.agreements.posts import review_answers, short, terms
from handlers.agreements.rules import SHOWN_OFFERS, STATS_DAYS
from handlers.agreements.store import Agreement, Offer, Review, Tally
from handlers.agreements.when import shown
from handlers.catalog import AgreementWords
from handlers.context import Syntax
from handlers.practice import HelpLine

HELP = (
    HelpLine(Commands.AGREE, "@person", "ask someone for a clear agreement: what, done means, when."),
    HelpLine(Commands.AGREE, Verb.LIST, "the agreements you made and asked for, with their state."),
    HelpLine(Commands.AGREE, Verb.STATS, f"this channel's agreements over the last {STATS_DAYS} days."),
)


def _agree(syntax: Syntax, args: str = "") -> str:
    return syntax.command(Commands.AGREE, args)


# --- help and refusals -----------------------------------------------------------------------------
def usage(syntax: Syntax) -> Reply:
    return ok(
        rich(Strong("Agreements: a clear request, an explicit yes, and a shared review")),
        f"{_agree(syntax, '@person')} opens a form: what is asked, what done means, the due date and "
        "an optional process goal. Nothing is an agreement until they accept it.",
        f"{_agree(syntax)} does the same and lets you choose the person in the form.",
        f"{_agree(syntax, Verb.LIST)}: the agreements you made and the ones you asked for, with their state.",
        f"{_agree(syntax, 'show 12')}: one agreement, every offer that led to it, and its review.",
        f"{_agree(syntax, Verb.STATS)}: this channel's last {STATS_DAYS} days, as a team: never per person.",
    )


def too_long(syntax: Syntax) -> Reply:
    return error(
        f"That is too long to read as a command. Use {_agree(syntax, '@person')} and write the "
        "request in the form."
    )


def not_a_person(syntax: Syntax) -> Reply:
    return error(
        "Start with the person you are asking, mentioned with @, or leave it empty to choose them "
        "in the form.",
        f"Example: {_agree(syntax, '@alex')}. {_agree(syntax, Verb.HELP)} shows everything else.",
    )


def one_person() -> Reply:
    return error("An agreement is between two people: ask one person at a time.")


def takes_nothing(syntax: Syntax, verb: str) -> Reply:
    return error(f"{_agree(syntax, verb)} takes nothing after it.")


def show_usage(syntax: Syntax) -> Reply:
    return error(f"Say which agreement, by its number: {_agree(syntax, 'show 12')}.")


NOT_YOURSELF = "An agreement needs two people: ask someone else."
NOT_A_BOT = "Agreements are between people; a bot cannot agree to anything."
NOT_FOUND = "I could not find that person in this workspace."
NO_PERSON = "Choose the person you are asking."
OUT_OF_DATE = "This form is out of date. Please start again."


def person_problem(problem: str) -> Reply:
    return error(problem)


def not_found(number: int | str) -> Reply:
    """The same answer for a number never used and one that is not the asker's."""
    return error(f"I cannot find agreement #{str(number).partition(':')[0][:12]} among yours.")


# --- a request sent --------------------------------------------------------------------------------
def sent(performer: str) -> Reply:
    return ok(
        rich("Sent to ", Mention(performer), ". It becomes an agreement when they accept it."),
        "You will hear here when they answer.",
    )


def already_sent() -> Reply:
    return ok("That request is already sent.")


def accepted_reply(syntax: Syntax, a: Agreement) -> Reply:
    return ok(f"Agreed: #{a.id}. You both have it in your messages, and in {_agree(syntax, Verb.LIST)}.")


def proposed_reply(to: str, agreed: bool) -> Reply:
    rest = " The agreement stands as it was until they accept the change." if agreed else ""
    return ok(rich("Your proposal is sent to ", Mention(to), "." + rest))


def declined_reply(requester: str) -> Reply:
    return ok(rich("Declined. ", Mention(requester), " sees your reason."))


def done_reply(requester: str) -> Reply:
    return ok(rich("Marked done. ", Mention(requester), " is asked to accept it as done."))


def kept_reply(performer: str) -> Reply:
    return ok(rich("Accepted as done. ", Mention(performer), " hears it from Candor. Thank you both."))


def review_waiting(other: str, words: AgreementWords) -> Reply:
    return ok(words.review_waiting, rich("Waiting for ", Mention(other), "."))


def reviewed_reply(words: AgreementWords) -> Reply:
    return ok(words.reviewed, "Both of you have the answers in your messages.")


def already_answered(other: str) -> Reply:
    return ok(
        rich(
            "You have answered this review. Both answers are shown once ",
            Mention(other),
            " has answered too.",
        )
    )


# --- where an agreement stands, for someone pressing an old button -------------------------------
def state_phrase(a: Agreement, viewer: str) -> tuple[Span, ...]:
    waiting_on = a.party(a.turn) if a.turn else None
    if a.state == State.OFFERED and waiting_on:
        if waiting_on == viewer:
            return rich("waiting for your answer")
        return rich("waiting for ", Mention(waiting_on), "'s answer")
    if a.state == State.ACCEPTED:
        change = rich(" · a change waits for ", Mention(waiting_on)) if waiting_on else ()
        return rich("agreed", *change)
    if a.state == State.DONE:
        return rich("done, waiting for ", Mention(a.requester), " to accept it")
    if a.state == State.REVIEWING:
        return rich("in review (how can we do this better next time)")
    return rich("kept ✅" if a.state == State.KEPT else _STATE_WORDS[a.state])


def stale(a: Agreement, viewer: str) -> Reply:
    return ok(rich(f"Agreement #{a.id} has moved on: it is ", *state_phrase(a, viewer), "."))


def not_your_turn(a: Agreement) -> Reply:
    waiting_on = a.party(a.turn) if a.turn else a.requester
    return error(rich("This waits for ", Mention(waiting_on), "'s answer."))


def only_performer(a: Agreement) -> Reply:
    return error(
        rich("Only ", Mention(a.performer), ", who agreed to it, can say this is done or renegotiate it.")
    )


def only_requester(a: Agreement) -> Reply:
    return error(rich("Only ", Mention(a.requester), ", who asked for it, can accept it as done."))


def past_due(a: Agreement) -> Reply:
    return error(
        f"Agreement #{a.id} is past its due time, so it goes to a short review instead: "
        "how can we do this better next time?"
    )


def own_proposal_waiting(a: Agreement) -> Reply:
    return ok(rich("Your proposed change waits for ", Mention(a.requester), "'s answer."))


# --- list, show, stats -----------------------------------------------------------------------------
def _line(a: Agreement, viewer: str, tz: str) -> tuple[Span, ...]:
    other = a.requester if viewer == a.performer else a.performer
    return rich(
        f"#{a.id} ",
        Strong(short(a.what, 120)),
        " · with ",
        Mention(other),
        f" · due {shown(a.due_at, tz)} · ",
        *state_phrase(a, viewer),
    )


def listing(syntax: Syntax, viewer: str, tz: str, mine: list[Agreement], asked: list[Agreement]) -> Reply:
    if not mine and not asked:
        return ok(
            "You have no agreements yet, open or from the last 90 days.",
            f"Ask for one with {_agree(syntax, '@person')}.",
        )
    lines: list[str | tuple[Span, ...]] = [f"Due times in {tz}."]
    lines.append(rich(Strong("Agreed to or asked of you")))
    lines += [_line(a, viewer, tz) for a in mine] or ["None."]
    lines.append(rich(Strong("You asked for")))
    lines += [_line(a, viewer, tz) for a in asked] or ["None."]
    lines.append(f"{_agree(syntax, 'show 12')} shows one in full.")
    return ok(*lines)


_OFFER_OUTCOME = {
    Outcome.ACCEPTED: "accepted",
    Outcome.COUNTERED: "answered with another proposal",
    Outcome.DECLINED: "declined",
    Outcome.SUPERSEDED: "no longer open",
}


def show(
    a: Agreement,
    viewer: str,
    tz: str,
    offers: list[Offer],
    reviews: dict[Role, Review],
    words: AgreementWords,
    buttons: tuple[Button, ...],
) -> Reply:
    blocks: list[Block] = [
        Section(
            rich(
                Strong(f"Agreement #{a.id}"),
                " between ",
                Mention(a.requester),
                " (asked) and ",
                Mention(a.performer),
                " (agreed)",
            )
        )
    ]
    blocks += terms(a.what, a.done_means, a.process_goal, a.due_at, tz, None)
    blocks.append(Section(rich("State: ", *state_phrase(a, viewer))))
    if a.missing:
        blocks += [Section(rich("What was missing")), Quote(a.missing)]
    blocks.append(Section(rich(Strong("The offers"))))
    if len(offers) > SHOWN_OFFERS:  # a long negotiation: its latest offers, within a message's blocks
        blocks.append(Context(rich(f"{len(offers) - SHOWN_OFFERS} earlier offers are not shown.")))
    for o in offers[-SHOWN_OFFERS:]:
        kind = "asked" if o.seq == 1 else "proposed"
        outcome = f" · {_OFFER_OUTCOME[o.outcome]}" if o.outcome else " · open"
        blocks.append(
            Context(
                rich(
                    f"{o.seq}. ",
                    Mention(o.by_user),
                    f" {kind} on {shown(o.created_at, tz)}: due {shown(o.due_at, tz)}{outcome}",
                )
            )
        )
        if o.reason:
            blocks.append(Quote(o.reason))
    if a.state == State.REVIEWED:
        blocks += [Section(rich(Strong(words.review_title))), *review_answers(a, reviews, words)]
    elif a.state == State.REVIEWING:
        role = a.role_of(viewer)
        mine = reviews.get(role) if role else None
        blocks.append(
            Context(
                rich(
                    "You have answered the review."
                    if mine
                    else "Your answers to the review are still to come."
                )
            )
        )
    if buttons:
        blocks.append(Actions(buttons))
    return Reply(Message(tuple(blocks)))


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%"


def stats(syntax: Syntax, t: Tally, k: int) -> Reply:
    if not t.made:
        return ok(
            f"No agreements were made from this channel in the last {STATS_DAYS} days yet.",
            f"Start with {_agree(syntax, '@person')}.",
        )
    lines: list[str | tuple[Span, ...]] = [
        rich(Strong(f"Agreements made from this channel, last {STATS_DAYS} days")),
        f"{t.made:,} made (accepted by the person asked).",
    ]

    def share(label: str, part: int, whole: int, of: str, good: str = "") -> str:
        if whole < k:
            return f"{label}: not shown until at least {k} {of} (now {whole:,})."
        return f"{label}: {_share(part, whole)} of {whole:,} {of}.{good}"

    lines.append(share("Kept on time", t.kept, t.concluded, "that came to an end"))
    lines.append(
        share(
            "Renegotiated before the due date",
            t.renegotiated,
            t.made,
            "made",
            " A good sign: plans changed in the open.",
        )
    )
    lines.append(share("Reviewed after a miss", t.reviewed_after_miss, t.missed, "missed"))
    lines.append("A team view: no one is listed by name.")
    return ok(*lines)


_STATE_WORDS = {
    State.OFFERED: "waiting for an answer",
    State.ACCEPTED: "agreed",
    State.DONE: "marked done",
    State.KEPT: "kept",
    State.DECLINED: "declined",
    State.REVIEWING: "in review",
    State.REVIEWED: "reviewed",
}


def moved_on(a: Agreement, viewer: str) -> str:
    """In a form (plain text, no mentions): the agreement changed since the form opened."""
    return f"Agreement #{a.id} has moved on since this form opened: it is {_STATE_WORDS[a.state]} now."


def past_due_text(a: Agreement) -> str:
    return f"Agreement #{a.id} is past its due time, so it goes to a short review instead."


def offer_passed(a: Agreement) -> Reply:
    return error(f"The due time of this offer has passed. Propose a new date for agreement #{a.id} instead.")


def cannot_decline(a: Agreement) -> Reply:
    return error(
        f"Agreement #{a.id} was accepted, so it is not declined now: propose a change, or say what is "
        "in the way when you renegotiate."
    )


def review_started(performer: str) -> Reply:
    return ok(rich("Sent. You and ", Mention(performer), " are both asked how to do this better next time."))
