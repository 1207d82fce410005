"""A person's evidence: every nomination about them from a closed cycle (examples and level) and
every kudos they received, grouped by behaviour and level with the descriptors of
data/competencies.yml.

Only items that name their author, or whose author chose a named practice, are evidence: nothing
from an anonymous practice (speak-up, anonymous answers) is ever read here. A nomination from a
cycle that hides nominators carries no nominator.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from handlers.catalog import Catalog
from handlers.kudos import store as kudos_store
from handlers.nominations import store
from handlers.nominations.content import LEVEL_LABELS, Content
from handlers.nominations.ids import Level

KUDOS_LEVEL = "Recognised with kudos"  # kudos rate no level


@dataclass(frozen=True)
class Item:
    behaviour: str  # slug in behaviours.yml
    level: Level | None  # None for a kudos
    when: float
    award: str | None  # the award's label, for a nomination
    by: str | None  # user id of who wrote it; None where the cycle hides nominators
    conversation: str
    texts: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    behaviour: str
    heading: str  # "💬 Gave constructive feedback"
    level: Level | None
    level_label: str
    descriptor: str
    items: tuple[Item, ...]  # newest first


def source_text(item: Item) -> str:
    return f"Nomination for {item.award}" if item.award else "Kudos"


def gather(db: Database, content: Content, *, platform: str, workspace: str, user: str) -> list[Item]:
    items = [
        Item(
            behaviour=content.behaviour_of(e.award) or "",
            level=e.level,
            when=e.closed_at,
            award=content.award_label(e.award),
            by=e.nominator,
            conversation=e.conversation,
            texts=e.examples,
        )
        for e in store.evidence_about(db, platform=platform, workspace=workspace, nominee=user)
    ]
    prefix = f"{platform}:{workspace}:"  # kudos name people by person key (Command.person_key)
    items += [
        Item(
            behaviour=k.behaviour,
            level=None,
            when=k.created_at,
            award=None,
            by=k.giver.removeprefix(prefix) if k.giver.startswith(prefix) else None,
            conversation=k.conversation,
            texts=(k.message,),
        )
        for k in kudos_store.received(db, receiver=prefix + user)
    ]
    return items


_LEVEL_ORDER: tuple[Level | None, ...] = (*Level, None)


def grouped(items: list[Item], catalog: Catalog, content: Content) -> list[Group]:
    """By behaviour in behaviours.yml's order, then role model, competent, developing, kudos."""
    order = {b.slug: i for i, b in enumerate(catalog.behaviours)}
    keys = sorted(
        {(item.behaviour, item.level) for item in items},
        key=lambda k: (order.get(k[0], len(order)), k[0], _LEVEL_ORDER.index(k[1])),
    )
    groups = []
    for behaviour, level in keys:
        known = catalog.behaviour(behaviour) if behaviour else None
        heading = f"{known.emoji} {known.label}" if known else (behaviour or "Other")
        members = sorted(
            (i for i in items if (i.behaviour, i.level) == (behaviour, level)), key=lambda i: -i.when
        )
        groups.append(
            Group(
                behaviour=behaviour,
                heading=heading,
                level=level,
                level_label=LEVEL_LABELS[level] if level else KUDOS_LEVEL,
                descriptor=content.descriptor(behaviour, level) if level else "",
                items=tuple(members),
            )
        )
    return groups
