"""Neutral messages to Block Kit, built with slack_sdk.models so Slack's limits are checked here."""

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


def _span(span: Span) -> str:
    if isinstance(span, Mention):
        # Only a well-formed id becomes a mention; anything else is shown as text.
        return f"<@{span.user}>" if _USER_ID.match(span.user) else escape("@" + span.user)
    if isinstance(span, ChannelRef):
        c = span.conversation
        return f"<#{c}>" if _CHANNEL_ID.match(c) else escape("#" + c)
    if isinstance(span, Strong):
        return f"*{escape(span.text)}*" if span.text.strip() else escape(span.text)
    assert isinstance(span, Plain)
    return escape(span.text)


def mrkdwn(spans: tuple[Span, ...]) -> str:
    return "".join(_span(s) for s in spans)


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
        pieces.extend(escape(ch) for ch in line)
    return _chunks(pieces, SECTION_LIMIT)


def _text_chunks(text: str) -> list[str]:
    # A section's text is limited; escaped text can outgrow its source, so split on characters.
    return _chunks(re.findall(r"&(?:amp|lt|gt);|.", text, re.DOTALL), SECTION_LIMIT)


def to_blocks(message: Message) -> list[Block]:
    blocks: list[Block] = []
    for block in message.blocks:
        if isinstance(block, Section):
            blocks += [
                SectionBlock(text=MarkdownTextObject(text=t, verbatim=True))
                for t in _text_chunks(mrkdwn(block.spans))
                if t
            ]
        elif isinstance(block, Quote):
            blocks += [
                SectionBlock(text=MarkdownTextObject(text=t, verbatim=True)) for t in _quote(block.text)
            ]
        elif isinstance(block, Context):
            blocks.append(
                ContextBlock(elements=[MarkdownTextObject(text=mrkdwn(block.spans)[:3000], verbatim=True)])
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
            return mrkdwn(block.spans)[:3000]
    return "Candor"


def message_payload(message: Message) -> dict[str, Any]:
    """`text` + `blocks` as chat.postMessage and a command's response take them (validated)."""
    return {
        "text": fallback_text(message),
        "blocks": [b.to_dict() for b in to_blocks(message)],
    }


def reply_payload(reply: Reply) -> dict[str, Any]:
    return {"response_type": "ephemeral", **message_payload(reply.message)}
