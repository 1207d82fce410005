"""Platform-neutral messages: handlers build these, each adapter renders them.

User text only ever travels as `Plain`, `Strong` or `Quote` content, and every renderer escapes
those, so no handler can forget to escape: there is no way to hand a renderer raw markup. A `File`
is the one part sent as written: it is a file for the person to keep, never read as markup.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, Literal

from handlers.text import Mentioned


@dataclass(frozen=True)
class Plain:
    text: str


@dataclass(frozen=True)
class Strong:
    text: str


@dataclass(frozen=True)
class Mention:
    user: str  # the platform's own user id (Slack "U0456"), never a display name


@dataclass(frozen=True)
class ChannelRef:
    conversation: str  # the platform's channel id


Span = Plain | Strong | Mention | ChannelRef


@dataclass(frozen=True)
class Section:
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Quote:
    text: str


@dataclass(frozen=True)
class Context:
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str = ""
    style: str | None = None  # "primary" | "danger" | None


@dataclass(frozen=True)
class Actions:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class File:
    """A text file for the recipient to keep (an export): `name` is the file name to save it under,
    `title` what the platform shows above it. Where the platform can take a file (Slack) it is
    uploaded with the message's other blocks as its comment; elsewhere it is shown as its text,
    quoted, with the name to save it under (`files_as_text`). The content is sent as written: a
    file is not markup, so nothing in it is escaped."""

    name: str
    content: str
    title: str


Block = Section | Quote | Context | Divider | Actions | File


@dataclass(frozen=True)
class Message:
    blocks: tuple[Block, ...]

    @property
    def files(self) -> tuple[File, ...]:
        return tuple(b for b in self.blocks if isinstance(b, File))


# "text_with_mentions": multiline text in which people can be @mentioned; the adapter marks them
# (`Submission.mentions`), so a practice never has to guess people from the words.
FieldKind = Literal[
    "text",
    "multiline",
    "text_with_mentions",
    "select",
    "multi_select",
    "checkboxes",
    "time",
    "date",
    "channel",
    "user",
]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Field:
    """One input of a form; adapters render it as a modal input, a card input or a prompt."""

    id: str
    label: str
    kind: FieldKind = "text"
    choices: tuple[Choice, ...] = ()
    initial: str | tuple[str, ...] | None = None
    optional: bool = False
    hint: str | None = None
    max_length: int | None = None
    # text_with_mentions: the people marked in `initial`, each at its place (a form shown again).
    initial_mentions: tuple[Mentioned, ...] = ()


@dataclass(frozen=True)
class Form:
    """A dialog to fill in (a Slack modal); `context` comes back with the submission."""

    callback: str
    title: str
    submit: str
    fields: tuple[Field, ...]
    intro: tuple[Block, ...] = ()
    context: str = ""


Values = dict[str, str | list[str] | None]


@dataclass(frozen=True)
class Reply:
    """What the person who asked sees: an ephemeral message, or a form to open."""

    message: Message
    form: Form | None = None
    # Only the asker may read it (their own notes, evidence, agreements, a case record). Slack's
    # answers are ephemeral anyway; where everyone in the conversation would see an answer (a Teams
    # channel), the adapter shows it to the asker alone.
    private: bool = False


@dataclass(frozen=True)
class FormErrors:
    """A submission that was refused: one message per field id, shown next to the field."""

    errors: dict[str, str]


def open_form(form: Form) -> Reply:
    return Reply(Message(()), form=form)


def rich(*parts: str | Span) -> tuple[Span, ...]:
    """`rich("Thanks ", Mention("U1"), "!")`: plain strings become `Plain` spans."""
    return tuple([Plain(p) if isinstance(p, str) else p for p in parts])


def text_message(*lines: str | tuple[Span, ...]) -> Message:
    """One section per line; a line is plain text or a prepared tuple of spans."""
    return Message(tuple(Section(rich(line) if isinstance(line, str) else line) for line in lines))


def ok(*lines: str | tuple[Span, ...]) -> Reply:
    return Reply(text_message(*lines))


def only_you(*lines: str | tuple[Span, ...]) -> Reply:
    """An answer only the asker may read (see `Reply.private`)."""
    return Reply(text_message(*lines), private=True)


def privately(reply: Reply) -> Reply:
    """The same answer, for the asker's eyes only (see `Reply.private`)."""
    return replace(reply, private=True)


