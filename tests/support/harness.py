"""A practice without any platform: a stub directory, the real store and outbox, an injected clock.

Like zulip_bots' StubBotHandler, it lets a test call a practice the way an adapter would and read
what came back and what was queued, as a transcript, with no HTTP and no Slack. The real-HTTP
Slack tests (tests/support/candor.py) stay for the adapter and the end-to-end paths.

    h = Harness(tmp_path)
    reply = await h.command("kudos", "@bob #mentoring thanks", user="alice")
    assert h.posts() == [("#team", "🧭 @alice recognised @bob for Mentored someone\\n> thanks\\n…")]
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.config import Settings
from bot.messages import Form, FormErrors, Reply, Values, decode, plain_text
from bot.scheduler import FireReport, Scheduler
from bot.store import Store, open_store
from bot.syntax import SlashSyntax
from handlers.catalog import load_catalog
from handlers.context import Action, Command, PersonInfo, Services, Submission
from handlers.registry import REGISTRY
from handlers.schedules.store import Schedule
from handlers.text import Mentioned
from tests.support.clock import FakeClock
from tests.support.postgres import default_database

PLATFORM = "stub"
WORKSPACE = "W1"


@dataclass
class StubPeople:
    """A directory of people the test names; a channel's members are whoever the test says."""

    platform: str = PLATFORM
    people: dict[str, PersonInfo] = field(default_factory=dict)
    channels: dict[str, list[str]] = field(default_factory=dict)  # channel -> members
    outside: set[str] = field(default_factory=set)  # channels the bot is not in
    private: list[tuple[str, str]] = field(default_factory=list)  # (user, text) sent directly

    def add(self, user: str, **info: Any) -> None:
        self.people[user] = PersonInfo(user=user, name=info.pop("name", user), **info)

    async def lookup(self, user: str) -> PersonInfo | None:
        return self.people.get(user)

    async def bot_is_member(self, conversation: str) -> bool:
        return conversation not in self.outside

    async def members(self, conversation: str) -> list[str]:
        return list(self.channels.get(conversation, self.people))

    async def channel_name(self, conversation: str) -> str:
        return "#" + conversation

    async def send_private(self, user: str, message: Any) -> bool:
        self.private.append((user, plain_text(message)))
        return True


