"""The survey itself (data/pulse.yml): Edmondson's seven items, which are reverse-scored, and the
7-point agreement scale. Loaded once per data directory; a CANDOR_DATA_DIR without pulse.yml
reads the shipped one."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from bot.config import SHIPPED_DATA
from handlers.catalog import CatalogError

ITEMS = 7
SCALE = 7


@dataclass(frozen=True)
class Item:
    number: int  # 1-7, as the scale numbers them
    text: str
    reverse: bool  # scored 8 - answer


@dataclass(frozen=True)
class Survey:
    title: str
    intro: str
    items: tuple[Item, ...]
    scale: tuple[str, ...]  # the labels of answers 1..7

    @property
    def reversed_items(self) -> tuple[int, ...]:
        return tuple(i.number for i in self.items if i.reverse)


def _file(data_dir: Path) -> Path:
    path = data_dir / "pulse.yml"
    return path if path.exists() else SHIPPED_DATA / "pulse.yml"


@cache
def load_survey(data_dir: Path) -> Survey:
    path = _file(data_dir)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected title, intro, items and scale")
    items, scale = data.get("items"), data.get("scale")
    if not isinstance(items, list) or len(items) != ITEMS:
        raise CatalogError(f"{path}: the scale has exactly {ITEMS} items")
    if not isinstance(scale, list) or len(scale) != SCALE or not all(isinstance(s, str) and s for s in scale):
        raise CatalogError(f"{path}: scale needs {SCALE} labels, from 1 to {SCALE}")
    read: list[Item] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            raise CatalogError(f"{path}: item {number} needs text")
        if not isinstance(item.get("reverse", False), bool):
            raise CatalogError(f"{path}: item {number}: reverse is true or false")
        read.append(Item(number, item["text"].strip(), bool(item.get("reverse", False))))
    return Survey(
        title=str(data.get("title") or "Team pulse"),
        intro=str(data.get("intro") or "").strip(),
        items=tuple(read),
        scale=tuple(scale),
    )
