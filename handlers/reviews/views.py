"""What failure reviews show: the forms with their guidance, the channel post, the owners' messages,
the digest and the answers, apart from the rules that choose them.

Nothing here names a platform: commands are written with the request's `Syntax`, people are
`Mention`s, and each adapter fits texts to its own limits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.messages import (
    Actions,
    Block,
    Button,
    ChannelRef,
    Choice,
    Context,
    Field,
    Form,
    Mention,
    Message,
    Quote,
    Reply,
    Section,
    Span,
    Strong,
    Values,
    error,
    ok,
    open_form,
    rich,
)
from handlers.anonymity import Delay, describe_delay
from handlers.context import Syntax
from handlers.practice import HelpLine
from handlers.reviews import ids
from handlers.reviews.blame import MAX_FINDINGS, Finding
from handlers.reviews.ids import ActionId, Commands, FieldId, FormId, RowPart, Verb, row_field
from handlers.reviews.model import Quality
from handlers.reviews.quality import SECTION_NAMES
from handlers.reviews.rules import (
    MAX_ACTION,
    MAX_ACTIONS,
    MAX_LINES_FIELD,
    MAX_SECTION,
    MAX_TITLE,
    MORE_ROWS,
    REMIND_AT_HOUR,
    REMIND_DAYS_BEFORE,
    STATS_DAYS,
)
from handlers.reviews.store import Action, Outcomes, Review, Summary
from handlers.text import Mentioned, plural

HELP = (
    HelpLine(Commands.REVIEW, "", "write a blameless failure review with action items that get done."),
    HelpLine(Commands.REVIEW, Verb.ACTIONS, "the review actions you own that are still open."),
)
GUIDANCE = {
    ids.Section.TITLE: "A short name for what went wrong, e.g. “Checkout errors after Tuesday's release”. "
    "Name the event, not a person.",
    ids.Section.HAPPENED: "The facts in order: what happened, when, and how it was noticed. "
    "Describe what was done, not who is to blame.",
    ids.Section.IMPACT: "Who or what was affected, how much and for how long.",
    ids.Section.FACTORS: "Process, tools, clarity of expectations, not people. What made the mistake "
    "easy to make, or hard to catch?",
    ids.Section.LEARNED: "What do we know now that we did not know before?",
    ids.Section.NEXT_TIME: "How can we do this better next time?",
}
OPTIONAL = (ids.Section.LEARNED, ids.Section.NEXT_TIME)
REMINDERS = (
    f"reminders {REMIND_DAYS_BEFORE} days before and on the due date, at {REMIND_AT_HOUR:02d}:00 in the "
    "owner's timezone"
)


def _review(syntax: Syntax, args: str = "") -> str:
    return syntax.command(Commands.REVIEW, args)


def day_text(iso: str | None) -> str:
    """2026-12-05 → "5 Dec 2026"."""
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%b %Y}"


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


# --- the review form ----------------------------------------------------------------------------
MAX_SEEN = 2 * MAX_FINDINGS  # blame findings a form remembers having shown


@dataclass(frozen=True)
class FormState:
    """What a form carries between its steps (Form.context): never stored."""

    conversation: str = ""  # the team's channel, where /review was run
    rows: int = 3
    seen: tuple[str, ...] = ()  # blame findings the author was shown (Finding.key)
    review: int | None = None  # the edit form: a named review's number
    code: str = ""  # the edit form: an anonymous review's case code

    def encode(self) -> str:
        return json.dumps(
            {
                "c": self.conversation,
                "r": self.rows,
                "s": list(self.seen),
                "id": self.review,
                "code": self.code,
            }
        )

    @classmethod
    def decode(cls, raw: str) -> FormState | None:
        """The state, or None for a context Candor did not write (an old or forged form)."""
        try:
            data = json.loads(raw)
            state = cls(
                conversation=str(data["c"]),
                rows=int(data["r"]),
                seen=tuple(str(s) for s in data["s"]),
                review=None if data.get("id") is None else int(data["id"]),
                code=str(data.get("code") or ""),
            )
        except (ValueError, TypeError, KeyError):
            return None
        if not 1 <= state.rows <= MAX_ACTIONS or len(state.conversation) > 64 or len(state.seen) > MAX_SEEN:
            return None
        return state


@dataclass(frozen=True)
class Filled:
    """What the person had entered, to show a form again as they left it."""

    values: Values = field(default_factory=dict)
    line_mentions: tuple[Mentioned, ...] = ()

    def text(self, field_id: str, limit: int) -> str | None:
        value = self.values.get(field_id)
        return value[:limit] if isinstance(value, str) and value else None

    def pick(self, field_id: str, pattern: str) -> str | None:
        value = self.values.get(field_id)
        return value if isinstance(value, str) and re.fullmatch(pattern, value) else None

    def day(self, field_id: str) -> str | None:
        """A date shown again only if it is one (a date picker refuses anything else)."""
        value = self.pick(field_id, r"\d{4}-\d{2}-\d{2}")
        try:
            return date.fromisoformat(value).isoformat() if value else None
        except ValueError:
            return None

    def ticked(self, field_id: str) -> tuple[str, ...] | None:
        value = self.values.get(field_id)
        return ("yes",) if isinstance(value, list) and "yes" in value else None


def _section_fields(filled: Filled) -> list[Field]:
    fields = []
    for section in ids.Section:
        limit = MAX_TITLE if section == ids.Section.TITLE else MAX_SECTION
        label = SECTION_NAMES[section] + (" (optional)" if section in OPTIONAL else "")
        fields.append(
            Field(
                section,
                label,
                "text" if section == ids.Section.TITLE else "multiline",
                initial=filled.text(section, limit),
                optional=section in OPTIONAL,
                hint=GUIDANCE[section],
                max_length=limit,
            )
        )
    return fields


def _row_fields(rows: int, filled: Filled) -> list[Field]:
    fields = []
    for row in range(1, rows + 1):
        first = row == 1
        what, owner, due = (row_field(row, p) for p in RowPart)
        fields += [
            Field(
                what,
                f"Action {row}: what will be done (optional)",
                "text",
                initial=filled.text(what, MAX_ACTION),
                optional=True,
                hint="Concrete and small enough to finish, e.g. “add a canary step to the deploy pipeline”."
                if first
                else None,
                max_length=MAX_ACTION,
            ),
            Field(
                owner,
                f"Action {row}: owner",
                "user",
                initial=filled.pick(owner, r"[^\s<>@]{1,64}"),
                optional=True,
                hint="The person who will do it. They get a message with a Mark done button."
                if first
                else None,
            ),
            Field(
                due,
                f"Action {row}: due date",
                "date",
                initial=filled.day(due),
                optional=True,
                hint=f"The owner is reminded {REMIND_DAYS_BEFORE} days before and on the due date, at "
                f"{REMIND_AT_HOUR:02d}:00 their time."
                if first
                else None,
            ),
        ]
    return fields


def new_form(
    *,
    channel: str,
    state: FormState,
    delay: Delay,
    filled: Filled | None = None,
    findings: Sequence[Finding] = (),
    suggestion: str = "",
    added_rows: bool = False,
) -> Reply:
    """The review form; shown again (as the person left it) with more rows, or with the gentle
    blame check before anything is published."""
    filled = filled or Filled()
    intro: list[Block] = []
    if findings:
        intro += _blame_notice(findings, suggestion)
    if added_rows:
        intro.append(Context(rich(f"Added {MORE_ROWS} action rows. Nothing is published yet.")))
    intro += [
        Section(
            rich(
                Strong("Blameless: "),
                "a review looks at the process, not at people. It is posted in ",
                ChannelRef(channel),
                " with a quality index from 0 to 100 and what would raise it.",
            )
        ),
    ]
    fields = [*_section_fields(filled), *_row_fields(state.rows, filled)]
    fields.append(
        Field(
            FieldId.LINES,
            "More action items, one per line (optional)",
            "text_with_mentions",
            initial=filled.text(FieldId.LINES, MAX_LINES_FIELD),
            initial_mentions=filled.line_mentions,
            optional=True,
            hint="@owner YYYY-MM-DD what will be done, e.g. @sam 2026-12-15 add a canary step. "
            f"Up to {MAX_ACTIONS} action items in all, with the rows above.",
        )
    )
    if state.rows < MAX_ACTIONS:
        fields.append(
            Field(
                FieldId.MORE_ROWS,
                "Need more rows?",
                "checkboxes",
                choices=(Choice("yes", f"Add {MORE_ROWS} more action rows (nothing is published yet)"),),
                optional=True,
            )
        )
    fields.append(
        Field(
            FieldId.ANONYMOUS,
            "Anonymous",
            "checkboxes",
            choices=(Choice("yes", "Publish without my name"),),
            initial=filled.ticked(FieldId.ANONYMOUS),
            optional=True,
            hint=anonymous_hint(delay),
        )
    )
    return open_form(
        Form(
            callback=FormId.NEW,
            title="Failure review",
            submit="Publish",
            fields=tuple(fields),
            intro=tuple(intro),
            context=state.encode(),
        )
    )


def anonymous_hint(delay: Delay) -> str:
    return (
        "Candor then keeps no trace of who wrote it: no user ID or name, and no time of writing. "
        f"It appears {describe_delay(delay)}. When you publish, the form shows a case code once: "
        "with it you can edit the review or add a follow-up. You cannot own an action yourself in an "
        "anonymous review."
    )


def _blame_notice(findings: Sequence[Finding], suggestion: str) -> list[Block]:
    found = "; ".join(f"“{f.words}” ({SECTION_NAMES[f.section]})" for f in findings)
    return [
        Section(
            rich(
                Strong("💬 A gentle check before this is published: "),
                f"some words may read as blaming a person: {found}.",
            )
        ),
        Context(rich(suggestion + " Reframe the text below, or press Publish to publish it as it is.")),
    ]


# --- the edit form ------------------------------------------------------------------------------
def edit_form(
    review: Review,
    actions: Sequence[Action],
    *,
    state: FormState,
    delay: Delay,
    filled: Filled | None = None,
    findings: Sequence[Finding] = (),
    suggestion: str = "",
) -> Reply:
    if filled is None:
        filled = Filled({s.value: review.sections.text(s) for s in ids.Section})
    done = sum(a.done for a in actions)
    published = review.post_outbox is not None
    status = (
        f"Published {day_text(review.published_on)}" if published else "Not published yet"
    ) + f" · quality index {review.quality}/100 · actions {done} of {len(actions)} done"
    intro: list[Block] = []
    if findings:
        intro += _blame_notice(findings, suggestion)
    intro.append(Section(rich(Strong(f"Review #{review.id}"), f" · {status}")))
    if review.anonymous:
        intro.append(Context(rich(f"Your changes and follow-up appear {describe_delay(delay)}.")))
    intro.append(Context(rich("Action items stay as they are: their owners mark them done.")))
    fields = [
        *_section_fields(filled),
        Field(
            FieldId.FOLLOW_UP,
            "A follow-up in the review's thread (optional)",
            "multiline",
            initial=filled.text(FieldId.FOLLOW_UP, MAX_SECTION),
            optional=True,
            hint="What changed since: a result, a new learning, a thank-you."
            + (" Posted as “Author”." if review.anonymous else " Posted under your name."),
            max_length=MAX_SECTION,
        ),
    ]
    return open_form(
        Form(
            callback=FormId.EDIT,
            title=f"Review #{review.id}",
            submit="Save",
            fields=tuple(fields),
            intro=tuple(intro),
            context=state.encode(),
        )
    )


# --- what the author is told --------------------------------------------------------------------
def _raise_lines(quality: Quality) -> list[str]:
    return [f"• {p.raise_it} (+{p.weight - p.points})" for p in quality.missing() if p.raise_it]


def published(channel: str, review_id: int, quality: Quality, owners: int) -> Reply:
    lines: list[str | tuple[Span, ...]] = [
        rich(Strong("Published."), f" Review #{review_id} is posted in ", ChannelRef(channel), "."),
        f"Quality index: {quality.score}/100.",
    ]
    raise_it = _raise_lines(quality)
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
    raise_it = _raise_lines(quality)
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


# --- in the reviews channel ---------------------------------------------------------------------
def _action_line(action: Action) -> tuple[Span, ...]:
    mark = "✅ " if action.done else "☐ "
    return rich(mark, action.description, " — ", Mention(action.owner), f", due {day_text(action.due_on)}")


def review_post(review: Review, actions: Sequence[Action]) -> Message:
    by = (
        rich("by a team member (anonymous)") if review.author is None else rich("by ", Mention(review.author))
    )
    blocks: list[Block] = [
        Section(rich(Strong(f"📝 Failure review #{review.id}: {review.title}"))),
        Context(
            rich(*by, " · from ", ChannelRef(review.conversation), f" · {day_text(review.published_on)}")
        ),
    ]
    sections = review.sections
    for section in ids.Section:
        text = sections.text(section)
        if section != ids.Section.TITLE and text:
            blocks += [Section(rich(Strong(SECTION_NAMES[section]))), Quote(text)]
    if actions:
        done = sum(a.done for a in actions)
        spans: list[Span] = [Strong("Action items"), *rich(f" · {done} of {len(actions)} done")]
        for action in actions:
            spans += [*rich("\n"), *_action_line(action)]
        blocks.append(Section(tuple(spans)))
    else:
        blocks.append(Section(rich(Strong("Action items"), " · none yet")))
    quality = review.scored
    blocks.append(Section(rich(Strong(f"Quality index: {quality.score}/100"))))
    raise_it = _raise_lines(quality)
    if raise_it:
        blocks.append(Context(rich("What would raise it:\n" + "\n".join(raise_it))))
    return Message(tuple(blocks))


def author_post(text: str, author: str | None) -> Message:
    who: Span = Strong("Author:") if author is None else Mention(author)
    head = rich(who) if author is None else rich(Strong("Follow-up from "), who)
    return Message((Section(head), Quote(text)))


# --- to action owners ---------------------------------------------------------------------------
def _from_review(action: Action) -> tuple[Span, ...]:
    by = rich(" by ", Mention(action.author)) if action.author else rich(" (anonymous)")
    return rich(" from the failure review ", Strong(action.title), *by)


def _done_button(action: Action) -> Actions:
    return Actions((Button("Mark done", ActionId.DONE, str(action.id), "primary"),))


def action_dm(action: Action) -> Message:
    """The owner's message about a new action; once done, it says so and the button goes."""
    if action.done:
        return Message(
            (
                Section(rich("✅ ", Strong("Done:"), " an action", *_from_review(action))),
                Quote(action.description),
            )
        )
    return Message(
        (
            Section(rich("📝 You own an action", *_from_review(action), ".")),
            Quote(action.description),
            Context(
                rich(
                    f"Due {day_text(action.due_on)} · reminders {REMIND_DAYS_BEFORE} days before and on "
                    f"the day, at {REMIND_AT_HOUR:02d}:00 your time · review #{action.review_id}"
                )
            ),
            _done_button(action),
        )
    )


def reminder_dm(action: Action, days_left: int) -> Message:
    when = "today" if days_left <= 0 else "tomorrow" if days_left == 1 else f"in {days_left} days"
    return Message(
        (
            Section(
                rich(
                    "⏰ ",
                    Strong("Reminder:"),
                    f" an action is due {when} ({day_text(action.due_on)})",
                    *_from_review(action),
                    ".",
                )
            ),
            Quote(action.description),
            _done_button(action),
        )
    )


def digest_post(overdue: Sequence[Action], more: int) -> Message:
    spans: list[Span] = [Strong(f"⏰ Overdue actions from failure reviews ({len(overdue) + more})")]
    for action in overdue:
        spans += rich(
            "\n• ",
            action.description,
            " — ",
            Mention(action.owner),
            f", due {day_text(action.due_on)} · review #{action.review_id} ",
            Strong(action.title),
        )
    if more:
        spans += rich(f"\n…and {more} more.")
    return Message(
        (
            Section(tuple(spans)),
            Context(
                rich(
                    "A nudge, not a scorecard: if an action no longer fits, say so in its review's thread. "
                    "Owners can mark an action done from the message they got."
                )
            ),
        )
    )


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
            _done_button(action),
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
