"""Case codes: the only link between an anonymous author and what they wrote.

A code is 160 random bits that only the author sees; Candor keeps its SHA-256, so the stored
hash finds the case again when the author types the code, and nothing else can.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

_LOOKALIKES = str.maketrans("018", "OIB")  # what people type for base32's O, I and B


def new_code() -> str:
    """160 random bits as 32 base32 characters in groups of four, easy to read and type."""
    raw = base64.b32encode(secrets.token_bytes(20)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, 32, 4))


def normalise_code(raw: str) -> str | None:
    """The 32 characters of a typed code (any case, spaces or dashes, 0/1/8 for O/I/B), or None."""
    text = re.sub(r"[\s-]", "", raw.upper()).translate(_LOOKALIKES)
    return text if re.fullmatch(r"[A-Z2-7]{32}", text) else None


def code_hash(code: str) -> str:
    """The SHA-256 kept for a code, written any way `normalise_code` accepts."""
    normal = normalise_code(code)
    if normal is None:
        raise ValueError("not a case code")
    return hashlib.sha256(normal.encode()).hexdigest()


def hash_of_typed(raw: str) -> str | None:
    """The stored hash a typed code would match, or None when it cannot be a code at all."""
    return None if normalise_code(raw) is None else code_hash(raw)
