"""One descriptor per practice, and the registry that lists them.

A practice says here everything the runtime needs to know about it: its commands, buttons and
forms, the schedule kinds it fires, its periodic jobs, its lines in the help, which of its flows
an anonymous author uses, and what it keeps in the outbox. The server, the scheduler, the
adapters, the shell and the intro read the registry; nothing else needs to know a practice
exists. Adding a practice is one module that exports a `Practice`, plus one line in
handlers/registry.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from bot.messages import FormErrors, Reply
from handlers.context import Action, Command, Services, Submission
from handlers.home import HomeSource
from handlers.reporting import ReportSource
from handlers.schedules.store import Schedule

CommandHandler = Callable[[Command, Services], Awaitable[Reply]]
ActionHandler = Callable[[Action, Services], Awaitable[Reply]]
FormHandler = Callable[[Submission, Services], Awaitable[Reply | FormErrors]]
# What a schedule row of a kind does when it comes due, inside the scheduler's transaction:
# (tx, the schedule, the occurrence, now, services).
Firer = Callable[[Database, Schedule, float, float, Services], None]
# Forget what a practice keeps for a schedule that is being deleted: (tx, schedule id).
ScheduleCleanup = Callable[[Database, int], None]
# Whether a command, given the text typed after its name, is used by an anonymous author.
AnonymousUse = Callable[[str], bool]


@dataclass(frozen=True)
class PeriodicJob:
    """Work the scheduler runs every `every_s` seconds (and once at start, to catch up)."""

    name: str
    run: Callable[[Services], Awaitable[object]]
    every_s: float


@dataclass(frozen=True)
class HelpLine:
    """One line of the intro: a command, its arguments, what it does. Each platform writes the
    command its own way (Slack "/kudos stats", Teams "kudos stats")."""

    command: str
    args: str
    does: str


@dataclass(frozen=True)
class ScheduleKind:
    """A kind of `schedules` row a practice owns: what fires it, and how lists name it."""

    fire: Firer
    label: str  # e.g. "Coaching nudge"
    # Reaches its owner privately (listed for the owner wherever they ask), not a channel.
    personal: bool = False
    # A name read from the row (a check-in's template title); the label otherwise.
    title: Callable[[Schedule, Services], str] | None = None
    # The command that sets one up, shown when nothing is scheduled.
    how_to_add: HelpLine | None = None


@dataclass(frozen=True)
class Practice:
    name: str
    commands: Mapping[str, CommandHandler] = field(default_factory=dict)  # "kudos", no slash
    actions: Mapping[str, ActionHandler] = field(default_factory=dict)  # button action ids
    forms: Mapping[str, FormHandler] = field(default_factory=dict)  # form callback ids
    schedule_kinds: Mapping[str, ScheduleKind] = field(default_factory=dict)
    periodic: tuple[PeriodicJob, ...] = ()
    help: tuple[HelpLine, ...] = ()
    # Buttons and forms an anonymous author uses: their replays are caught in memory only.
    anonymous: frozenset[str] = frozenset()
    # Commands an anonymous author types: for each command name, whether the text after it is such
    # a use (speak-up: all but enable, disable, stats and help). A platform where others see what is
    # typed and answered (a Teams channel) runs these only in the person's own chat with Candor, and
    # remembers their deliveries in memory only.
    anonymous_commands: Mapping[str, AnonymousUse] = field(default_factory=dict)
    on_schedule_delete: ScheduleCleanup | None = None
    # (table, column) naming outbox rows that replies or edits may still need (retention keeps them).
    outbox_references: tuple[tuple[str, str], ...] = ()
    # Prefixes of `processed` keys that mark something done once ever (retention keeps them).
    permanent_keys: tuple[str, ...] = ()
    # Figures for the team report and the dashboard (handlers/reporting.py).
    report: ReportSource | None = None
    # What a person sees about themselves on their home (handlers/home.py).
    home: HomeSource | None = None


def _merge(practices: Iterable[Practice], what: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for practice in practices:
        for key, value in getattr(practice, what).items():
            if key in merged:
                raise ValueError(f"{what} {key!r} is claimed by two practices")
            merged[key] = value
    return merged


class Registry:
    """The practices Candor runs, and the tables the runtime reads from them."""

    def __init__(self, practices: Iterable[Practice]) -> None:
        self.practices = tuple(practices)
        self.commands: dict[str, CommandHandler] = _merge(self.practices, "commands")
        self.actions: dict[str, ActionHandler] = _merge(self.practices, "actions")
        self.forms: dict[str, FormHandler] = _merge(self.practices, "forms")
        self.schedule_kinds: dict[str, ScheduleKind] = _merge(self.practices, "schedule_kinds")
        self.periodic = tuple(job for p in self.practices for job in p.periodic)
        self.help = tuple(line for p in self.practices for line in p.help)
        self.anonymous = frozenset().union(*(p.anonymous for p in self.practices))
        self.anonymous_commands: dict[str, AnonymousUse] = _merge(self.practices, "anonymous_commands")
        self.outbox_references = tuple(ref for p in self.practices for ref in p.outbox_references)
        self.permanent_keys = tuple(key for p in self.practices for key in p.permanent_keys)
        self.reports = tuple(p.report for p in self.practices if p.report is not None)
        self.homes = tuple(p.home for p in self.practices if p.home is not None)

    def is_anonymous_command(self, name: str, text: str) -> bool:
        """Whether `name text` is typed by an anonymous author (see `Practice.anonymous_commands`)."""
        use = self.anonymous_commands.get(name)
        return use is not None and use(text)

    def fire(
        self, tx: Database, schedule: Schedule, occurrence: float, now: float, services: Services
    ) -> None:
        self.schedule_kinds[schedule.kind].fire(tx, schedule, occurrence, now, services)

    def schedule_title(self, schedule: Schedule, services: Services) -> str:
        kind = self.schedule_kinds.get(schedule.kind)
        if kind is None:
            return schedule.kind
        return kind.title(schedule, services) if kind.title else kind.label

    def schedule_kinds_where(self, *, personal: bool) -> tuple[str, ...]:
        """The kinds that reach a person privately (personal) or post in a channel."""
        return tuple(name for name, kind in self.schedule_kinds.items() if kind.personal == personal)

    def forget_schedule(self, tx: Database, schedule_id: int) -> None:
        """Let every practice drop what it keeps for a schedule, before the row goes."""
        for practice in self.practices:
            if practice.on_schedule_delete is not None:
                practice.on_schedule_delete(tx, schedule_id)
