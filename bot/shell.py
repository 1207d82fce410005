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
from pathlib import Path
from typing import TextIO

from bot.clock import SystemClock
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.messages import Actions, Field, Form, FormErrors, Message, Reply, Values, plain_text
from bot.outbox import OutboxItem, Person, SendOutcome
from bot.store import open_store
from bot.syntax import SlashSyntax
from handlers.catalog import load_catalog
from handlers.context import Action, Command, PersonInfo, Services, Submission
from handlers.registry import REGISTRY
from handlers.text import Mentioned

PLATFORM = "shell"
WORKSPACE = "local"
BOTS = frozenset({"candor", "slackbot"})
FIRST_USER = "alice"  # who you are until /as
ADMIN = "admin"  # in the shell, the person called admin is a workspace admin
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
_MENTION = re.compile(r"@([a-z0-9][a-z0-9._-]{0,39})", re.IGNORECASE)
_WORD = re.compile(r"\S+")

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


def typed_mentions(text: str) -> tuple[Mentioned, ...]:
    """The people a line mentions, read here as Slack's adapter reads its tokens: a terminal has
    no mention markup, so a mention is a whole typed word `@name` ("@bob," is text)."""
    return tuple(
        Mentioned(user=found.group(1).lower(), text=word.group(), at=word.start())
        for word in _WORD.finditer(text)
        if (found := _MENTION.fullmatch(word.group()))
    )


def render(message: Message) -> str:
    """The message as text, each button with how to press it. Block by block: several buttons with
    one label (a Mark done per action) each keep their own value."""
    lines = []
    for block in message.blocks:
        if isinstance(block, Actions):
            lines.append("  ".join(f"[{b.label} → /click {b.action_id} {b.value}]" for b in block.buttons))
        else:
            lines.append(plain_text(Message((block,))))
    return "\n".join(lines)


class PrintSender:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def send(self, item: OutboxItem) -> SendOutcome:
        where = f"DM to {item.to.id}" if isinstance(item.to, Person) else item.to.id
        if item.thread:
            where += " thread"
        self.out.write(f"[{where}] " + render(item.message).replace("\n", "\n    ") + "\n")
        return SendOutcome("sent", ref=str(item.id))


