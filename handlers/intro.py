"""What Candor says when someone mentions it: a short, friendly pointer to the commands."""

from __future__ import annotations

from bot import outbox
from bot.messages import Mention, Strong, rich, text_message
from bot.outbox import Channel
from bot.store import claim_once
from handlers.context import Services

INTRO_LINES = (
    "/kudos @person #behaviour what they did: recognise a colleague for a behaviour you saw.",
    "/kudos stats: this channel's recognition by behaviour over the last 30 days.",
    "/checkin: schedule a regular check-in in a channel; /checkin help for more.",
    "/nudge: a coaching prompt for managers, now, weekly or on a channel schedule.",
)


def intro_message(user: str) -> tuple:
    return (
        rich("Hi ", Mention(user), "! I'm ", Strong("Candor"), ". Here is what I can do:"),
        *INTRO_LINES,
    )


def answer_mention(
    services: Services,
    *,
    platform: str,
    conversation: str,
    thread: str | None,
    user: str,
    delivery_id: str,
) -> bool:
    """Queue a reply in the thread; False when this delivery was already answered (a retry)."""
    now = services.clock.now()
    with services.store.transaction() as tx:
        if not claim_once(tx, f"mention:{delivery_id}", now):
            return False
        outbox.enqueue(
            tx,
            platform=platform,
            to=Channel(conversation),
            thread=thread,
            message=text_message(*intro_message(user)),
            now=now,
        )
    return True
