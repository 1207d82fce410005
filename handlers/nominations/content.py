"""The awards a cycle can be for (data/awards.yml) and what each behaviour looks like at each level
(data/competencies.yml).

Loaded once per data directory. A CANDOR_DATA_DIR made before these files existed still works: a
file it lacks is read from the shipped data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from bot.config import SHIPPED_DATA
from handlers.catalog import Catalog, CatalogError
from handlers.context import Services
from handlers.nominations.ids import Level

_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
LEVEL_LABELS = {
    Level.ROLE_MODEL: "Role model",
    Level.COMPETENT: "Competent",
    Level.DEVELOPING: "Developing",
}


@dataclass(frozen=True)
class Award:
    slug: str
    label: str
    behaviour: str  # slug in behaviours.yml
    description: str


@dataclass(frozen=True)
class Content:
    awards: tuple[Award, ...]
    default_award: str
    # (behaviour slug, level) → one observable sentence
    descriptors: tuple[tuple[tuple[str, Level], str], ...]

    def award(self, slug: str) -> Award | None:
        return next((a for a in self.awards if a.slug == slug), None)

    def award_label(self, slug: str) -> str:
        """An award removed from the file since still has a name: its slug."""
        award = self.award(slug)
        return award.label if award else slug

    def behaviour_of(self, slug: str) -> str | None:
        award = self.award(slug)
        return award.behaviour if award else None

    def descriptor(self, behaviour: str | None, level: Level) -> str:
        return dict(self.descriptors).get((behaviour or "", level), "")


def _file(data_dir: Path, name: str) -> Path:
    path = data_dir / name
    return path if path.exists() else SHIPPED_DATA / name


def _list(path: Path, key: str) -> list[dict]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from None
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise CatalogError(f"{path}: expected a non-empty list of entries under {key!r}")
    return items


def _text(path: Path, item: dict, field: str, where: str) -> str:
    value = item.get(field)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{path}: {where} needs text for {field}")
    return value.strip()


def load_awards(path: Path, behaviours: frozenset[str]) -> tuple[tuple[Award, ...], str]:
    awards: list[Award] = []
    default = None
    for i, item in enumerate(_list(path, "awards")):
        where = f"award #{i + 1}"
        slug, label, behaviour, description = (
            _text(path, item, f, where) for f in ("slug", "label", "behaviour", "description")
        )
        if not _SLUG.match(slug) or any(a.slug == slug for a in awards):
            raise CatalogError(f"{path}: slug {slug!r} is malformed or repeated")
        if behaviour not in behaviours:
            raise CatalogError(f"{path}: award {slug!r} names behaviour {behaviour!r}, not in behaviours.yml")
        if item.get("default") is True:
            if default is not None:
                raise CatalogError(f"{path}: only one award can be the default")
            default = slug
        awards.append(Award(slug, label, behaviour, description))
    return tuple(awards), default or awards[0].slug


def load_descriptors(path: Path, behaviours: frozenset[str]) -> tuple[tuple[tuple[str, Level], str], ...]:
    found: dict[tuple[str, Level], str] = {}
    for i, item in enumerate(_list(path, "competencies")):
        behaviour = _text(path, item, "behaviour", f"entry #{i + 1}")
        if behaviour not in behaviours or (behaviour, Level.COMPETENT) in found:
            raise CatalogError(f"{path}: behaviour {behaviour!r} is unknown or repeated")
        for level in Level:
            found[(behaviour, level)] = _text(path, item, level.value, f"behaviour {behaviour!r}")
    return tuple(found.items())


@cache
def load_content(data_dir: Path, catalog: Catalog) -> Content:
    behaviours = frozenset(b.slug for b in catalog.behaviours)
    awards, default = load_awards(_file(data_dir, "awards.yml"), behaviours)
    return Content(awards, default, load_descriptors(_file(data_dir, "competencies.yml"), behaviours))


def content_of(services: Services) -> Content:
    return load_content(services.settings.data_dir, services.catalog)