class Shell:
    """A prompt loop driven from the main thread; only the practices' work runs on the event loop.

    Reading input outside the loop is what lets Ctrl-C leave at once: a read blocked in an executor
    thread kept the process alive until Enter. With a terminal, `input()` gives readline's line
    editing and history.
    """

    def __init__(self, settings: Settings, stream: TextIO, out: TextIO, *, interactive: bool = False) -> None:
        self.stream = stream
        self.out = out
        self.interactive = interactive
        self.user = FIRST_USER
        self.channel = "general"
        self.store = open_store(settings.db_path)
        self.people = ShellPeople(out)
        self.people.seen[self.user] = None
        clock = SystemClock()
        self.services = Services(
            store=self.store,
            registry=REGISTRY,
            directories={PLATFORM: self.people},
            syntaxes={PLATFORM: SlashSyntax()},
            clock=clock,
            settings=settings,
            catalog=load_catalog(settings.data_dir),
        )
        self.dispatcher = Dispatcher(self.store, {PLATFORM: PrintSender(out)}, clock, min_interval=0.0)

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def read(self, prompt: str) -> str | None:
        """One line, or None at the end of input (Ctrl-D)."""
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                self.say("")
                return None
        line = self.stream.readline()
        return line.rstrip("\n") if line else None

    def help(self) -> str:
        commands = "\n  ".join(f"{'/' + name + ' help':<21} what /{name} does" for name in REGISTRY.commands)
        return HELP.format(user=self.user, channel=self.channel, commands=commands)

    async def handle_line(self, line: str) -> Form | bool:
        """Run one line: a form to fill in, else False when the user asked to leave."""
        line = line.strip()
        if not line:
            return True
        name, _, rest = line.partition(" ")
        name = name.lower()
        if name in ("/quit", "/exit"):
            return False
        reply: Reply | None = None
        if name == "/help":
            self.say(self.help())
        elif name == "/as":
            self._switch_user(rest.strip().lstrip("@").lower())
        elif name == "/in":
            self._switch_channel(rest.strip().lstrip("#").lower())
        elif name == "/click":
            reply = await self._click(rest.split())
        elif name.startswith("/") and name[1:] in REGISTRY.commands:
            cmd = Command(
                PLATFORM, WORKSPACE, self.user, "#" + self.channel, rest, mentions=typed_mentions(rest)
            )
            reply = await REGISTRY.commands[name[1:]](cmd, self.services)
        else:
            self.say(f"Unknown command {name[:40]!r}. Type /help.")
        return await self._show(reply) if reply else await self._settle()

    async def _click(self, words: list[str]) -> Reply | None:
        if len(words) != 2 or words[0] not in REGISTRY.actions:
            self.say("Usage: /click ACTION VALUE, as shown next to a button.")
            return None
        action = Action(PLATFORM, WORKSPACE, self.user, "#" + self.channel, words[0], words[1])
        return await REGISTRY.actions[words[0]](action, self.services)

    async def _show(self, reply: Reply) -> Form | bool:
        if reply.form is not None:
            return reply.form
        self.say("(only you) " + render(reply.message).replace("\n", "\n    "))
        return await self._settle()

    async def _settle(self) -> bool:
        # No scheduler runs here: do the practices' timed work that is due (a delayed speak-up
        # batch, a reminder), then print what was posted.
        for job in REGISTRY.periodic:
            await job.run(self.services)
        await self.dispatcher.drain()
        return True

    async def _submit(self, form: Form, values: Values) -> Reply | FormErrors:
        # People typed as @name in a text_with_mentions field are marked, as Slack marks them.
        mentions = {
            f.id: typed_mentions(str(values.get(f.id) or ""))
            for f in form.fields
            if f.kind == "text_with_mentions"
        }
        sub = Submission(PLATFORM, WORKSPACE, self.user, form.callback, values, form.context, mentions)
        return await REGISTRY.forms[form.callback](sub, self.services)

    def fill(self, form: Form, runner: asyncio.Runner) -> None:
        """A form as prompts, Enter keeps the default and a lone '.' cancels. After a refusal only
        the fields that were wrong are asked again; the other answers are kept. A form answered
        with another form (a next step) goes on with that one."""
        next_form: Form | None = form
        while next_form is not None:
            next_form = self._fill_one(next_form, runner)

    def _fill_one(self, form: Form, runner: asyncio.Runner) -> Form | None:
        self.say(f"== {form.title} == (Enter keeps [the default]; '.' cancels)")
        if form.intro:
            self.say("   " + render(Message(form.intro)).replace("\n", "\n   "))
        values: Values = {}
        asking = list(form.fields)
        while True:
            for field in asking:
                if field.hint:  # the guidance a modal shows under the field
                    self.say(f"   ({field.hint})")
                answer = self.read(self._prompt(field, values.get(field.id)))
                if answer is None or answer.strip() == ".":
                    self.say("Cancelled; nothing was saved.")
                    return None
                values[field.id] = self._value(field, answer.strip(), values.get(field.id))
            result = runner.run(self._submit(form, values))
            if not isinstance(result, FormErrors):
                if result.form is not None:
                    if result.message.blocks:
                        self.say("(only you) " + render(result.message).replace("\n", "\n    "))
                    return result.form
                runner.run(self._show(result))
                return None
            labels = {f.id: f.label for f in form.fields}
            for field_id, problem in result.errors.items():
                self.say(f"(only you) {labels.get(field_id, field_id)}: {problem}")
            asking = [f for f in form.fields if f.id in result.errors]
            if not asking:  # nothing to correct here: the form cannot succeed as it is
                self.say("(only you) Nothing was saved.")
                return None
            self.say("(only you) Nothing was saved yet. Correct the answers above ('.' cancels).")

    def _prompt(self, field: Field, given: str | list[str] | None) -> str:
        choices = f" ({', '.join(c.value for c in field.choices)})" if field.choices else ""
        if given is not None:
            initial = given if isinstance(given, str) else ",".join(given)
        else:
            initial = field.initial if isinstance(field.initial, str) else ",".join(field.initial or ())
        if field.kind == "channel" and not initial:
            initial = "#" + self.channel
        default = f" [{initial}]" if initial else (" [optional]" if field.optional else "")
        return f"{field.label}{choices}{default}: "

    def _value(self, field: Field, answer: str, given: str | list[str] | None) -> str | list[str] | None:
        if not answer and given is not None:
            return given
        if field.kind == "channel":
            return "#" + (answer.lstrip("#").lower() or self.channel)
        if field.kind == "user":  # Enter keeps the person the form proposes (e.g. /nominate @bob)
            return answer.lstrip("@").lower() or (field.initial if isinstance(field.initial, str) else None)
        if not answer:
            if isinstance(field.initial, tuple):
                return list(field.initial)
            return field.initial
        if field.kind in ("checkboxes", "multi_select"):
            return [_choice(field, w) for w in re.split(r"[\s,]+", answer) if w]
        if field.kind == "select":
            return _choice(field, answer)
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

    def run(self) -> None:
        self.say(f"Candor shell on {shown_path(self.services.settings.db_path)}. Type /help.")
        try:
            with asyncio.Runner() as runner:
                while True:
                    line = self.read(f"{self.user}@#{self.channel}> ")
                    if line is None:
                        break
                    outcome = runner.run(self.handle_line(line))
                    if isinstance(outcome, Form):
                        self.fill(outcome, runner)
                        runner.run(self._settle())
                    elif not outcome:
                        break
        finally:
            self.store.close()


