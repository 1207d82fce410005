"""Slash commands: how people write to Candor on Slack ("/kudos stats", "/invite @candor"), and
in the shell, which reads lines the way Slack sends them. Each adapter gives practices its own
`Syntax` (handlers/context.py) for help texts and errors; Teams has its own words
(bot/teams/adapter.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SlashSyntax:
    invite_hint: str = "type /invite @candor there"

    def command(self, name: str, args: str = "") -> str:
        return f"/{name} {args}".rstrip()
