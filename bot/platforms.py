"""Which platforms this Candor serves: each one's `mount`, when its settings are present."""

from __future__ import annotations

from bot.config import Settings
from bot.platform import Mount


def mounts(settings: Settings) -> list[Mount]:
    from bot import slack  # imported here: a platform's SDK loads only when it is used

    found: list[Mount] = []
    if settings.slack_bot_token:
        found.append(slack.mount)
    return found
