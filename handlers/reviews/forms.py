"""The forms of failure reviews: writing one (guidance in each field, action rows and lines, the
anonymous box) and editing one, each shown again as it was left for the next step (more rows, the
gentle blame check).

What a form carries between its steps is its `FormState` (the form's context), never stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.messages import (
    Block,
    ChannelRef,
    Choice,
    Context,
    Field,
    Form,
    Reply,
    Section,
    Strong,
    Values,
    open_form,
    rich,
)
from handlers.anonymity import Delay, describe_delay
from handlers.reviews import ids
from handlers.reviews.blame import MAX_FINDINGS, Finding
from handlers.reviews.ids import FieldId, FormId, RowPart, row_field
from handlers.reviews.posts import day_text
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
)
from handlers.reviews.store import Action, Review
from handlers.text import Mentioned

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
