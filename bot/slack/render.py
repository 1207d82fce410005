"""Neutral messages to Block Kit. Texts are cut to Slack's limits here, so sections, contexts and
dividers are plain dicts (building them through slack_sdk.models cost a tenth of a /kudos); buttons,
whose ids and values come from the practices, go through slack_sdk.models, which checks them.

User text is escaped everywhere; the one thing made live in it is an http(s) address, shown as a
link whose label is the address itself. A `File` is uploaded by the sender (bot/slack/sender.py)
with `comment_text` as its comment; where a message must be blocks (an edit, an answer), each file
is shown as its text.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.messages import (
    Actions,
    Button,
    ChannelRef,
    Context,
    Divider,
    File,
    Mention,
    Message,
    Plain,
    Quote,
    Reply,
    Section,
    Span,
    Strong,
    files_as_text,
)

SECTION_LIMIT = 3000
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


def escape(text: str) -> str:
    """Slack's three control characters, so typed `<!channel>` or `<@U…>` notify nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# An http(s) address in text people wrote: at the start or after a space or an opening bracket or
# quote (so a typed "<https://x|label>" stays text), up to a space or a character that would
# end or relabel a Slack link.
_URL = re.compile(r"(?<![^\s(\[{\"'])https?://[^\s<>|\"'`/]+[^\s<>|\"'`]*", re.IGNORECASE)
_TRAILING = ".,;:!?'\")]}*_~"
MAX_LINK = 2000


def _url_end(text: str, start: int, end: int) -> int:
    """Leave out trailing punctuation, and a closing bracket the address did not open."""
    while end > start and text[end - 1] in _TRAILING:
        closing = text[end - 1]
        opening = {")": "(", "]": "[", "}": "{"}.get(closing)
        if opening and text.count(opening, start, end) >= text.count(closing, start, end):
            break
        end -= 1
    return end


RUN = 256  # characters of plain text per piece: a text object is cut between pieces, at most


def _runs(text: str) -> list[str]:
    """Plain text as escaped pieces of at most RUN characters, so an entity is never cut in two
    and a long text still fills each text object nearly to its limit."""
    if len(text) <= RUN:
        return [escape(text)] if text else []
    return [escape(text[i : i + RUN]) for i in range(0, len(text), RUN)]


def text_pieces(text: str) -> list[str]:
    """User text as escaped pieces that may be split between: runs of plain text, and each
    http(s) address as one working link whose label is the address itself (never another)."""
    if "://" not in text:  # no address in it (most texts): no need to search for one
        return _runs(text)
    pieces: list[str] = []
    done = 0
    for match in _URL.finditer(text):
        end = _url_end(text, match.start(), match.end())
        address = text[match.start() : end]
        if address.endswith("://") or len(address) > MAX_LINK:
            continue
        pieces += _runs(text[done : match.start()])
        pieces.append(f"<{escape(address)}>")
        done = end
    pieces += _runs(text[done:])
    return pieces


def _span(span: Span) -> list[str]:
    if isinstance(span, Mention):
        # Only a well-formed id becomes a mention; anything else is shown as text.
        return [f"<@{span.user}>" if _USER_ID.match(span.user) else escape("@" + span.user)]
    if isinstance(span, ChannelRef):
        c = span.conversation
        return [f"<#{c}>" if _CHANNEL_ID.match(c) else escape("#" + c)]
    if isinstance(span, Strong):
        inner = text_pieces(span.text)
        return ["*", *inner, "*"] if span.text.strip() else inner
    assert isinstance(span, Plain)
    return text_pieces(span.text)


def _pieces(spans: tuple[Span, ...]) -> list[str]:
    return [piece for s in spans for piece in _span(s)]


def mrkdwn(spans: tuple[Span, ...]) -> str:
    return "".join(_pieces(spans))


def _chunks(pieces: list[str], limit: int) -> list[str]:
    """Pack escaped pieces into texts of at most `limit` characters without splitting a piece."""
    chunks, current = [], ""
    for piece in pieces:
        if current and len(current) + len(piece) > limit:
            chunks.append(current)
            current = ""
        current += piece
    if current or not chunks:
        chunks.append(current)
    return chunks


def _quote_pieces(text: str) -> list[str]:
    pieces: list[str] = []
    for i, line in enumerate(text.splitlines() or [""]):
        pieces.append(("\n" if i else "") + "> ")
        pieces.extend(text_pieces(line))
    return pieces


