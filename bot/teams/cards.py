"""Neutral messages and forms as Adaptive Cards (schema 1.5) and Teams message text.

Everything people wrote is shown as `TextRun`s of a `RichTextBlock`, which Teams never reads as
markdown, so a typed `**`, `[label](address)` or `# heading` stays text. An http(s) address
becomes a run that opens that very address, labelled with itself. The Adaptive Card 1.5 schema
has no place for Teams' mention entities, so mentions in a card read "@Name" and notify no one;
a message whose first line names people puts that line in the activity's own text instead, as
HTML (`textFormat: xml`) where every piece of user text is escaped and the only `<at>` tags are
Candor's, each with its mention entity. A card stays under `MAX_CARD_BYTES`: the longest runs
are shortened first.

Forms become cards with inputs and an `Action.Submit`; they are shown in a Teams dialog (task
module). The submit button carries the form itself, so a refused submission comes back as the
same card with what the person entered and, under each field, what to fix.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from bot.messages import (
    Actions,
    Block,
    Button,
    ChannelRef,
    Choice,
    Context,
    Divider,
    Field,
    Form,
    Mention,
    Message,
    Plain,
    Quote,
    Section,
    Span,
    Strong,
    Values,
    decode,
    encode,
    plain_text,
)

VERSION = "1.5"
CARD = "application/vnd.microsoft.card.adaptive"
MAX_CARD_BYTES = 80 * 1024
MAX_TITLE = 100  # a button's or dialog's title
MAX_CHOICES = 100
_URL = re.compile(r"https?://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]}]", re.IGNORECASE)

Names = Mapping[str, str]  # user id -> display name, for "@Name"


# --- text ------------------------------------------------------------------------------------
def _runs(text: str, **style: Any) -> list[dict[str, Any]]:
    """User text as runs: plain runs, and each http(s) address as a run that opens itself."""
    runs: list[dict[str, Any]] = []
    done = 0
    for match in _URL.finditer(text):
        if match.start() > done:
            runs.append({"type": "TextRun", "text": text[done : match.start()], **style})
        address = match.group()
        runs.append(
            {
                "type": "TextRun",
                "text": address,
                **style,
                "selectAction": {"type": "Action.OpenUrl", "url": address},
            }
        )
        done = match.end()
    if done < len(text) or not runs:
        runs.append({"type": "TextRun", "text": text[done:], **style})
    return runs


def _name(names: Names, user: str) -> str:
    return " ".join((names.get(user) or "someone").split())


def _span_runs(span: Span, names: Names, **style: Any) -> list[dict[str, Any]]:
    if isinstance(span, Mention):
        return [{"type": "TextRun", "text": "@" + _name(names, span.user), **style, "weight": "bolder"}]
    if isinstance(span, ChannelRef):
        return [{"type": "TextRun", "text": names.get(span.conversation) or "this channel", **style}]
    if isinstance(span, Strong):
        return _runs(span.text, **style, weight="bolder")
    assert isinstance(span, Plain)
    return _runs(span.text, **style)


def _rich(spans: tuple[Span, ...], names: Names, **style: Any) -> dict[str, Any]:
    inlines = [run for span in spans for run in _span_runs(span, names, **style)]
    return {"type": "RichTextBlock", "inlines": inlines or [{"type": "TextRun", "text": " "}]}


def button_data(button: Button) -> dict[str, Any]:
    """What a press sends: Teams opens a dialog (task/fetch) and Candor answers with a card."""
    return {
        "msteams": {"type": "task/fetch"},
        "candor": "action",
        "action": button.action_id,
        "value": button.value,
    }


def _button(button: Button) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": button.label[:MAX_TITLE],
        "data": button_data(button),
    }
    if button.style == "primary":
        action["style"] = "positive"
    elif button.style == "danger":
        action["style"] = "destructive"
    return action


def _elements(blocks: tuple[Block, ...], names: Names) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    separate = False
    for block in blocks:
        element: dict[str, Any]
        if isinstance(block, Section):
            element = _rich(block.spans, names)
        elif isinstance(block, Quote):
            element = {
                "type": "Container",
                "style": "emphasis",
                "items": [{"type": "RichTextBlock", "inlines": _runs(block.text or " ", italic=True)}],
            }
        elif isinstance(block, Context):
            element = _rich(block.spans, names, isSubtle=True, size="small")
        elif isinstance(block, Divider):
            separate = True
            continue
        elif isinstance(block, Actions):
            element = {"type": "ActionSet", "actions": [_button(b) for b in block.buttons]}
        else:
            continue
        if separate:
            element["separator"] = True
            separate = False
        body.append(element)
    return body


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "AdaptiveCard", "version": VERSION, "body": body}
    if actions:
        card["actions"] = actions
    return fit(card)


def size_of(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode())


def fit(card: dict[str, Any], limit: int = MAX_CARD_BYTES) -> dict[str, Any]:
    """Shorten the longest runs until the card is under `limit` bytes (Teams refuses big cards)."""
    for _ in range(200):
        over = size_of(card) - limit
        if over <= 0:
            return card
        runs = [r for r in _all_runs(card) if len(r["text"]) > 40]
        if not runs:
            break
        longest = max(runs, key=lambda r: len(r["text"]))
        keep = max(20, len(longest["text"]) - over - 200, len(longest["text"]) // 2)
        longest["text"] = longest["text"][:keep].rstrip() + "… (shortened)"
    return card


def _all_runs(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "TextRun" and isinstance(node.get("text"), str):
            found.append(node)
        for value in node.values():
            found += _all_runs(value)
    elif isinstance(node, list):
        for value in node:
            found += _all_runs(value)
    return found


# --- messages --------------------------------------------------------------------------------
# A quoted file's text (an export) longer than one card holds is sent as several messages, each
# with a part of it, rather than shortened: the text is what the person asked for.
QUOTE_PART_BYTES = 60 * 1024  # of JSON-encoded text per part: room for the card around it
MAX_PARTS = 20  # ~1.2 MB of text; past that the last part is shortened, and says so


def in_parts(message: Message) -> list[Message]:
    """`message` as the messages that carry all of it: itself, unless its longest quote is over
    QUOTE_PART_BYTES. Then the first part holds what comes before the quote, the last what comes
    after, and each says which part it is. Line breaks are kept; a line longer than a part is cut."""
    quotes = [i for i, b in enumerate(message.blocks) if isinstance(b, Quote)]
    if not quotes:
        return [message]
    at = max(quotes, key=lambda i: _encoded(_quote_text(message.blocks[i])))
    chunks = _chunks(_quote_text(message.blocks[at]))
    if len(chunks) == 1:
        return [message]
    if len(chunks) > MAX_PARTS:  # the last part takes the rest, and `fit` shortens it
        chunks = [*chunks[: MAX_PARTS - 1], "".join(chunks[MAX_PARTS - 1 :])]
    before, after, n = message.blocks[:at], message.blocks[at + 1 :], len(chunks)
    parts: list[Message] = []
    for number, chunk in enumerate(chunks, 1):
        label = Context((Plain(f"Part {number} of {n}" + (", continued." if number > 1 else ".")),))
        blocks: tuple[Block, ...] = (label, Quote(chunk))  # joined, the parts give the text back
        if number == 1:
            blocks = (*before, *blocks)
        if number == n:
            blocks = (*blocks, *after)
        parts.append(Message(blocks))
    return parts


def _quote_text(block: Block) -> str:
    return block.text if isinstance(block, Quote) else ""


def _encoded(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False).encode())


def _chunks(text: str) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        encoded = _encoded(line)
        while encoded > QUOTE_PART_BYTES:  # one huge line: cut it
            cut = len(line) * QUOTE_PART_BYTES // encoded
            if current:
                chunks.append("".join(current))
                current, size = [], 0
            chunks.append(line[:cut])
            line = line[cut:]
            encoded = _encoded(line)
        if current and size + encoded > QUOTE_PART_BYTES:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(line)
        size += encoded
    if current:
        chunks.append("".join(current))
    return chunks or [""]


def message_card(message: Message, names: Names) -> dict[str, Any]:
    return _card(_elements(message.blocks, names))


def _xml_line(spans: tuple[Span, ...], names: Names) -> tuple[str, list[dict[str, Any]]]:
    """A line as Teams message HTML: user text escaped, mentions as <at> with their entities."""
    parts: list[str] = []
    entities: list[dict[str, Any]] = []
    for span in spans:
        if isinstance(span, Mention):
            tag = f"<at>{html.escape(_name(names, span.user), quote=False)}</at>"
            parts.append(tag)
            entities.append(
                {
                    "type": "mention",
                    "text": tag,
                    "mentioned": {"id": span.user, "name": _name(names, span.user)},
                }
            )
        elif isinstance(span, Strong):
            parts.append(f"<b>{html.escape(span.text, quote=False)}</b>")
        elif isinstance(span, ChannelRef):
            parts.append(html.escape(names.get(span.conversation) or "this channel", quote=False))
        else:
            parts.append(html.escape(span.text, quote=False))
    return "".join(parts), entities


def activity_parts(message: Message, names: Names, *, notify: bool = True) -> dict[str, Any]:
    """The fields of a message activity: `text` and mention `entities` when the first line names
    people and they should be notified (a post, not the answer to whoever asked), and the rest
    as an Adaptive Card attachment."""
    blocks = message.blocks
    fields: dict[str, Any] = {"summary": summary(message, names)}
    first = blocks[0] if blocks else None
    if notify and isinstance(first, Section) and any(isinstance(s, Mention) for s in first.spans):
        fields["text"], fields["entities"] = _xml_line(first.spans, names)
        fields["text_format"] = "xml"
        blocks = blocks[1:]
    if blocks:
        fields["attachments"] = [{"contentType": CARD, "content": message_card(Message(blocks), names)}]
    elif "text" not in fields:
        fields["text"] = " "
    return fields


def summary(message: Message, names: Names) -> str:
    """One line for notifications and previews."""
    text = plain_text(message, name_of=lambda user: _name(names, user))
    return (text.splitlines() or [""])[0][:200]


# --- forms -----------------------------------------------------------------------------------
def encode_form(form: Form) -> dict[str, Any]:
    data = asdict(form)
    data["intro"] = encode(form.intro)
    return data


def decode_form(data: Mapping[str, Any]) -> Form:
    fields = tuple(
        Field(
            **{
                **f,
                "choices": tuple(Choice(**c) for c in f.get("choices") or ()),
                "initial": tuple(f["initial"]) if isinstance(f.get("initial"), list) else f.get("initial"),
            }
        )
        for f in data.get("fields") or ()
    )
    return Form(
        callback=str(data["callback"]),
        title=str(data.get("title") or "Candor"),
        submit=str(data.get("submit") or "Send"),
        fields=fields,
        intro=tuple(decode(data.get("intro") or [])),
        context=str(data.get("context") or ""),
    )


MULTI = ("checkboxes", "multi_select")


def _initial(field: Field, values: Values | None) -> str | None:
    value: Any = values.get(field.id, field.initial) if values is not None else field.initial
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return None if value is None else str(value)


def _input(field: Field, choices: tuple[Choice, ...], value: str | None) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": field.id,
        "label": field.label[: MAX_TITLE * 10],
        "isRequired": not field.optional,
    }
    if field.kind in ("text", "multiline", "text_with_mentions"):
        # A card's text input cannot mark people: a text_with_mentions field is plain text here, so
        # the practice finds no people in it and says so (Submission.mentions stays empty).
        element = {**base, "type": "Input.Text", "isMultiline": field.kind != "text"}
        if field.max_length:
            element["maxLength"] = field.max_length
    elif field.kind == "time":
        element = {**base, "type": "Input.Time"}
    elif field.kind == "date":  # ISO YYYY-MM-DD both ways, like the other platforms' date pickers
        element = {**base, "type": "Input.Date"}
    else:
        element = {
            **base,
            "type": "Input.ChoiceSet",
            "choices": [{"title": c.label[: MAX_TITLE * 2], "value": c.value} for c in choices[:MAX_CHOICES]],
            "isMultiSelect": field.kind in MULTI,
            "style": "expanded" if field.kind == "checkboxes" else "compact",
        }
        known = {c.value for c in choices}
        if value is not None:
            value = ",".join(v for v in value.split(",") if v in known) or None
    if value is not None and value != "":
        element["value"] = value
    return element


def form_card(
    form: Form,
    names: Names,
    *,
    choices: Mapping[str, tuple[Choice, ...]] | None = None,
    values: Values | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The form as a card. `choices` lists the options of fields Teams has no picker for (a
    channel, a person); `values` and `errors` show a refused submission again."""
    body: list[dict[str, Any]] = [_rich((Strong(form.title),), names)]
    body += _elements(form.intro, names)
    if errors:
        body.append(
            _rich(
                (Plain("Nothing was saved yet. Please correct what is marked below."),),
                names,
                color="attention",
            )
        )
    for field in form.fields:
        body.append(_input(field, (choices or {}).get(field.id, field.choices), _initial(field, values)))
        if field.hint:
            body.append(_rich((Plain(field.hint),), names, isSubtle=True, size="small"))
        problem = (errors or {}).get(field.id)
        if problem:
            body.append(_rich((Plain(problem),), names, color="attention"))
    unplaced = [p for k, p in (errors or {}).items() if k not in {f.id for f in form.fields}]
    for problem in unplaced:
        body.append(_rich((Plain(problem),), names, color="attention"))
    submit = {
        "type": "Action.Submit",
        "title": form.submit[:MAX_TITLE],
        "style": "positive",
        "data": {"candor": "form", "form": encode_form(form)},
    }
    return _card(body, [submit])


