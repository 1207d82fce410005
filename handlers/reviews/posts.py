"""What failure reviews post: the review in the reviews channel, follow-ups in its thread, the
owners' messages and reminders, the weekly overdue digest.

Nothing here names a platform: people are `Mention`s, and each adapter fits texts to its limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.messages import (
    Actions,
    Block,
    Button,
    ChannelRef,
    Context,
    Mention,
    Message,
    Quote,
    Section,
    Span,
    Strong,
    rich,
)
from handlers.reviews import ids
from handlers.reviews.ids import ActionId
from handlers.reviews.model import Quality
from handlers.reviews.quality import SECTION_NAMES
from handlers.reviews.rules import REMIND_AT_HOUR, REMIND_DAYS_BEFORE
from handlers.reviews.store import Action, Review


def day_text(iso: str | None) -> str:
    """2026-12-05 → "5 Dec 2026"."""
    if not iso:
        return ""
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%b %Y}"


def raise_lines(quality: Quality) -> list[str]:
    return [f"• {p.raise_it} (+{p.weight - p.points})" for p in quality.missing() if p.raise_it]


# --- in the reviews channel ---------------------------------------------------------------------
def _action_line(action: Action) -> tuple[Span, ...]:
    mark = "✅ " if action.done else "☐ "
    return rich(mark, action.description, " — ", Mention(action.owner), f", due {day_text(action.due_on)}")


def review_post(review: Review, actions: Sequence[Action]) -> Message:
    # An anonymous review keeps no place of writing (it could be the author's own chat with Candor).
    by = (
        rich("by a team member (anonymous)")
        if review.author is None
        else rich("by ", Mention(review.author), " · from ", ChannelRef(review.conversation))
    )
    blocks: list[Block] = [
        Section(rich(Strong(f"📝 Failure review #{review.id}: {review.title}"))),
        Context(rich(*by, f" · {day_text(review.published_on)}")),
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
    raise_it = raise_lines(quality)
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


def done_button(action: Action) -> Actions:
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
            done_button(action),
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
            done_button(action),
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
