"""Free text people type, read by one rule in every practice: cleaned, checked and measured alike.

Every free-text field (a kudos message, a check-in prompt or answer, a concern, a reply, a note)
goes through `read_text`, so the same input gets the same answer everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_ZWJ = "\u200d"  # joins emoji; the only invisible format character kept
# The longest command text any practice reads; anything longer is refused before parsing.
MAX_COMMAND_CHARS = 4000
# Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern): text made of
# them looks empty, so it counts as empty.
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Most text is ASCII, where NFC changes nothing, the only invisible characters are the C0 controls
# and DEL, and what draws is "!" to "~": the same rule as below without a look-up per character.
_ASCII_INVISIBLE = {c: None for c in (*range(32), 127) if chr(c) not in "\n\t"}
_ASCII_DRAWS = re.compile("[!-~]")


@dataclass(frozen=True)
class Mentioned:
    """A person the adapter marked as mentioned in a command (not a typed look-alike).

    `text` is how the mention reads in the command's text, e.g. "@carol" or "@Carol Smith" (a
    Teams mention spans words), and `at` where it starts there: a practice finds a mention by its
    place, never by splitting the text on spaces or by matching its name.
    """

    user: str  # the platform's user id
    text: str
    at: int  # offset of `text` in `Command.text`


def invisible(ch: str) -> bool:
    """Control and format characters: direction marks and overrides (which make text read
    differently from what it says), zero-width spaces, … — but not newline, tab or the emoji joiner."""
    category = unicodedata.category(ch)
    return (category == "Cc" and ch not in "\n\t") or (category == "Cf" and ch != _ZWJ)


def clean_user_text(text: str) -> str:
    """NFC-normalise, drop invisible characters, trim the ends.

    Newlines and tabs stay; the result is still *user text* and is escaped when rendered.
    """
    if text.isascii():
        return text.translate(_ASCII_INVISIBLE).strip()
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if not invisible(ch)).strip()


def visible(text: str) -> bool:
    """Whether anything would show: a letter, digit, punctuation mark or symbol that draws."""
    if text.isascii():
        return _ASCII_DRAWS.search(text) is not None
    return any(unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK for ch in text)


def too_long(label: str, length: int, limit: int) -> str:
    """The one message for a field over its limit, whichever practice and field it is."""
    return f"{label} is {length:,} characters; keep it to {limit:,} characters."


def read_text(raw: object, *, label: str, limit: int, required: bool) -> tuple[str, str | None]:
    """(cleaned text, None), or ("", what is wrong) for one field a person filled in.

    Invisible characters are dropped (as `clean_user_text` does); text with nothing visible left
    is empty. A lone surrogate (half an emoji, which SQLite cannot store) is refused.
    """
    text = "" if raw is None else str(raw)
    if len(text) > 2 * limit + MAX_COMMAND_CHARS:  # too long to be worth cleaning first
        return "", too_long(label, len(text), limit)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return (
            "",
            f"{label} contains a broken character (part of an emoji?) that cannot be saved. "
            "Please retype it.",
        )
    cleaned = clean_user_text(text)
    if not visible(cleaned):
        cleaned = ""
    if len(cleaned) > limit:
        return "", too_long(label, len(cleaned), limit)
    if required and not cleaned:
        return "", f"{label} cannot be empty."
    return cleaned, None


def plural(count: int, one: str, many: str) -> str:
    """`plural(1, "person", "people")` → "1 person"; 2 → "2 people"."""
    return f"{count:,} {one if count == 1 else many}"