def form_values(form: Form, submitted: Mapping[str, Any]) -> Values:
    """What a dialog sent back, as the practices read forms: lists for multi-choice fields,
    None for what was left empty."""
    values: Values = {}
    for field in form.fields:
        raw = submitted.get(field.id)
        if field.kind in MULTI:
            values[field.id] = [v for v in str(raw or "").split(",") if v]
        elif raw is None or str(raw) == "":
            values[field.id] = None
        else:
            values[field.id] = str(raw)
    return values


def opener_card(form: Form, data: dict[str, Any], names: Names, *, with_intro: bool = True) -> dict[str, Any]:
    """A form asked for in a message: its title (and its intro's first block, unless others see the
    card) and a button that opens it in a dialog."""
    body = [_rich((Strong(form.title),), names), *(_elements(form.intro[:1], names) if with_intro else [])]
    action = {
        "type": "Action.Submit",
        "title": "Open the form",
        "data": {"msteams": {"type": "task/fetch"}, **data},
    }
    return _card(body, [action])


PRIVATE_TITLE = "Only for you"
_PRIVATE_HERE = {
    True: "This answer is only for the person who asked, so it is not shown here. The button shows "
    "it to them in a window nobody else sees.",
    False: "The button shows this answer in a window, so that it is not kept in the chat's history.",
}


def private_card(data: dict[str, Any], *, shared: bool) -> dict[str, Any]:
    """Instead of an answer only its asker may read: a button that shows it to them in a dialog
    (bot/teams/private.py). `shared`: others in the conversation see the card."""
    body = [_rich((Strong(PRIVATE_TITLE),), {}), _rich((Plain(_PRIVATE_HERE[shared]),), {})]
    action = {
        "type": "Action.Submit",
        "title": "Show it to me",
        "data": {"msteams": {"type": "task/fetch"}, **data},
    }
    return _card(body, [action])


def dialog(title: str, card: dict[str, Any]) -> dict[str, Any]:
    """A task module answer that shows `card` in the dialog."""
    return {
        "task": {
            "type": "continue",
            "value": {
                "title": title[:MAX_TITLE],
                "width": "medium",
                "card": {"contentType": CARD, "content": card},
            },
        }
    }
