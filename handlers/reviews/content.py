"""The editable content behind failure reviews: the quality rubric and the blame check's words.

They live in data/review_rubric.yml and data/blame_words.yml, found in CANDOR_DATA_DIR like the
catalog's files; a data directory made before reviews existed falls back to the shipped ones.
Each file is read once per path and checked as a whole, so a mistake in it is one clear message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from bot.config import SHIPPED_DATA
from handlers.catalog import CatalogError
from handlers.reviews.ids import Criterion

RUBRIC_FILE = "review_rubric.yml"
BLAME_FILE = "blame_words.yml"
TOTAL_WEIGHT = 100


@dataclass(frozen=True)
class Rule:
    """One criterion of the quality index."""

    id: Criterion
    weight: int
    label: str
    raise_it: str  # what would raise it; {sections} and {examples} are filled in where they occur


@dataclass(frozen=True)
class Rubric:
    criteria: tuple[Rule, ...]
    min_words: int  # fewer words than this is a token answer
    token_phrases: frozenset[str]
    process_words: tuple[str, ...]

    def rule(self, criterion: Criterion) -> Rule:
        return next(r for r in self.criteria if r.id == criterion)


@dataclass(frozen=True)
class BlameWords:
    suggestion: str
    phrases: tuple[str, ...]
    people: tuple[str, ...]
    cause_words: tuple[str, ...]
    causes: tuple[str, ...]


@dataclass(frozen=True)
class Content:
    rubric: Rubric
    blame: BlameWords


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected a mapping at the top")
    return data


def _words(path: Path, data: dict, key: str) -> tuple[str, ...]:
    items = data.get(key)
    if not isinstance(items, list) or not items or not all(isinstance(w, str) and w.strip() for w in items):
        raise CatalogError(f"{path}: expected a non-empty list of words under {key!r}")
    return tuple(str(w).strip().lower() for w in items)


def _text(path: Path, data: dict, key: str, where: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{path}: {where}{key!r} needs text")
    return " ".join(value.split())


def load_rubric(path: Path) -> Rubric:
    data = _read(path)
    items = data.get("criteria")
    if not isinstance(items, list):
        raise CatalogError(f"{path}: expected a list under 'criteria'")
    rules = []
    for i, item in enumerate(items):
        where = f"criterion #{i + 1}: "
        if not isinstance(item, dict) or item.get("id") not in {c.value for c in Criterion}:
            raise CatalogError(f"{path}: {where}id must be one of {', '.join(c.value for c in Criterion)}")
        weight = item.get("weight")
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
            raise CatalogError(f"{path}: {where}weight must be a whole number of points, 0 or more")
        rules.append(
            Rule(
                Criterion(item["id"]),
                weight,
                _text(path, item, "label", where),
                _text(path, item, "raise", where),
            )
        )
    if sorted(r.id for r in rules) != sorted(Criterion):
        raise CatalogError(f"{path}: list each criterion once: {', '.join(c.value for c in Criterion)}")
    total = sum(r.weight for r in rules)
    if total != TOTAL_WEIGHT:
        raise CatalogError(f"{path}: the weights add up to {total}; they must add up to {TOTAL_WEIGHT}")
    token = data.get("token_answer")
    if not isinstance(token, dict):
        raise CatalogError(f"{path}: expected 'token_answer' with min_words and phrases")
    min_words = token.get("min_words")
    if not isinstance(min_words, int) or isinstance(min_words, bool) or not 1 <= min_words <= 50:
        raise CatalogError(f"{path}: token_answer.min_words must be a whole number from 1 to 50")
    return Rubric(
        criteria=tuple(rules),
        min_words=min_words,
        token_phrases=frozenset(_words(path, token, "phrases")),
        process_words=_words(path, data, "process_words"),
    )


def load_blame(path: Path) -> BlameWords:
    data = _read(path)
    blame = BlameWords(
        suggestion=_text(path, data, "suggestion"),
        phrases=_words(path, data, "phrases"),
        people=_words(path, data, "people"),
        cause_words=_words(path, data, "cause_words"),
        causes=_words(path, data, "causes"),
    )
    for word in (*blame.phrases, *blame.cause_words, *blame.causes):
        if not re.search(r"\w", word):
            raise CatalogError(f"{path}: {word!r} has no letters to match")
    return blame


def _find(data_dir: Path, name: str) -> Path:
    path = data_dir / name
    return path if path.exists() else SHIPPED_DATA / name


@cache
def content_for(data_dir: Path) -> Content:
    """The rubric and blame words for a data directory (read once)."""
    return Content(
        rubric=load_rubric(_find(data_dir, RUBRIC_FILE)),
        blame=load_blame(_find(data_dir, BLAME_FILE)),
    )