def error(*lines: str | tuple[Span, ...]) -> Reply:
    """A refusal: the same ephemeral shape as `ok`; the name says why a practice returns it."""
    return Reply(text_message(*lines))


# Each type's tag in a stored outbox payload. A row written before a deploy is read after it, so a
# tag never changes, even when its class is renamed; a new type gets a new tag.
_TAG_OF: dict[type, str] = {
    Plain: "plain",
    Strong: "strong",
    Mention: "mention",
    ChannelRef: "channel_ref",
    Section: "section",
    Quote: "quote",
    Context: "context",
    Divider: "divider",
    Button: "button",
    Actions: "actions",
    Message: "message",
    File: "file",
}
# Rows queued before the tags were stable carry the class names of that time; frozen here as text,
# so a rename cannot change what they mean.
_LEGACY_TAGS: dict[str, type] = {
    "Plain": Plain,
    "Strong": Strong,
    "Mention": Mention,
    "ChannelRef": ChannelRef,
    "Section": Section,
    "Quote": Quote,
    "Context": Context,
    "Divider": Divider,
    "Button": Button,
    "Actions": Actions,
    "Message": Message,
}
_TYPE_OF: dict[str, type] = {tag: cls for cls, tag in _TAG_OF.items()} | _LEGACY_TAGS
_FIELDS: dict[type, tuple[str, ...]] = {cls: tuple(f.name for f in fields(cls)) for cls in _TAG_OF}


# Field values stored as they are. Checked by exact type, so every command's two outbox payloads
# skip a call per text field (encoding was a twentieth of a /kudos).
_AS_IS: frozenset[type] = frozenset({str, int, float, bool, type(None)})


def encode(obj: Any) -> Any:
    """Turn a message into JSON-ready data (for the outbox), each part tagged with its stable name."""
    cls = type(obj)
    tag = _TAG_OF.get(cls)
    if tag is not None:
        data = {"t": tag}
        for name in _FIELDS[cls]:
            value = getattr(obj, name)
            data[name] = value if type(value) in _AS_IS else encode(value)
        return data
    if isinstance(obj, (tuple, list)):
        return [x if type(x) in _AS_IS else encode(x) for x in obj]
    if is_dataclass(obj):  # a new part without a tag would be stored under no name it can be read by
        raise TypeError(f"{cls.__name__} has no outbox tag: add one to bot/messages.py _TAG_OF")
    return obj


def decode(data: Any) -> Any:
    """The message `encode` made, also from rows queued under the old (class name) tags."""
    if isinstance(data, dict):
        cls = _TYPE_OF[data["t"]]
        return cls(**{k: decode(v) for k, v in data.items() if k != "t"})
    if isinstance(data, list):
        return tuple(decode(x) for x in data)
    return data


def file_as_text(file: File) -> tuple[Block, ...]:
    """A file where the platform cannot send one: its text, quoted, with the name to save it under."""
    return (
        Context((Plain(f"Copy the text below into a file named {file.name} to keep it."),)),
        Quote(file.content.rstrip("\n")),
    )


def files_as_text(message: Message) -> Message:
    """The message with each `File` shown as its text (`file_as_text`); the same message if it has
    none."""
    if not message.files:
        return message
    blocks: list[Block] = []
    for block in message.blocks:
        blocks.extend(file_as_text(block) if isinstance(block, File) else (block,))
    return Message(tuple(blocks))


def plain_text(message: Message, name_of: Any = None) -> str:
    """Render for a terminal or a notification preview: no markup, no escaping."""

    def span(s: Span) -> str:
        if isinstance(s, Mention):
            return "@" + (name_of(s.user) if name_of else s.user)
        if isinstance(s, ChannelRef):
            return s.conversation if s.conversation.startswith("#") else "#" + s.conversation
        return s.text

    lines: list[str] = []
    for block in files_as_text(message).blocks:
        if isinstance(block, (Section, Context)):
            lines.append("".join(span(s) for s in block.spans))
        elif isinstance(block, Quote):
            lines.extend("> " + line for line in block.text.splitlines() or [""])
        elif isinstance(block, Divider):
            lines.append("---")
        elif isinstance(block, Actions):
            lines.append("  ".join(f"[{b.label}]" for b in block.buttons))
    return "\n".join(lines)
