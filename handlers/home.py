"""What a practice shows a person about themselves: their home (Slack's App Home tab, and
`/candor me` everywhere).

A practice sets `Practice.home`, a plain function of a read connection and a `HomeScope` that
returns sections about that one person (kudos they received, their open agreements, their
check-ins, their review actions), with the practice's own buttons under a line where they help.
The reports practice gathers every practice's sections; each adapter shows them its own way. Only
the person themselves sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlite_utils import Database

from bot.messages import Button, Span

if TYPE_CHECKING:  # the registry's type only: handlers.practice imports this module
    from handlers.practice import ScheduleKind


@dataclass(frozen=True)
class HomeScope:
    platform: str
    workspace: str
    user: str  # the platform's user id of the person looking
    now: float
    # Every practice's schedule kinds, by name (the registry's), so a section listing a person's
    # schedules can name each one's kind without importing the registry, which lists it.
    kinds: Mapping[str, ScheduleKind]


@dataclass(frozen=True)
class HomeSection:
    title: str  # e.g. "Kudos you received"
    lines: tuple[tuple[Span, ...], ...]  # one line each, people as Mention spans
    empty: str = "Nothing yet."  # shown when there are no lines
    # The buttons under each line, by position (lines past its end have none). Each is one of the
    # practice's own buttons, with the action id and value it has on the message that carries it,
    # so a press on the home runs the same flow (reviews' Mark done).
    buttons: tuple[tuple[Button, ...], ...] = ()

    def __post_init__(self) -> None:
        if len(self.buttons) > len(self.lines):
            raise ValueError("a home section has buttons for lines it does not have")


HomeSource = Callable[[Database, HomeScope], tuple[HomeSection, ...]]
