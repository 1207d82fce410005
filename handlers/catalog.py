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
class Catalog:
    behaviours: tuple[Behaviour, ...]

    def behaviour(self, slug: str) -> Behaviour | None:
        slug = slug.lower()
        return next((b for b in self.behaviours if b.slug == slug), None)


def _load_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from None


def load_behaviours(path: Path) -> tuple[Behaviour, ...]:
    data = _load_yaml(path)
    items = data.get("behaviours") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise CatalogError(f"{path}: expected a non-empty list under 'behaviours'")
    seen: set[str] = set()
    result = []
    for i, item in enumerate(items):
        fields = ("slug", "label", "emoji", "description")
        if not isinstance(item, dict) or not all(isinstance(item.get(f), str) for f in fields):
            raise CatalogError(f"{path}: behaviour #{i + 1} needs text for {', '.join(fields)}")
        slug = item["slug"]
        if not _SLUG.match(slug) or slug in seen:
            raise CatalogError(f"{path}: behaviour slug {slug!r} is malformed or repeated")
        seen.add(slug)
        result.append(Behaviour(*(item[f].strip() for f in fields)))
    return tuple(result)


def load_catalog(data_dir: Path) -> Catalog:
    return Catalog(behaviours=load_behaviours(data_dir / "behaviours.yml"))
