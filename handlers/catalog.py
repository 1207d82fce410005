"""The editable content behind the practices (behaviours, …), loaded once from data/*.yml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.config import SHIPPED_DATA

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
class Question:
    id: str  # names the answer where it is stored
    text: str


@dataclass(frozen=True)
class AgreementWords:
    """What /agree says at the moments that matter (data/agreements.yml)."""

    request: str
    accepted: str
    kept: str
    missed: str
    not_yet: str
    review_title: str
    review_intro: str
    requester_questions: tuple[Question, ...]
    performer_questions: tuple[Question, ...]
    both_questions: tuple[Question, ...]
    review_waiting: str
    reviewed: str
    renegotiated: str


# The escalation stages, in their fixed order, and what a stage's `before_next` may count. Spelled
# out here, as importing handlers.escalation.ids would load that practice (which loads this);
# tests/test_escalation.py checks they equal its Stage and Check.
ESCALATION_STAGES = ("observation", "coaching", "plan", "corrective")
ESCALATION_CHECKS = frozenset(
    {"observations", "coaching_notes", "reviewed_agreements", "plan_agreements", "plan_missed_reviewed"}
)


@dataclass(frozen=True)
class Requirement:
    check: str  # one of ESCALATION_CHECKS
    count: int
    text: str


@dataclass(frozen=True)
class EscalationStage:
    slug: str
    title: str
    means: str
    next: str
    min_days: int
    before_next: tuple[Requirement, ...]


@dataclass(frozen=True)
class Rubric:
    """The public, staged escalation path (data/escalation.yml)."""

    intro: str
    stages: tuple[EscalationStage, ...]
    resolved: str
    closed: str

    def stage(self, slug: str) -> EscalationStage:
        return next(s for s in self.stages if s.slug == slug)

    def after(self, slug: str) -> EscalationStage | None:
        index = [s.slug for s in self.stages].index(slug)
        return self.stages[index + 1] if index + 1 < len(self.stages) else None


@dataclass(frozen=True)
class Catalog:
    behaviours: tuple[Behaviour, ...]
    checkins: tuple[CheckinTemplate, ...] = ()
    nudges: tuple[Nudge, ...] = ()
    agreements: AgreementWords | None = None
    rubric: Rubric | None = None

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


def _text(path: Path, data: object, *keys: str) -> str:
    """The text at data[k1][k2]…, or CatalogError naming the file and the key."""
    value = data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{path}: {'.'.join(keys)} needs text")
    return " ".join(value.split())


def _questions(path: Path, data: object, role: str, seen: set[str]) -> tuple[Question, ...]:
    review = data.get("review") if isinstance(data, dict) else None
    questions = review.get("questions") if isinstance(review, dict) else None
    items = questions.get(role) if isinstance(questions, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= 4:
        raise CatalogError(f"{path}: review.questions.{role} needs 1 to 4 questions")
    found = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            raise CatalogError(f"{path}: review.questions.{role}: each question needs an id and a text")
        qid = item.get("id")
        if not isinstance(qid, str) or not _SLUG.match(qid.replace("_", "-")) or qid in seen:
            raise CatalogError(f"{path}: review.questions.{role}: id {qid!r} is malformed or repeated")
        seen.add(qid)
        found.append(Question(qid, " ".join(item["text"].split())))
    return tuple(found)


def load_agreement_words(path: Path) -> AgreementWords:
    data = _load_yaml(path)
    seen: set[str] = set()
    return AgreementWords(
        request=_text(path, data, "request"),
        accepted=_text(path, data, "accepted"),
        kept=_text(path, data, "kept"),
        missed=_text(path, data, "missed"),
        not_yet=_text(path, data, "not_yet"),
        review_title=_text(path, data, "review", "title"),
        review_intro=_text(path, data, "review", "intro"),
        requester_questions=_questions(path, data, "requester", seen),
        performer_questions=_questions(path, data, "performer", seen),
        both_questions=_questions(path, data, "both", seen),
        review_waiting=_text(path, data, "review", "waiting"),
        reviewed=_text(path, data, "review", "reviewed"),
        renegotiated=_text(path, data, "renegotiated"),
    )


def _requirements(path: Path, slug: str, items: object) -> tuple[Requirement, ...]:
    if not isinstance(items, list):
        raise CatalogError(f"{path}: stage {slug!r} needs a before_next list (it may be empty)")
    found = []
    for item in items:
        check = item.get("check") if isinstance(item, dict) else None
        count = item.get("count") if isinstance(item, dict) else None
        if check not in ESCALATION_CHECKS or not isinstance(count, int) or isinstance(count, bool):
            raise CatalogError(
                f"{path}: stage {slug!r}: each before_next needs a check "
                f"({', '.join(sorted(ESCALATION_CHECKS))}) and a count"
            )
        if not 1 <= count <= 100:
            raise CatalogError(f"{path}: stage {slug!r}: count must be 1 to 100")
        found.append(Requirement(str(check), count, _text(path, item, "text")))
    return tuple(found)


def load_rubric(path: Path) -> Rubric:
    data = _load_yaml(path)
    items = data.get("stages") if isinstance(data, dict) else None
    slugs = [item.get("slug") if isinstance(item, dict) else None for item in items or []]
    if tuple(slugs) != ESCALATION_STAGES:
        raise CatalogError(f"{path}: stages must be {', '.join(ESCALATION_STAGES)}, in this order")
    stages = []
    for slug, item in zip(ESCALATION_STAGES, items or [], strict=True):
        days = item.get("min_days")
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 365:
            raise CatalogError(f"{path}: stage {slug!r}: min_days must be a whole number from 0 to 365")
        stages.append(
            EscalationStage(
                slug=slug,
                title=_text(path, item, "title"),
                means=_text(path, item, "means"),
                next=_text(path, item, "next"),
                min_days=days,
                before_next=_requirements(path, slug, item.get("before_next")),
            )
        )
    return Rubric(
        intro=_text(path, data, "intro"),
        stages=tuple(stages),
        resolved=_text(path, data, "closing", "resolved"),
        closed=_text(path, data, "closing", "closed"),
    )


def _file(data_dir: Path, name: str) -> Path:
    """A file added after CANDOR_DATA_DIR was set up comes from the shipped data until it is copied."""
    path = data_dir / name
    return path if path.exists() or data_dir == SHIPPED_DATA else SHIPPED_DATA / name


def load_catalog(data_dir: Path) -> Catalog:
    return Catalog(
        behaviours=load_behaviours(data_dir / "behaviours.yml"),
        checkins=load_checkins(data_dir / "checkins.yml"),
        nudges=load_nudges(data_dir / "nudges.yml"),
        agreements=load_agreement_words(_file(data_dir, "agreements.yml")),
        rubric=load_rubric(_file(data_dir, "escalation.yml")),
    )
