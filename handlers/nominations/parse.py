"""What a /nominate says: the people the platform marked as mentioned, and the other words.

People are only the ones the adapter marked (`Command.mentions`), found where they stand in the
text, so a mention of several words (Teams' "@Carol Smith") is one person and a typed look-alike
("@bob" without the platform's mention) is a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.context import Command
from handlers.text import clean_user_text

_WORD = re.compile(r"\S+")
MAX_WORDS = 20  # more is refused anyway: one person, or one verb


@dataclass(frozen=True)
class Parsed:
    people: tuple[str, ...]  # user ids, in order, without repeats
    words: tuple[str, ...]  # everything else, cleaned, as typed


def split(cmd: Command) -> Parsed:
    text = cmd.text
    marked = {m.at: m for m in cmd.mentions if m.text and text.startswith(m.text, m.at)}
    people: list[str] = []
    words: list[str] = []
    pos = 0
    for word in _WORD.finditer(text):
        if len(people) + len(words) > MAX_WORDS:
            break
        if word.start() < pos:  # inside a mention of several words
            continue
        mention = marked.get(word.start())
        end = word.start() + len(mention.text) if mention else 0
        if mention and (end == len(text) or text[end].isspace()):
            people.append(mention.user)
            pos = end
            continue
        cleaned = clean_user_text(word.group())
        if cleaned:
            words.append(cleaned)
        pos = word.end()
    return Parsed(tuple(dict.fromkeys(people)), tuple(words))
