"""What check-ins look like: the forms, the prompt, the answers, the reminder, the replies.

Neutral messages and forms only; each adapter renders them and applies its platform's limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    Mention,
    Message,
    Quote,
    Reply,
    Section,
    Strong,
    ok,
    rich,
)
from handlers.catalog import CheckinTemplate
from handlers.checkins.ids import COMMAND, CUSTOM_TEMPLATE, CheckinAction, CheckinForm
from handlers.context import Syntax
from handlers.schedules.forms import When, schedule_fields
from handlers.timing import describe

MAX_ANSWER = 1000
MAX_CUSTOM = 500
MAX_SKIP_FIELD = 600
CLOSED = "This check-in is closed or was deleted."


@dataclass(frozen=True)
class Prompt:
    """What a check-in asks: a template's, or the creator's own question."""

    title: str
    intro: str
    questions: tuple[str, ...]


def usage(syntax: Syntax) -> Reply:
    def cmd(args: str = "") -> str:
        return syntax.command(COMMAND, args)

    return ok(
        rich(Strong("Check-ins: a regular prompt in a channel, answered in its thread")),
        f"{cmd()} opens a form: channel, days, local time, timezone and the prompt.",
        f"{cmd('add mon,thu 09:30 Europe/Berlin weekly')} is the same in one line "
        "(templates: weekly, retro, expectations).",
        f"{cmd('list')} shows this channel's schedules and your reminders.",
        f"{cmd('pause|resume|delete|run <id>')} changes one (its creator or an admin).",
        f"{cmd('remind')} sets recurring 1:1 reminders for you as a manager.",
    )


def add_usage(syntax: Syntax) -> str:
    return "Usage: " + syntax.command(
        COMMAND, "add mon,thu 09:30 [Europe/Berlin] [weekly|retro|expectations]"
    )


def create_form(conversation: str, tz: str | None, templates: Sequence[CheckinTemplate]) -> Form:
    choices = tuple(Choice(t.slug, t.title) for t in templates)
    return Form(
        callback=CheckinForm.CREATE,
        title="Schedule a check-in",
        submit="Schedule",
        fields=(
            *schedule_fields(conversation, tz),
            Field(
                "template",
                "Prompt",
                "select",
                choices=(*choices, Choice(CUSTOM_TEMPLATE, "My own text (below)")),
                initial=choices[0].value if choices else CUSTOM_TEMPLATE,
            ),
            Field("custom", "Your own prompt", "multiline", optional=True, max_length=MAX_CUSTOM),
            Field(
                "remind",
                "Reminder",
                "checkboxes",
                optional=True,
                choices=(Choice("yes", "Remind people who have not answered, once"),),
            ),
            Field(
                "skip",
                "Skip dates",
                "text",
                optional=True,
                max_length=MAX_SKIP_FIELD,
                hint="Holidays, as 2026-12-24, 2026-12-31",
            ),
        ),
    )


def scheduled(schedule_id: int, when: When, conversation: str, syntax: Syntax) -> Reply:
    return ok(
        rich(
            f"Check-in #{schedule_id} is scheduled: {describe(when.days, when.at, when.tz)}. ",
            "It will post in ",
            ChannelRef(conversation),
            f". {syntax.command(COMMAND, 'list')} shows it.",
        )
    )


def respond_button(ref: str) -> Button:
    return Button("Respond", CheckinAction.RESPOND, ref, "primary")


def prompt_message(prompt: Prompt, ref: str) -> Message:
    """The check-in as posted in the channel, with the button that opens the answer form."""
    blocks: list[Block] = [Section(rich(Strong(f"🗓️ {prompt.title}")))]
    if prompt.intro:
        blocks.append(Section(rich(prompt.intro)))
    blocks += [Section(rich(f"• {q}")) for q in prompt.questions]
    blocks.append(Actions((respond_button(ref),)))
    blocks.append(Context(rich("Answers are posted in this thread under your name.")))
    return Message(tuple(blocks))


def response_form(prompt: Prompt, before: Mapping[str, str], ref: str) -> Form:
    """One optional field per question, with the person's earlier answers filled in."""
    return Form(
        callback=CheckinForm.RESPONSE,
        title=prompt.title,
        submit="Post answers",
        fields=tuple(
            Field(f"q{i}", q, "multiline", optional=True, max_length=MAX_ANSWER, initial=before.get(f"q{i}"))
            for i, q in enumerate(prompt.questions)
        ),
        context=ref,
    )


def answers_message(user: str, prompt: Prompt, answers: Mapping[str, str], *, updated: bool) -> Message:
    """A person's answers in the prompt's thread; unanswered questions are left out."""
    heading = "Updated answers from " if updated else "Answers from "
    blocks: list[Block] = [Section(rich(heading, Mention(user)))]
    for i, question in enumerate(prompt.questions):
        if f"q{i}" in answers:
            blocks += [Section(rich(Strong(question))), Quote(answers[f"q{i}"])]
    return Message(tuple(blocks))


def reminder_message(prompt: Prompt, ref: str) -> Message:
    return Message(
        (
            Section(rich("A gentle reminder: the ", Strong(prompt.title), " is open.")),
            Actions((respond_button(ref),)),
            Context(rich("You get this once per check-in. A short answer is fine.")),
        )
    )