def _choice(field: Field, answer: str) -> str:
    """A typed choice: its value, its label, or a channel typed without its # ("hr" for "#hr")."""
    for choice in field.choices:
        if answer.lower() in (choice.value.lower(), choice.label.lower(), "#" + choice.value.lower()):
            return choice.value
        if choice.value.startswith("#") and "#" + answer.lower().lstrip("#") == choice.value.lower():
            return choice.value
    return answer


def shown_path(path: Path) -> str:
    """The database as the README names it: relative to where the shell was started, if inside it."""
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


SHELL_DB = Path("data") / "shell.db"


def for_the_shell(settings: Settings, env: Mapping[str, str]) -> Settings:
    """The shell keeps its own database (never mixed with `serve`'s), and, as no scheduler runs
    here, publishes speak-up and anonymous reviews at once, lets #general take concerns and posts
    failure reviews in #reviews, and lets alice (who you are at first) take a manager's steps,
    unless the environment says otherwise."""
    if not env.get("CANDOR_DB", "").strip():
        settings = replace(settings, db_path=SHELL_DB)
    if "CANDOR_SPEAKUP_DELAY" not in env:
        settings = replace(settings, speakup_delay_s=(0.0, 0.0))
    if "CANDOR_SPEAKUP_CHANNELS" not in env:
        settings = replace(settings, speakup_channels=frozenset({"#general"}))
    if "CANDOR_REVIEWS_CHANNEL" not in env:
        settings = replace(settings, reviews_channel="#reviews")
    if "CANDOR_MANAGERS" not in env:
        settings = replace(settings, managers=frozenset({FIRST_USER}))
    return settings


def main(settings: Settings) -> int:
    interactive = sys.stdin.isatty()
    if interactive:
        import readline  # noqa: F401  (imported for its effect: line editing and history for input())
    try:
        Shell(for_the_shell(settings, os.environ), sys.stdin, sys.stdout, interactive=interactive).run()
    except KeyboardInterrupt:
        print(file=sys.stdout)
        return 130
    return 0
