"""Neutral messages to Block Kit, built with slack_sdk.models so Slack's limits are checked here.

User text is escaped everywhere; the one thing made live in it is an http(s) address, shown as a
link whose label is the address itself.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.messages import (
    Actions,
    ChannelRef,
    Context,
    Divider,
    Mention,
    Message,
    Plain,
    Quote,
    Reply,
    Section,
    Span,
    Strong,
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
    return [escape(text[i : i + RUN]) for i in range(0, len(text), RUN)]


def text_pieces(text: str) -> list[str]:
    """User text as escaped pieces that may be split between: runs of plain text, and each
    http(s) address as one working link whose label is the address itself (never another)."""
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


def _quote(text: str) -> list[str]:
    pieces: list[str] = []
    for i, line in enumerate(text.splitlines() or [""]):
        pieces.append(("\n" if i else "") + "> ")
        pieces.extend(text_pieces(line))
    return _chunks(pieces, SECTION_LIMIT)


def _first_chunk(spans: tuple[Span, ...]) -> str:
    """As much as fits in one text object, cut between pieces (never inside a link or entity)."""
    return _chunks(_pieces(spans), SECTION_LIMIT)[0]


def to_blocks(message: Message) -> list[Block]:
    blocks: list[Block] = []
    for block in message.blocks:
        if isinstance(block, Section):
            blocks += [
                SectionBlock(text=MarkdownTextObject(text=t, verbatim=True))
                for t in _chunks(_pieces(block.spans), SECTION_LIMIT)
                if t
            ]
        elif isinstance(block, Quote):
            blocks += [
                SectionBlock(text=MarkdownTextObject(text=t, verbatim=True)) for t in _quote(block.text)
            ]
        elif isinstance(block, Context):
            blocks.append(
                ContextBlock(elements=[MarkdownTextObject(text=_first_chunk(block.spans), verbatim=True)])
            )
        elif isinstance(block, Divider):
            blocks.append(DividerBlock())
        elif isinstance(block, Actions):
            blocks.append(
                ActionsBlock(
                    elements=[
                        ButtonElement(
                            text=b.label[:75],
                            action_id=b.action_id,
                            value=b.value or None,
                            style=b.style,
                        )
                        for b in block.buttons
                    ]
                )
            )
    return blocks


def fallback_text(message: Message) -> str:
    """The notification text Slack shows where blocks are not rendered: the first section."""
    for block in message.blocks:
        if isinstance(block, Section):
            return _first_chunk(block.spans)
    return "Candor"


def message_payload(message: Message) -> dict[str, Any]:
    """`text` + `blocks` as chat.postMessage and a command's response take them (validated)."""
    return {
        "text": fallback_text(message),
        "blocks": [b.to_dict() for b in to_blocks(message)],
    }


def reply_payload(reply: Reply) -> dict[str, Any]:
    return {"response_type": "ephemeral", **message_payload(reply.message)}