class Harness:
    def __init__(
        self,
        tmp_path: Path,
        clock: FakeClock | None = None,
        *,
        database: Path | str | None = None,
        **settings: Any,
    ) -> None:
        """`database`: a SQLite file (default: harness.db in tmp_path) or a PostgreSQL URL."""
        self.clock = clock or FakeClock()
        if database is None:
            database = default_database(tmp_path, "harness.db")
        url = database if isinstance(database, str) else ""
        path = database if isinstance(database, Path) else tmp_path / "harness.db"
        self.settings = Settings(db_path=path, database_url=url, **settings)
        self.store: Store = open_store(self.settings.database)
        self.people = StubPeople()
        for user in ("alice", "bob", "carol"):
            self.people.add(user, tz="Europe/Berlin")
        self.services = Services(
            store=self.store,
            clock=self.clock,
            settings=self.settings,
            catalog=load_catalog(self.settings.data_dir),
            registry=REGISTRY,
            directories={PLATFORM: self.people},
            syntaxes={PLATFORM: SlashSyntax()},  # help texts as the shell and Slack write them
        )
        self._deliveries = 0

    def close(self) -> None:
        self.store.close()

    # --- as an adapter ----------------------------------------------------------------------
    async def command(
        self,
        name: str,
        text: str = "",
        *,
        user: str = "alice",
        channel: str = "team",
        mentions: Sequence[tuple[str, str]] | None = None,
        delivery_id: str | None = None,
    ) -> Reply:
        """Run a command as an adapter would hand it over, with the people it mentions marked.

        By default a whole word @name naming a known person is a mention. `mentions` says instead
        which (shown text, user id) the platform marked, in order, e.g. a Teams mention
        `("@Carol Smith", "carol")`; each is found in `text` after the one before. A delivery id
        repeated is a platform's retry of one delivery.
        """
        if mentions is None:
            marked = tuple(
                Mentioned(user=word.group()[1:], text=word.group(), at=word.start())
                for word in re.finditer(r"\S+", text)
                if word.group().startswith("@") and word.group()[1:] in self.people.people
            )
        else:
            found: list[Mentioned] = []
            for shown, who in mentions:
                at = text.index(shown, found[-1].at + len(found[-1].text) if found else 0)
                found.append(Mentioned(user=who, text=shown, at=at))
            marked = tuple(found)
        self._deliveries += 1
        delivery = delivery_id or f"d{self._deliveries}"
        cmd = Command(PLATFORM, WORKSPACE, user, channel, text, delivery, marked)
        return await REGISTRY.commands[name](cmd, self.services)

    async def click(self, action_id: str, value: str, *, user: str = "alice", channel: str = "team") -> Reply:
        self._deliveries += 1
        action = Action(PLATFORM, WORKSPACE, user, channel, action_id, value, f"d{self._deliveries}")
        return await REGISTRY.actions[action_id](action, self.services)

    async def submit(self, form: Form, values: Values, *, user: str = "alice") -> Reply | FormErrors:
        """Submit a form as a person would: what they typed, the form's defaults for the rest.

        In a text_with_mentions field, a whole word @name naming a known person is marked as a
        mention, as `command` does."""
        filled: Values = {f.id: _initial(f.initial) for f in form.fields} | values
        mentions = {
            f.id: self._marked(str(filled.get(f.id) or ""))
            for f in form.fields
            if f.kind == "text_with_mentions"
        }
        sub = Submission(PLATFORM, WORKSPACE, user, form.callback, filled, form.context, mentions)
        return await REGISTRY.forms[form.callback](sub, self.services)

    def _marked(self, text: str) -> tuple[Mentioned, ...]:
        return tuple(
            Mentioned(user=word.group()[1:], text=word.group(), at=word.start())
            for word in re.finditer(r"\S+", text)
            if word.group().startswith("@") and word.group()[1:] in self.people.people
        )

    async def run_jobs(self) -> None:
        """Every practice's periodic work, as the scheduler would run it now."""
        for job in REGISTRY.periodic:
            await job.run(self.services)

    async def fire_schedules(self) -> FireReport:
        """Fire the schedules due now, as the scheduler's jobs would at this moment."""
        return await self.scheduler().fire_due()

    def scheduler(self) -> Scheduler:
        """The runtime's scheduler on this harness's store (its timers are never started)."""

        def fire(tx: Database, schedule: Schedule, occurrence: float, now: float) -> None:
            REGISTRY.fire(tx, schedule, occurrence, now, self.services)

        return Scheduler(self.store, self.clock, fire, grace_s=self.settings.schedule_grace_s)

    # --- what came out ----------------------------------------------------------------------
    def posts(self, *, pending_only: bool = False) -> list[tuple[str, str]]:
        """(where, text) of every queued post in order: "#channel" or "@person"."""
        where = "where status = 'pending'" if pending_only else ""
        rows = self.store.db.execute(
            f"select conversation, recipient, payload from outbox {where} order by id"
        ).fetchall()
        return [
            (("@" if kind == "person" else "#") + conversation, plain_text(decode(json.loads(payload))))
            for conversation, kind, payload in rows
        ]

    def count(self, table: str) -> int:
        return self.store.db.execute(f"select count(*) from {table}").fetchone()[0]


def text_of(reply: Reply | FormErrors) -> str:
    if isinstance(reply, FormErrors):
        return json.dumps(reply.errors)
    return plain_text(reply.message)


def _initial(initial: str | tuple[str, ...] | None) -> str | list[str] | None:
    return list(initial) if isinstance(initial, tuple) else initial
