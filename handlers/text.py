"""Cleaning of free text people type, shared by every practice."""

from __future__ import annotations

import unicodedata

_ZWJ = "\u200d"  # joins emoji; the only invisible format character kept
# The longest command text any practice reads; anything longer is refused before parsing.
MAX_COMMAND_CHARS = 4000


def invisible(ch: str) -> bool:
    """Control and format characters: direction marks and overrides (which make text read
    differently from what it says), zero-width spaces, … — but not newline, tab or the emoji joiner."""
    category = unicodedata.category(ch)
    return (category == "Cc" and ch not in "\n\t") or (category == "Cf" and ch != _ZWJ)


def clean_user_text(text: str) -> str:
    """NFC-normalise, drop invisible characters, trim the ends.

    Newlines and tabs stay; the result is still *user text* and is escaped when rendered.
    """
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if not invisible(ch)).strip()
