"""What Candor says when someone mentions it: a short, friendly pointer to the commands.

It knows no practice: its lines are the registry's help lines, each command written the
platform's own way.
"""

from __future__ import annotations

from enum import StrEnum

from sqlite_utils import Database

from bot import outbox
from bot.messages import Mention, Span, Strong, rich, text_message
from bot.outbox import Channel
from bot.store import claim_once
from handlers.context import Services


class Claim(StrEnum):
    """Prefixes of the `processed` keys the intro claims; the platform's delivery id follows."""

    MENTION = "mention:"  # one mention of Candor: a platform's retry gets no second intro


def intro_message(services: Services, platform: str, user: str) -> tuple[str | tuple[Span, ...], ...]:
    """A greeting and one line per command the practices list, written the platform's way."""
    syntax = services.syntax_for(platform)
    help_lines = services.registry.help
    lines = [f"{syntax.command(h.command, h.args)}: {h.does}" for h in help_lines]
    more = (
        (f"Add help to any of them for more, e.g. {syntax.command(help_lines[0].command, 'help')}.",)
        if help_lines
        else ()
    )
    return (rich("Hi ", Mention(user), "! I'm ", Strong("Candor"), ". Here is what I can do:"), *lines, *more)


async def answer_mention(
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

    def work(tx: Database) -> bool:
        if not claim_once(tx, f"{Claim.MENTION}{delivery_id}", now):
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

    return await services.store.run(work)
