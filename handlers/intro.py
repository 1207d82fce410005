"""What Candor says when someone mentions it: a short, friendly pointer to the commands."""

from __future__ import annotations

from bot import outbox
from bot.messages import Mention, Strong, rich, text_message
from bot.outbox import Channel
from bot.store import claim_once
from handlers.context import Services


def intro_message(services: Services, platform: str, user: str) -> tuple:
    """A greeting and one line per command the practices list, written the platform's way."""
    syntax = services.syntax_for(platform)
    lines = [f"{syntax.command(h.command, h.args)}: {h.does}" for h in services.registry.help]
    example = syntax.command("checkin", "help")
    return (
        rich("Hi ", Mention(user), "! I'm ", Strong("Candor"), ". Here is what I can do:"),
        *lines,
        f"Add help to any of them for more, e.g. {example}.",
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
            message=text_message(*intro_message(services, platform, user)),
            now=now,
        )
    return True
