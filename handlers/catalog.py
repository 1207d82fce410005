"""The editable content behind the practices (behaviours, …), loaded once from data/*.yml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,30}$")


class CatalogError(Exception):
    """A data file is missing or malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Behaviour:
    slug: str
    label: str
    emoji: str
    description: str


@dataclass(frozen=True)
class CheckinTemplate:
    slug: str
    title: str
    intro: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Nudge:
    slug: str
    tag: str
    text: str
    why: str


@dataclass(frozen=True)
class Catalog:
    behaviours: tuple[Behaviour, ...]
    checkins: tuple[CheckinTemplate, ...] = ()
    nudges: tuple[Nudge, ...] = ()

    def behaviour(self, slug: str) -> Behaviour | None:
        slug = slug.lower()
        return next((b for b in self.behaviours if b.slug == slug), None)

    def checkin(self, slug: str) -> CheckinTemplate | None:
        return next((t for t in self.checkins if t.slug == slug), None)

    def nudge_tags(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n.tag for n in self.nudges))


def _load_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from None


def _entries(path: Path, key: str, fields: tuple[str, ...]) -> list[dict]:
    """The list under `key`, each entry with text for every field and a unique, valid slug."""
    data = _load_yaml(path)
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise CatalogError(f"{path}: expected a non-empty list under {key!r}")
    seen: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not all(isinstance(item.get(f), str) for f in fields):
            raise CatalogError(f"{path}: entry #{i + 1} needs text for {', '.join(fields)}")
        slug = item["slug"]
        if not _SLUG.match(slug) or slug in seen:
            raise CatalogError(f"{path}: slug {slug!r} is malformed or repeated")
        seen.add(slug)
    return items


def load_behaviours(path: Path) -> tuple[Behaviour, ...]:
    fields = ("slug", "label", "emoji", "description")
    return tuple(
        Behaviour(*(item[f].strip() for f in fields)) for item in _entries(path, "behaviours", fields)
    )


def load_checkins(path: Path) -> tuple[CheckinTemplate, ...]:
    result = []
    for item in _entries(path, "templates", ("slug", "title", "intro")):
        questions = item.get("questions")
        if (
            not isinstance(questions, list)
            or not 1 <= len(questions) <= 5
            or not all(isinstance(q, str) and q.strip() for q in questions)
        ):
            raise CatalogError(f"{path}: template {item['slug']!r} needs 1 to 5 questions")
        result.append(
            CheckinTemplate(
                item["slug"],
                item["title"].strip(),
                item["intro"].strip(),
                tuple(q.strip() for q in questions),
            )
        )
    return tuple(result)


def load_nudges(path: Path) -> tuple[Nudge, ...]:
    fields = ("slug", "tag", "text", "why")
    return tuple(Nudge(*(item[f].strip() for f in fields)) for item in _entries(path, "nudges", fields))


def load_catalog(data_dir: Path) -> Catalog:
    return Catalog(
        behaviours=load_behaviours(data_dir / "behaviours.yml"),
        checkins=load_checkins(data_dir / "checkins.yml"),
        nudges=load_nudges(data_dir / "nudges.yml"),
    )
