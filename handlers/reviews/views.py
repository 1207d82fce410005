"""What failure reviews answer the person who asked: help, refusals, confirmations, their actions,
the channel's reviews and figures, apart from the rules that choose them (the forms are in
forms.py, what is posted in posts.py).

Nothing here names a platform: commands are written with the request's `Syntax`, people are
`Mention`s, and each adapter fits texts to its own limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.messages import (
    Block,
    ChannelRef,
    Context,
    Mention,
    Message,
    Reply,
    Section,
    Span,
    Strong,
    error,
    ok,
    rich,
)
from handlers.anonymity import Delay, describe_delay
from handlers.context import Syntax
from handlers.practice import HelpLine
from handlers.reviews.ids import Commands, Verb
from handlers.reviews.model import Quality
from handlers.reviews.posts import day_text, done_button, raise_lines
from handlers.reviews.rules import (
    MAX_ACTIONS,
    REMIND_AT_HOUR,
    REMIND_DAYS_BEFORE,
    STATS_DAYS,
)
from handlers.reviews.store import Action, Outcomes, Summary
from handlers.text import plural

HELP = (
    HelpLine(Commands.REVIEW, "", "write a blameless failure review with action items that get done."),
    HelpLine(Commands.REVIEW, Verb.ACTIONS, "the review actions you own that are still open."),
)
REMINDERS = (
    f"reminders {REMIND_DAYS_BEFORE} days before and on the due date, at {REMIND_AT_HOUR:02d}:00 in the "
    "owner's timezone"
)


def _review(syntax: Syntax, args: str = "") -> str:
    return syntax.command(Commands.REVIEW, args)


# --- help and refusals --------------------------------------------------------------------------
def usage(syntax: Syntax, delay: Delay) -> Reply:
    """The practice in two short paragraphs."""
    return ok(
        rich(Strong("Blameless failure reviews")),
        f"{_review(syntax)} opens a review of something that went wrong: what happened, its impact, "
        "the contributing factors (process, tools, clarity of expectations, not people), what we "
        f"learned and what we will try next time, with up to {MAX_ACTIONS} action items, each with an "
        "owner and a due date. It is posted in the reviews channel with a quality index from 0 to 100 "
        "and what would raise it, and Candor gently points out words that blame a person before it "
        "goes out. Tick Anonymous to publish it without your name: the form then shows a case code, "
        f"and {_review(syntax, 'edit <code>')} lets you edit it or add a follow-up "
        f"(it appears {describe_delay(delay)}).",
        "Owners get a message with a Mark done button, and " + REMINDERS + "; overdue actions are "
        f"summarised every Monday in the reviews channel. {_review(syntax, Verb.ACTIONS)} lists yours, "
        f"{_review(syntax, Verb.LIST)} this channel's recent reviews with their follow-through, "
        f"{_review(syntax, Verb.STATS)} its last {STATS_DAYS} days (team figures only). Admins: "
        f"{_review(syntax, Verb.CHANNEL)} posts reviews in the channel where you type it.",
    )


def unknown(syntax: Syntax, verb: str) -> Reply:
    return error(
        f"I don't know {_review(syntax, verb)}.", f"Type {_review(syntax, Verb.HELP)} for what I can do."
    )


def too_long(syntax: Syntax) -> Reply:
    return error(
        f"That is too long for {_review(syntax)}. Use {_review(syntax)} on its own to open the form."
    )


def takes_nothing(syntax: Syntax, verb: Verb) -> Reply:
    return error(
        f"{_review(syntax, verb)} takes nothing after it.", f"Type {_review(syntax, Verb.HELP)} for the rest."
    )


def edit_usage(syntax: Syntax) -> Reply:
    return error(
        f"{_review(syntax, 'edit <code>')} opens your anonymous review with its case code; "
        f"{_review(syntax, 'edit <number>')} opens a review you wrote under your name."
    )


def not_set_up(syntax: Syntax) -> Reply:
    return error(
        "Failure reviews are not set up yet: there is no reviews channel. Ask a Candor admin to run "
        f"{_review(syntax, Verb.CHANNEL)} in the channel where reviews should be posted."
    )


NOT_SET_UP = "There is no reviews channel any more. Ask a Candor admin to choose one, then send this again."
ONLY_ADMINS = "Only Candor admins can choose the reviews channel."
NO_CASE = "No review matches that code. Check the code (letters A–Z and digits 2–7) and try again."
TOO_MANY_CODES = "Too many codes tried. Please wait an hour and try again."
STALE_FORM = "This form is out of date. Please close it and open it again."


def channel_set(syntax: Syntax, conversation: str, member: bool) -> Reply:
    lines: list[str | tuple[Span, ...]] = [
        rich("Failure reviews are now posted in ", ChannelRef(conversation), "."),
        f"The overdue digest goes out here every Monday at {REMIND_AT_HOUR:02d}:00 your time.",
    ]
    if not member:
        lines.append(f"Candor cannot post here yet: {syntax.invite_hint}.")
    return ok(*lines)


# --- what the author is told --------------------------------------------------------------------
def published(channel: str, review_id: int, quality: Quality, owners: int) -> Reply:
    lines: list[str | tuple[Span, ...]] = [
        rich(Strong("Published."), f" Review #{review_id} is posted in ", ChannelRef(channel), "."),
        f"Quality index: {quality.score}/100.",
    ]
    raise_it = raise_lines(quality)
    if raise_it:
        lines += ["What would raise it:", *raise_it]
    if owners:
        lines.append(
            f"{plural(owners, 'action owner', 'action owners')} got a message with a Mark done button."
        )
    return ok(*lines)


def received(syntax: Syntax, channel: str, code: str, quality: Quality, delay: Delay) -> Reply:
    lines: list[str | tuple[Span, ...]] = [
        rich(Strong("Received. Thank you for writing it down.")),
        rich("Your case code: ", Strong(code)),
        rich(
            Strong("Copy it now."),
            " This form shows it only this once and Candor cannot recover it: it is the only link "
            f"between you and the review. With it, {_review(syntax, 'edit <code>')} lets you edit the "
            "review or add a follow-up.",
        ),
        rich("It appears in ", ChannelRef(channel), f" {describe_delay(delay)}, with no name."),
        f"Quality index: {quality.score}/100.",
    ]
    raise_it = raise_lines(quality)
    if raise_it:
        lines += ["What would raise it:", *raise_it]
    return ok(*lines)


def edit_saved(anonymous: bool, changed: bool, followed_up: bool, delay: Delay) -> Reply:
    if not (changed or followed_up):
        return ok("Nothing was changed.")
    done = " and ".join(
        p for p in ("your changes" if changed else "", "your follow-up" if followed_up else "") if p
    )
    when = describe_delay(delay) if anonymous else "in a moment"
    return ok(f"Saved: {done} will appear {when}.")


# --- answers to buttons and commands ------------------------------------------------------------
def marked_done(action: Action) -> Reply:
    return ok(rich("✅ Marked done: ", Strong(action.description), ". Thank you for following through."))


def already_done(action: Action) -> Reply:
    return ok(rich("This action is already done: ", Strong(action.description), ". Nothing changed."))


def not_the_owner(action: Action) -> Reply:
    return error(
        rich("Only ", Mention(action.owner), " (its owner) or a Candor admin can mark this action done.")
    )


NO_ACTION = "This action no longer exists."


def open_actions(syntax: Syntax, actions: Sequence[Action], limit: int) -> Reply:
    if not actions:
        return ok("You have no open actions from failure reviews. 🎉")
    blocks: list[Block] = [Section(rich(Strong(f"Your open actions ({len(actions)})")))]
    for action in actions[:limit]:
        blocks += [
            Section(
                rich(
                    "☐ ",
                    action.description,
                    f" · due {day_text(action.due_on)} · review #{action.review_id} ",
                    Strong(action.title),
                )
            ),
            done_button(action),
        ]
    if len(actions) > limit:
        blocks.append(Context(rich(f"…and {len(actions) - limit} more, due later.")))
    return Reply(Message(tuple(blocks)))


def recent(syntax: Syntax, reviews: Sequence[Summary]) -> Reply:
    if not reviews:
        return ok(f"No failure reviews from this channel yet. {_review(syntax)} writes one.")
    lines: list[str | tuple[Span, ...]] = [rich(Strong("Recent failure reviews"))]
    for r in reviews:
        follow = f"actions {r.done}/{r.total} done" if r.total else "no action items"
        who = " · anonymous" if r.anonymous else ""
        lines.append(
            rich(
                f"#{r.id} ",
                Strong(r.title),
                f" · {day_text(r.published_on)}{who} · quality {r.quality} · {follow}",
            )
        )
    return ok(*lines)


@dataclass(frozen=True)
class Stats:
    reviews: int
    mean: float | None
    trend: tuple[float | None, ...]  # mean quality per 30-day third, oldest first
    outcomes: Outcomes


def stats(syntax: Syntax, figures: Stats) -> Reply:
    title = rich(Strong(f"Failure reviews in this channel, last {STATS_DAYS} days"))
    if not figures.reviews and not figures.outcomes.due:
        return ok(title, f"None yet. {_review(syntax)} writes one.")
    lines: list[str | tuple[Span, ...]] = [title, f"Reviews: {figures.reviews}."]
    if figures.mean is not None:
        trend = " → ".join("–" if m is None else f"{m:.0f}" for m in figures.trend)
        lines.append(f"Mean quality index: {figures.mean:.0f}/100 (by 30 days, oldest first: {trend}).")
    due, on_time = figures.outcomes.due, figures.outcomes.on_time
    if due:
        lines.append(
            f"Actions done on time: {on_time} of {due} that came due ({round(100 * on_time / due)}%)."
        )
    else:
        lines.append("Actions done on time: none came due yet.")
    lines.append("Team figures only: never per person.")
    return ok(*lines)
