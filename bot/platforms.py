"""Which platforms this Candor serves: each one's `mount`, when its settings are present."""

from __future__ import annotations

from bot.config import Settings
from bot.platform import Mount


def mounts(settings: Settings) -> list[Mount]:
    found: list[Mount] = []
    # Imported here: a platform's SDK loads only when it is used.
    if settings.slack_bot_token:
        from bot import slack

        found.append(slack.mount)
    if settings.teams_enabled:
        from bot import teams

        found.append(teams.mount)
    return found
