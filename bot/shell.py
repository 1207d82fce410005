"""`candor shell`: try Candor in a terminal with no workspace, on the embedded SQLite file.

Each line is a slash command run through the real practices and outbox; posts are printed.
"""

from __future__ import annotations

import asyncio
import re
import sys
from typing import TextIO

from bot.clock import SystemClock
from bot.config import Settings
from bot.messages import Reply, plain_text
from bot.outbox import Dispatcher, OutboxItem, SendOutcome
from bot.store import open_store
from handlers.catalog import load_catalog
from handlers.context import Command, PersonInfo, Services
from handlers.registry import COMMANDS

PLATFORM = "shell"
WORKSPACE = "local"
BOTS = frozenset({"candor", "slackbot"})
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
_MENTION = re.compile(r"^@([a-z0-9][a-z0-9._-]{0,39})$", re.IGNORECASE)

HELP = """\
candor shell: type commands as you would in Slack.
  /as NAME         act as another person (now: {user})
  /in CHANNEL      post from another channel (now: #{channel})
  {commands}
  /help            this text
  /quit            leave (Ctrl-D works too)"""


class ShellPeople:
    """Everyone with a plausible name exists; a few names are bots."""

    platform = PLATFORM

    def parse_mention(self, token: str) -> str | None:
        match = _MENTION.match(token)
        return match.group(1).lower() if match else None

    async def lookup(self, user: str) -> PersonInfo | None:
        return PersonInfo(user=user, name=user, is_bot=user in BOTS)


class PrintSender:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def send(self, item: OutboxItem) -> SendOutcome:
        where = (
            item.conversation if _is_channel(item.conversation) else f"DM to {item.conversation}"
        )
        body = plain_text(item.message)
        self.out.write(f"[{where}] " + body.replace("\n", "\n    ") + "\n")
        return SendOutcome("sent", ref=str(item.id))


def _is_channel(conversation: str) -> bool:
    return conversation.startswith("#")


class Shell:
    def __init__(self, settings: Settings, out: TextIO) -> None:
        self.out = out
        self.user = "alice"
        self.channel = "general"
        self.store = open_store(settings.db_path)
        clock = SystemClock()
        self.services = Services(
            store=self.store,
            people=ShellPeople(),
            clock=clock,
            settings=settings,
            catalog=load_catalog(settings.data_dir),
        )
        self.dispatcher = Dispatcher(
            self.store, {PLATFORM: PrintSender(out)}, clock, min_interval=0.0
        )

    def say(self, text: str) -> None:
        self.out.write(text + "\n")

    def help(self) -> str:
        commands = "\n  ".join(f"{name} help" for name in COMMANDS)
        return HELP.format(user=self.user, channel=self.channel, commands=commands)

    async def handle_line(self, line: str) -> bool:
        """Run one line; False when the user asked to leave."""
        line = line.strip()
        if not line:
            return True
        name, _, rest = line.partition(" ")
        name = name.lower()
        if name in ("/quit", "/exit"):
            return False
        if name == "/help":
            self.say(self.help())
        elif name == "/as":
            self._switch_user(rest.strip().lstrip("@").lower())
        elif name == "/in":
            self._switch_channel(rest.strip().lstrip("#").lower())
        elif name in COMMANDS:
            cmd = Command(
                platform=PLATFORM,
                workspace=WORKSPACE,
                user=self.user,
                conversation="#" + self.channel,
                text=rest,
            )
            reply = await COMMANDS[name](cmd, self.services)
            self._show_reply(reply)
            await self.dispatcher.drain()
        else:
            self.say(f"Unknown command {name[:40]!r}. Type /help.")
        return True

    def _switch_user(self, user: str) -> None:
        if not _NAME.match(user) or user in BOTS:
            self.say("Usage: /as NAME (letters, digits, . _ -), e.g. /as bob")
            return
        self.user = user
        self.say(f"You are now {user}.")

    def _switch_channel(self, channel: str) -> None:
        if not _NAME.match(channel):
            self.say("Usage: /in CHANNEL, e.g. /in team-alpha")
            return
        self.channel = channel
        self.say(f"You are now in #{channel}.")

    def _show_reply(self, reply: Reply) -> None:
        body = plain_text(reply.message).replace("\n", "\n    ")
        self.say(f"(only you) {body}")

    async def run(self, stream: TextIO) -> None:
        interactive = stream.isatty()
        self.say(f"Candor shell on {self.services.settings.db_path}. Type /help.")
        loop = asyncio.get_running_loop()
        try:
            while True:
                if interactive:
                    self.out.write(f"{self.user}@#{self.channel}> ")
                    self.out.flush()
                line = await loop.run_in_executor(None, stream.readline)
                if not line or not await self.handle_line(line):
                    break
        finally:
            self.store.close()


def main(settings: Settings) -> int:
    asyncio.run(Shell(settings, sys.stdout).run(sys.stdin))
    return 0
