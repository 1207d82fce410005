"""Rendered messages as botbuilder `Activity` objects (the schema's own types, so they serialise
exactly as the connector expects)."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
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


async def post_new(context: TurnContext, activity: Activity) -> str | None:
    """Post `activity` as a new message of the turn's conversation, not as a reply. (In a
    proactive turn botbuilder would make it a reply to its own made-up continuation event.)"""
    reference = TurnContext.get_conversation_reference(context.activity)
    reference.activity_id = None
    TurnContext.apply_conversation_reference(activity, reference)
    [response] = await context.adapter.send_activities(context, [activity])
    return (response.id if response else None) or None


async def reply(context: TurnContext, activity: Activity) -> str | None:
    """Answer the turn's activity (in its thread, in a channel). Straight to the adapter: the
    turn context's own send deep-copies every activity first, a third of a millisecond per card."""
    TurnContext.apply_conversation_reference(
        activity, TurnContext.get_conversation_reference(context.activity)
    )
    [response] = await context.adapter.send_activities(context, [activity])
    return (response.id if response else None) or None