def _quote(text: str) -> list[str]:
    return _chunks(_quote_pieces(text), SECTION_LIMIT)


def _first_chunk(spans: tuple[Span, ...]) -> str:
    """As much as fits in one text object, cut between pieces (never inside a link or entity)."""
    return _chunks(_pieces(spans), SECTION_LIMIT)[0]


def _text(text: str) -> dict[str, Any]:
    return {"text": text, "type": "mrkdwn", "verbatim": True}


def _section(text: str) -> dict[str, Any]:
    return {"text": _text(text), "type": "section"}


def block_dicts(message: Message) -> list[dict[str, Any]]:
    """The message as Block Kit, as the Web API takes it."""
    blocks: list[dict[str, Any]] = []
    for block in files_as_text(message).blocks:
        if isinstance(block, Section):
            blocks += [_section(t) for t in _chunks(_pieces(block.spans), SECTION_LIMIT) if t]
        elif isinstance(block, Quote):
            blocks += [_section(t) for t in _quote(block.text)]
        elif isinstance(block, Context):
            blocks.append({"elements": [_text(_first_chunk(block.spans))], "type": "context"})
        elif isinstance(block, Divider):
            blocks.append({"type": "divider"})
        elif isinstance(block, Actions):
            blocks.append(_actions(block))
    return blocks


def _actions(block: Actions) -> dict[str, Any]:
    """The buttons as slack_sdk's ActionsBlock and ButtonElement would give them (the tests parse
    the dicts back into those models and validate them), refused on the limits the models check.
    The models themselves cost every check-in prompt a fifth of its send's time."""
    if len(block.buttons) > ActionsBlock.elements_max_length:
        raise SlackObjectFormationError(f"at most {ActionsBlock.elements_max_length} buttons in a block")
    return {"elements": [_button(b) for b in block.buttons], "type": "actions"}


def _button(button: Button) -> dict[str, Any]:
    if len(button.action_id) > ButtonElement.action_id_max_length:
        raise SlackObjectFormationError(f"action_id is longer than {ButtonElement.action_id_max_length}")
    if len(button.value or "") > ButtonElement.value_max_length:
        raise SlackObjectFormationError(f"value is longer than {ButtonElement.value_max_length}")
    if button.style not in (None, "primary", "danger"):
        raise SlackObjectFormationError(f"no button style {button.style!r}")
    label = button.label[: ButtonElement.text_max_length]
    element: dict[str, Any] = {
        "action_id": button.action_id,
        "text": {"emoji": True, "text": label, "type": "plain_text"},
        "type": "button",
    }
    if button.style:
        element["style"] = button.style
    if button.value:
        element["value"] = button.value
    return element


def to_blocks(message: Message) -> list[Block]:
    """The same blocks as slack_sdk models, for the views (modals, App Home) built with them."""
    return [b for b in (Block.parse(d) for d in block_dicts(message)) if b is not None]


def fallback_text(message: Message) -> str:
    """The notification text Slack shows where blocks are not rendered: the first section."""
    for block in message.blocks:
        if isinstance(block, Section):
            return _first_chunk(block.spans)
    return "Candor"


COMMENT_LIMIT = 4000  # a file's comment is a message's text; Candor's are a line or two


def comment_text(message: Message) -> str:
    """What goes with the message's files as their comment (files.completeUploadExternal's
    `initial_comment`, mrkdwn like a message's text): its sections, contexts and quotes, one a line,
    escaped as everywhere. Buttons have no place in a comment; the files are uploaded themselves."""
    pieces: list[str] = []
    for block in message.blocks:
        if isinstance(block, File | Divider | Actions):
            continue
        if pieces:
            pieces.append("\n")
        if isinstance(block, Quote):
            pieces += _quote_pieces(block.text)
        else:
            pieces += _pieces(block.spans)
    return _chunks(pieces, COMMENT_LIMIT)[0]


def message_payload(message: Message) -> dict[str, Any]:
    """`text` + `blocks` as chat.postMessage and a command's response take them."""
    return {
        "text": fallback_text(message),
        "blocks": block_dicts(message),
    }


def reply_payload(reply: Reply) -> dict[str, Any]:
    return {"response_type": "ephemeral", **message_payload(reply.message)}
