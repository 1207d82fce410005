"""What a practice shows a person about themselves: their home (Slack's App Home tab, and
`/candor me` everywhere).

A practice sets `Practice.home`, a plain function of a read connection and a `HomeScope` that
returns sections about that one person (kudos they received, their open agreements, their
check-ins). The reports practice gathers every practice's sections; each adapter shows them its
own way. Only the person themselves sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database

from bot.messages import Span


@dataclass(frozen=True)
class HomeScope:
    platform: str
    workspace: str
    user: str  # the platform's user id of the person looking
    now: float


@dataclass(frozen=True)
class HomeSection:
    title: str  # e.g. "Kudos you received"
    lines: tuple[tuple[Span, ...], ...]  # one line each, people as Mention spans
    empty: str = "Nothing yet."  # shown when there are no lines


HomeSource = Callable[[Database, HomeScope], tuple[HomeSection, ...]]
