"""The blame check: language that names a person as the cause, found before a review is published.

It reads "What happened" and "Contributing factors" with the words in data/blame_words.yml: phrases
that blame whoever they are said of ("careless", "X's fault", "should have known"), and a person
as the cause, meaning someone typed as @name, a person the review names (its action owners) or
"he"/"she", followed closely by a word like "forgot" or "broke" ("because of @sam" too). What it
finds is a suggestion to the author, never a refusal: people are free to publish what they wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from handlers.reviews.content import BlameWords
from handlers.reviews.ids import Section
from handlers.reviews.model import Sections

SCANNED = (Section.HAPPENED, Section.FACTORS)
MAX_FINDINGS = 6  # per section: enough to show the pattern, short enough to read
KEY_CHARS = 60  # a finding as the form remembers it was shown (the form's context is small)
_NEAR = r"(?:\W+\w+){0,2}?\W+"  # up to two words in between: "Sam simply forgot"


@dataclass(frozen=True)
class Finding:
    section: Section
    words: str  # what was found, as written

    @property
    def key(self) -> str:
        """What the author was already shown, to tell a new finding from one they chose to keep."""
        return f"{self.section}:{' '.join(self.words.lower().split())[:KEY_CHARS]}"


def _wordy(char: str) -> bool:
    return char.isalnum() or char == "_"


def _alternatives(words: Iterable[str]) -> str:
    """Whole words or phrases, longest first; spaces match any run of spaces."""
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        # A phrase that starts mid-word ("'s fault") takes the word it is said of along ("Sam's fault").
        start = r"(?<!\w)" if _wordy(word[:1]) else r"\w*"
        pattern = start + r"\s+".join(re.escape(w) for w in word.split())
        if _wordy(word[-1:]):
            pattern += r"(?!\w)"
        parts.append(pattern)
    return "(?:" + "|".join(parts) + ")"


@cache
def _phrases(words: BlameWords) -> re.Pattern[str]:
    return re.compile(_alternatives(words.phrases), re.IGNORECASE)


def _person_patterns(words: BlameWords, names: tuple[str, ...]) -> list[re.Pattern[str]]:
    person = r"(?:@[\w.-]*\w|" + _alternatives((*words.people, *names)) + ")"
    return [
        re.compile(person + _NEAR + _alternatives(words.cause_words), re.IGNORECASE),
        re.compile(_alternatives(words.causes) + r"\s+" + person, re.IGNORECASE),
    ]


def name_variants(names: Iterable[str]) -> tuple[str, ...]:
    """How people may be written: "Sam Lee" and "Sam". Single letters and symbols are left out."""
    found: set[str] = set()
    for name in names:
        clean = " ".join(re.findall(r"\w[\w.'-]*", name))
        if len(clean) > 1:
            found.add(clean.lower())
            first = clean.split()[0]
            if len(first) > 1:
                found.add(first.lower())
    return tuple(sorted(found))


def check(sections: Sections, words: BlameWords, *, names: Iterable[str] = ()) -> tuple[Finding, ...]:
    """What reads as blaming a person, in the order written, per scanned section."""
    patterns = [_phrases(words), *_person_patterns(words, name_variants(names))]
    findings: list[Finding] = []
    for section in SCANNED:
        text = sections.text(section).replace("\u2019", "'")
        spans: list[tuple[int, int]] = []
        for pattern in patterns:
            spans += [m.span() for m in pattern.finditer(text) if m.group().strip()]
        kept: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if kept and start < kept[-1][1]:  # overlapping ones read as one: "he should have known better"
                kept[-1] = (kept[-1][0], max(end, kept[-1][1]))
            else:
                kept.append((start, end))
        findings += [Finding(section, " ".join(text[s:e].split())) for s, e in kept[:MAX_FINDINGS]]
    return tuple(findings)
