"""Rendered messages as botbuilder `Activity` objects (the schema's own types, so they serialise
exactly as the connector expects)."""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity, ActivityTypes, Attachment, ChannelAccount, Mention

from bot.teams.cards import CARD


def message_activity(parts: dict[str, Any]) -> Activity:
    """A message from `cards.activity_parts`: text, mention entities, card attachments."""
    fields = dict(parts)
    fields["attachments"] = [
        Attachment(content_type=a["contentType"], content=a["content"])
        for a in parts.get("attachments") or []
    ] or None
    fields["entities"] = [
        Mention(
            type="mention",
            text=e["text"],
            mentioned=ChannelAccount(id=e["mentioned"]["id"], name=e["mentioned"]["name"]),
        )
        for e in parts.get("entities") or []
    ] or None
    return Activity(type=ActivityTypes.message, **fields)


def card_activity(card: dict[str, Any], summary: str) -> Activity:
    return Activity(
        type=ActivityTypes.message, summary=summary, attachments=[Attachment(content_type=CARD, content=card)]
    )
