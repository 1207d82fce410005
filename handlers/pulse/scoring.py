"""Scoring a round: reverse the negatively worded items (8 - x), then average.

The team score is the mean, over answers, of each answer's mean of its seven scored items (every
answer has all seven, so this equals the mean of the seven item means). Item means are shown as
scored, so higher is safer on every line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handlers.pulse.content import ITEMS, SCALE

Answer = Sequence[int]  # seven answers, 1-7, in the survey's order


@dataclass(frozen=True)
class Result:
    answers: int
    score: float  # 1-7
    item_means: tuple[float, ...]  # seven, scored


def scored(answer: Answer, reversed_items: Sequence[int]) -> tuple[int, ...]:
    """An answer as scored: items numbered in `reversed_items` become 8 - x."""
    if len(answer) != ITEMS or not all(1 <= x <= SCALE for x in answer):
        raise ValueError("an answer is seven values from 1 to 7")
    return tuple(SCALE + 1 - x if n in reversed_items else x for n, x in enumerate(answer, start=1))


def score(answers: Sequence[Answer], reversed_items: Sequence[int]) -> Result | None:
    """The round's result, or None without answers. Rounded to 2 decimals, as stored and shown."""
    if not answers:
        return None
    rows = [scored(a, reversed_items) for a in answers]
    means = tuple(round(sum(r[i] for r in rows) / len(rows), 2) for i in range(ITEMS))
    team = sum(sum(r) / ITEMS for r in rows) / len(rows)
    return Result(len(rows), round(team, 2), means)


def combined(results: Sequence[tuple[int, float]]) -> float | None:
    """The score of several published rounds together: their scores weighted by their answers."""
    total = sum(n for n, _ in results)
    return round(sum(n * s for n, s in results) / total, 2) if total else None
