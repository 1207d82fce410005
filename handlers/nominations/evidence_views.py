"""What /nominate mine says, and the private message that carries an export or a share as a file."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.messages import (
    Actions,
    Block,
    Button,
    Choice,
    Context,
    Field,
    File,
    Form,
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
from handlers.context import Syntax
from handlers.nominations.evidence_model import Group, source_text
from handlers.nominations.ids import ActionId, Commands, ExportFormat, FieldId, FormId
from handlers.nominations.posts import short
from handlers.nominations.rules import MAX_SHOWN_BLOCKS, RESEND_AFTER_S, SHOWN_PER_GROUP
from handlers.text import plural

FORMAT_NAMES = {ExportFormat.MARKDOWN: "Markdown", ExportFormat.CSV: "CSV"}
FILE_NAMES = {ExportFormat.MARKDOWN: "evidence.md", ExportFormat.CSV: "evidence.csv"}
SHOWN_CHARS = 200


def _counted(groups: Sequence[Group]) -> str:
    items = [i for g in groups for i in g.items]
    nominations = sum(1 for i in items if i.award)
    return (
        f"{plural(nominations, 'nomination', 'nominations')} and "
        f"{plural(len(items) - nominations, 'kudos', 'kudos')}"
    )


def nothing_yet(syntax: Syntax) -> Reply:
    return ok(
        "You have no evidence yet. Kudos you receive, and nominations of you once their cycle closes, "
        "appear here.",
        f"{syntax.command(Commands.NOMINATE, 'status')} shows the cycles running now.",
    )


def mine(groups: Sequence[Group], day: Callable[[float], str]) -> Reply:
    """The person's own evidence, shortened to fit one message, with export and share buttons."""
    blocks: list[Block] = [
        Section(
            rich(
                Strong("Your evidence"),
                f": {_counted(groups)}, grouped by behaviour and level. Only you see this; export it "
                "for your next review, or share it with one person.",
            )
        )
    ]
    heading = None
    left_out = 0
    for group in groups:
        needed = 2 + 2 * min(len(group.items), SHOWN_PER_GROUP) + (group.heading != heading)
        if len(blocks) + needed > MAX_SHOWN_BLOCKS:
            left_out += len(group.items)
            continue
        if group.heading != heading:
            heading = group.heading
            blocks.append(Section(rich(Strong(group.heading))))
        blocks.append(
            Context(rich(Strong(group.level_label), f": {group.descriptor}" if group.descriptor else ""))
        )
        for item in group.items[:SHOWN_PER_GROUP]:
            by: tuple[str | Span, ...] = (" · from ", Mention(item.by)) if item.by else ()
            blocks.append(Quote(short(item.texts[0], SHOWN_CHARS)))
            blocks.append(Context(rich(f"{source_text(item)} · {day(item.when)}", *by)))
        left_out += max(0, len(group.items) - SHOWN_PER_GROUP)
    if left_out:
        blocks.append(Context(rich(f"…and {left_out} more, with every example in full, in the export.")))
    blocks.append(
        Actions(
            (
                Button("Export as Markdown", ActionId.EXPORT, ExportFormat.MARKDOWN),
                Button("Export as CSV", ActionId.EXPORT, ExportFormat.CSV),
                Button("Share with someone", ActionId.SHARE, "share"),
            )
        )
    )
    return Reply(Message(tuple(blocks)), private=True)


def unknown_format() -> Reply:
    return error("Pick Markdown or CSV.")


def export_message(text: str, fmt: ExportFormat, header: tuple[str | Span, ...]) -> Message:
    """The export as one private message: a file (the text as written, named for its format) with
    the header as its comment. Where a platform cannot send files, the text is quoted in the
    message with the name to save it under (bot/messages.py, `files_as_text`)."""
    return Message((Section(rich(*header)), File(FILE_NAMES[fmt], text, f"Evidence ({FORMAT_NAMES[fmt]})")))


def own_header(fmt: ExportFormat, groups: Sequence[Group]) -> tuple[str | Span, ...]:
    return (f"Your evidence as {FORMAT_NAMES[fmt]}: {_counted(groups)}.",)


def shared_header(user: str, fmt: ExportFormat, groups: Sequence[Group]) -> tuple[str | Span, ...]:
    return (
        Mention(user),
        f" shared their evidence with you, as {FORMAT_NAMES[fmt]}: {_counted(groups)}. Only you received it.",
    )


def exported(fmt: ExportFormat) -> Reply:
    return ok(f"Your evidence as {FORMAT_NAMES[fmt]} is on its way to you in a private message.")


def sent_already() -> Reply:
    return ok(
        f"That was sent a moment ago: check your private messages. The same again can be sent after "
        f"{RESEND_AFTER_S // 60} minutes."
    )


def share_form(groups: Sequence[Group]) -> Form:
    return Form(
        callback=FormId.SHARE,
        title="Share your evidence",
        submit="Share",
        intro=(
            Section(
                rich(
                    f"Send your evidence ({_counted(groups)}) to one person, for example your manager "
                    "before a review. They get a copy in a private message; nobody else does."
                )
            ),
        ),
        fields=(
            Field(FieldId.PERSON, "Share with", "user"),
            Field(
                FieldId.FORMAT,
                "As",
                "select",
                choices=tuple(Choice(f.value, FORMAT_NAMES[f]) for f in ExportFormat),
                initial=ExportFormat.MARKDOWN.value,
            ),
        ),
    )


def pick_someone() -> str:
    return "Pick the person to share it with."


def that_is_you() -> str:
    return "That is you: the Export buttons send you a copy."


def share_to_bot() -> str:
    return "Bots cannot receive your evidence. Pick a person."


def share_not_found() -> str:
    return "I could not find that person in this workspace."


def nothing_to_share() -> str:
    return "You have no evidence to share yet."


def shared_already() -> str:
    return (
        "You shared this with them a moment ago; the same again can be sent after "
        f"{RESEND_AFTER_S // 60} minutes."
    )


def shared(user: str, fmt: ExportFormat) -> Reply:
    return ok(rich("Your evidence is on its way to ", Mention(user), f" as {FORMAT_NAMES[fmt]}, privately."))
