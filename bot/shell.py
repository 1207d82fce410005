"""`candor shell`: try Candor in a terminal with no workspace, on the embedded SQLite file.

Each line is a slash command run through the real practices and outbox; posts are printed.
Forms (Slack's modals) become prompts, one field at a time, and buttons can be pressed with
`/click ACTION VALUE`.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import TextIO

from bot.clock import SystemClock
from bot.config import Settings
from bot.messages import Actions, Field, Form, FormErrors, Message, Reply, plain_text
from bot.outbox import Dispatcher, OutboxItem, SendOutcome
from bot.store import open_store
from handlers.catalog import load_catalog
from handlers.context import Action, Command, PersonInfo, Services, Submission
from handlers.registry import ACTIONS, COMMANDS, FORMS

PLATFORM = "shell"
WORKSPACE = "local"
BOTS = frozenset({"candor", "slackbot"})
ADMIN = "admin"  # in the shell, the person called admin is a workspace admin
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
_MENTION = re.compile(r"^@([a-z0-9][a-z0-9._-]{0,39})$", re.IGNORECASE)

HELP = """\
candor shell: type commands as you would in Slack.
  /as NAME              act as another person (now: {user}); /as admin is a workspace admin
  /in CHANNEL           post from another channel (now: #{channel})
  /click ACTION VALUE   press a button shown as [Label → ACTION VALUE]
  {commands}
  /help                 this text
  /quit                 leave (Ctrl-D works too)"""


class ShellPeople:
    """Everyone with a plausible name exists; a few names are bots. Channels hold who was seen."""

    platform = PLATFORM

    def __init__(self, out: TextIO | None = None) -> None:
        self.seen: dict[str, None] = {}
        self.out = out

    def parse_mention(self, token: str) -> str | None:
        match = _MENTION.match(token)
        return match.group(1).lower() if match else None

    async def lookup(self, user: str) -> PersonInfo | None:
        return PersonInfo(
            user=user, name=user, is_bot=user in BOTS, is_platform_admin=user == ADMIN, tz="UTC"
        )

    async def bot_is_member(self, conversation: str) -> bool:
        return conversation.startswith("#")

    async def members(self, conversation: str) -> list[str]:
        return list(self.seen)

    async def channel_name(self, conversation: str) -> str:
        return conversation

    async def send_private(self, user: str, message: Message) -> bool:
        if self.out is None:
            return False
        self.out.write(f"[DM to {user}] " + render(message).replace("\n", "\n    ") + "\n")
        return True


def _is_channel(conversation: str) -> bool:
    return conversation.startswith("#")


def render(message: Message) -> str:
    text = plain_text(message)
    for block in message.blocks:  # show how to press each button
        if isinstance(block, Actions):
            labels = "  ".join(f"[{b.label}]" for b in block.buttons)
            how = "  ".join(f"[{b.label} → /click {b.action_id} {b.value}]" for b in block.buttons)
            text = text.replace(labels, how)
    return text


class PrintSender:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def send(self, item: OutboxItem) -> SendOutcome:
        where = item.conversation if _is_channel(item.conversation) else f"DM to {item.conversation}"
        if item.thread:
            where += " thread"
        self.out.write(f"[{where}] " + render(item.message).replace("\n", "\n    ") + "\n")
        return SendOutcome("sent", ref=str(item.id))


class Shell:
    def __init__(self, settings: Settings, stream: TextIO, out: TextIO) -> None:
        self.stream = stream
        self.out = out
        self.user = "alice"
        self.channel = "general"
        self.store = open_store(settings.db_path)
        self.people = ShellPeople(out)
        self.people.seen[self.user] = None
        clock = SystemClock()
        self.services = Services(
            store=self.store,
            people=self.people,
            clock=clock,
            settings=settings,
            catalog=load_catalog(settings.data_dir),
        )
        self.dispatcher = Dispatcher(self.store, {PLATFORM: PrintSender(out)}, clock, min_interval=0.0)

    def say(self, text: str) -> None:
        self.out.write(text + "\n")

    async def readline(self, prompt: str) -> str | None:
        if self.stream.isatty():
            self.out.write(prompt)
            self.out.flush()
        line = await asyncio.get_running_loop().run_in_executor(None, self.stream.readline)
        return line if line else None

    def help(self) -> str:
        commands = "\n  ".join(f"{name + ' help':<21} what {name} does" for name in COMMANDS)
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
        elif name == "/click":
            await self._click(rest.split())
        elif name in COMMANDS:
            cmd = Command(PLATFORM, WORKSPACE, self.user, "#" + self.channel, rest)
            await self._show(await COMMANDS[name](cmd, self.services))
        else:
            self.say(f"Unknown command {name[:40]!r}. Type /help.")
        await self.dispatcher.drain()
        return True

    async def _click(self, words: list[str]) -> None:
        if len(words) != 2 or words[0] not in ACTIONS:
            self.say("Usage: /click ACTION VALUE, as shown next to a button.")
            return
        action = Action(PLATFORM, WORKSPACE, self.user, "#" + self.channel, words[0], words[1])
        await self._show(await ACTIONS[words[0]](action, self.services))

    async def _show(self, reply: Reply) -> None:
        if reply.form is not None:
            await self._fill(reply.form)
            return
        self.say("(only you) " + render(reply.message).replace("\n", "\n    "))

    async def _fill(self, form: Form) -> None:
        """A form as prompts: Enter keeps the default; a lone '.' cancels."""
        self.say(f"== {form.title} == (Enter keeps [the default]; '.' cancels)")
        if form.intro:
            self.say("   " + render(Message(form.intro)).replace("\n", "\n   "))
        values: dict[str, str | list[str] | None] = {}
        for field in form.fields:
            answer = await self.readline(self._prompt(field))
            if answer is None or answer.strip() == ".":
                self.say("Cancelled; nothing was saved.")
                return
            values[field.id] = self._value(field, answer.strip())
        result = await FORMS[form.callback](
            Submission(PLATFORM, WORKSPACE, self.user, form.callback, values, form.context), self.services
        )
        if isinstance(result, FormErrors):
            for field_id, problem in result.errors.items():
                self.say(f"(only you) {field_id}: {problem}")
            self.say("(only you) Nothing was saved. Run the command again to retry.")
            return
        await self._show(result)

    def _prompt(self, field: Field) -> str:
        choices = f" ({', '.join(c.value for c in field.choices)})" if field.choices else ""
        initial = field.initial if isinstance(field.initial, str) else ",".join(field.initial or ())
        if field.kind == "channel":
            initial = self.channel
        default = f" [{initial}]" if initial else (" [optional]" if field.optional else "")
        return f"{field.label}{choices}{default}: "

    def _value(self, field: Field, answer: str) -> str | list[str] | None:
        if field.kind == "channel":
            return "#" + (answer.lstrip("#").lower() or self.channel)
        if field.kind == "user":
            return answer.lstrip("@").lower() or None
        if not answer:
            if isinstance(field.initial, tuple):
                return list(field.initial)
            return field.initial
        if field.kind in ("checkboxes", "multi_select"):
            return [w for w in re.split(r"[\s,]+", answer) if w]
        return answer.replace("\\n", "\n")

    def _switch_user(self, user: str) -> None:
        if not _NAME.match(user) or user in BOTS:
            self.say("Usage: /as NAME (letters, digits, . _ -), e.g. /as bob")
            return
        self.user = user
        self.people.seen[user] = None
        self.say(f"You are now {user}.")

    def _switch_channel(self, channel: str) -> None:
        if not _NAME.match(channel):
            self.say("Usage: /in CHANNEL, e.g. /in team-alpha")
            return
        self.channel = channel
        self.say(f"You are now in #{channel}.")

    async def run(self) -> None:
        self.say(f"Candor shell on {self.services.settings.db_path}. Type /help.")
        try:
            while True:
                line = await self.readline(f"{self.user}@#{self.channel}> ")
                if line is None or not await self.handle_line(line):
                    break
        finally:
            self.store.close()


def for_the_shell(settings: Settings, env: Mapping[str, str]) -> Settings:
    """No scheduler runs in the shell: publish speak-up at once and let #general take concerns,
    unless the environment says otherwise."""
    if "CANDOR_SPEAKUP_DELAY" not in env:
        settings = replace(settings, speakup_delay_s=(0.0, 0.0))
    if "CANDOR_SPEAKUP_CHANNELS" not in env:
        settings = replace(settings, speakup_channels=frozenset({"#general"}))
    return settings


def main(settings: Settings) -> int:
    asyncio.run(Shell(for_the_shell(settings, os.environ), sys.stdin, sys.stdout).run())
    return 0
