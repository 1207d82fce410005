"""The quality index: 0 to 100 points from the rubric in data/review_rubric.yml, with what would
raise it. It judges the review as a document (complete, with learnings, with owned and dated
actions, about the process), never the people in it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from handlers.reviews.content import Rubric
from handlers.reviews.ids import Criterion, Section
from handlers.reviews.local_time import today_in
from handlers.reviews.model import WRITTEN, ActionItem, Part, Quality, Sections

SECTION_NAMES = {
    Section.TITLE: "Title",
    Section.HAPPENED: "What happened",
    Section.IMPACT: "Impact",
    Section.FACTORS: "Contributing factors",
    Section.LEARNED: "What we learned",
    Section.NEXT_TIME: "What we will try next time",
}
EXAMPLES = 3  # process words offered as examples in "what would raise it"


def is_token(text: str, rubric: Rubric) -> bool:
    """An empty answer, a stock phrase ("n/a", "tbd"), or fewer words than the rubric asks for."""
    normal = " ".join(text.lower().split()).strip(" .!")
    if not normal or normal in rubric.token_phrases or text.strip().lower() in rubric.token_phrases:
        return True
    return len(re.findall(r"\w+", text)) < rubric.min_words


def names_a_process(text: str, rubric: Rubric) -> bool:
    for word in rubric.process_words:
        pattern = r"(?<!\w)" + r"[\s-]+".join(re.escape(w) for w in word.split()) + r"(?:s|es|ed|ing)?(?!\w)"
        if re.search(pattern, text, re.IGNORECASE):
            return True
    return False


def _listing(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def score(
    sections: Sections,
    actions: Sequence[ActionItem],
    rubric: Rubric,
    *,
    at: float,
    factors_blame: bool,
) -> Quality:
    """Score a review published at `at`: an action counts as dated in the future when it is due on
    or after that day on its owner's calendar. `factors_blame`: the blame check found something
    in the contributing factors."""
    token = [s for s in WRITTEN if is_token(sections.text(s), rubric)]
    dated = [a for a in actions if a.owner and a.due_on >= today_in(at, a.tz).isoformat()]
    factors = sections.factors
    share = {
        Criterion.COMPLETE: (len(WRITTEN) - len(token)) / len(WRITTEN),
        Criterion.LEARNING: float(
            not (is_token(sections.learned, rubric) and is_token(sections.next_time, rubric))
        ),
        Criterion.ACTIONS: len(dated) / len(actions) if actions else 0.0,
        Criterion.PROCESS: float(names_a_process(factors, rubric)),
        Criterion.NOT_PERSON: float(bool(factors.strip()) and not factors_blame),
    }
    fill = {
        "{sections}": _listing([SECTION_NAMES[s] for s in token]) if token else "",
        "{examples}": ", ".join(f'"{w}"' for w in rubric.process_words[:EXAMPLES]),
    }
    parts = []
    for rule in rubric.criteria:
        points = round(rule.weight * share[rule.id])
        advice = ""
        if points < rule.weight:
            advice = rule.raise_it
            for placeholder, text in fill.items():  # other braces in the file stay as written
                advice = advice.replace(placeholder, text)
        parts.append(Part(rule.id, points, rule.weight, advice))
    return Quality(min(100, max(0, sum(p.points for p in parts))), tuple(parts))
