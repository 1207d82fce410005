"""Cleaning of free text people type, shared by every practice."""

from __future__ import annotations

import unicodedata

# Direction overrides and isolates can make text read differently from what it says.
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
# The longest command text any practice reads; anything longer is refused before parsing.
MAX_COMMAND_CHARS = 4000


def clean_user_text(text: str) -> str:
    """NFC-normalise, drop control and direction-override characters, trim the ends.

    Newlines and tabs stay; the result is still *user text* and is escaped when rendered.
    """
    text = unicodedata.normalize("NFC", text)
    kept = [
        ch for ch in text if ch in "\n\t" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI_CONTROLS)
    ]
    return "".join(kept).strip()
