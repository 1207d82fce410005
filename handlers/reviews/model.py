"""What a review is made of, as the rules, the store and the views pass it around."""

from __future__ import annotations

import json
from dataclasses import dataclass

from handlers.reviews.ids import Criterion, Section

WRITTEN = (Section.HAPPENED, Section.IMPACT, Section.FACTORS, Section.LEARNED, Section.NEXT_TIME)


@dataclass(frozen=True)
class Sections:
    """The written parts of a review, cleaned; an optional part left empty is ""."""

    title: str
    happened: str
    impact: str
    factors: str
    learned: str
    next_time: str

    def text(self, section: Section) -> str:
        return str(getattr(self, section.value))

    def as_json(self) -> str:
        return json.dumps({s.value: self.text(s) for s in Section})

    @classmethod
    def from_json(cls, raw: str) -> Sections:
        data = json.loads(raw)
        return cls(**{s.value: str(data.get(s.value) or "") for s in Section})


@dataclass(frozen=True)
class ActionItem:
    """One action a review asks for, checked: a person (not a bot) and a date not yet passed."""

    description: str
    owner: str  # the platform's user id
    due_on: str  # ISO date, on the owner's calendar
    tz: str  # the owner's timezone, for reminders at 09:00 local


@dataclass(frozen=True)
class Part:
    """How one criterion of the rubric scored."""

    criterion: Criterion
    points: int
    weight: int
    raise_it: str  # what would raise it; "" when it scored in full


@dataclass(frozen=True)
class Quality:
    score: int  # 0-100
    parts: tuple[Part, ...]

    def missing(self) -> tuple[Part, ...]:
        """The criteria that did not score in full, the most points to gain first."""
        short = [p for p in self.parts if p.points < p.weight]
        return tuple(sorted(short, key=lambda p: p.points - p.weight))

    def as_json(self) -> str:
        return json.dumps([[p.criterion, p.points, p.weight, p.raise_it] for p in self.parts])

    @classmethod
    def from_json(cls, score: int, raw: str | None) -> Quality:
        parts = tuple(Part(Criterion(c), int(p), int(w), str(r)) for c, p, w, r in json.loads(raw or "[]"))
        return cls(score, parts)
