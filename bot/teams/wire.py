"""What a person typed to Candor in Teams, back to a command: Teams' wire form read as text.

A message's `text` carries each mention as `<at>Full Name</at>` and the people themselves in
`entities` (type "mention"). Candor's own mention (how a channel addresses it) is dropped; every
other entity becomes a `Mentioned` that reads "@Full Name". Only entities make mentions: a typed
"<at>Someone</at>" (Teams sends it as "&lt;at&gt;…") stays text. Other markup Teams adds
(paragraphs, line breaks, entities such as &amp; and &nbsp;) becomes plain text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from handlers.text import Mentioned

_TAG = re.compile(r"<[^<>]*>")
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)


@dataclass(frozen=True)
class Typed:
    """A message read back: the command's name (lower case, "" when none), what follows it, and
    the people mentioned in it, in order."""

    name: str
    text: str
    mentions: tuple[Mentioned, ...]


def _plain(markup: str) -> str:
    """Teams' message markup as the text a person sees: breaks become newlines, tags go, entities
    are undone once (so a typed "&lt;b&gt;" stays the text "<b>")."""
    text = _BREAK.sub("\n", markup)
    text = _TAG.sub("", text)
    return html.unescape(text).replace("\xa0", " ")


def _display_name(raw: str) -> str:
    """A name as shown after "@": no markup, one line."""
    return " ".join(_plain(raw).split()) or "someone"


def read(text: str | None, entities: list[dict[str, Any]] | None, bot_id: str | None) -> Typed:
    """The command in a message: mentions of Candor removed, other mentions read as "@Name"."""
    raw = text or ""
    marks: list[tuple[int, int, Mentioned | None]] = []  # (start, end, the person or None for Candor)
    taken = 0
    for entity in entities or []:
        if not isinstance(entity, dict) or entity.get("type") != "mention":
            continue
        mentioned = entity.get("mentioned") or {}
        shown = str(entity.get("text") or "")
        user = str(mentioned.get("id") or "")
        if not shown or not user:
            continue
        at = raw.find(shown, taken)
        if at < 0:
            continue
        taken = at + len(shown)
        if user == bot_id:
            marks.append((at, taken, None))
        else:
            name = "@" + _display_name(str(mentioned.get("name") or shown))
            marks.append((at, taken, Mentioned(user=user, text=name, at=0)))
    parts: list[str] = []
    placed: list[tuple[int, Mentioned]] = []  # (where it starts in the joined text, the person)
    end = 0
    for start, stop, person in marks:
        parts.append(_plain(raw[end:start]))
        if person is not None:
            placed.append((sum(map(len, parts)), person))
            parts.append(person.text)
        end = stop
    parts.append(_plain(raw[end:]))
    joined = "".join(parts)
    typed = joined.strip()
    lead = len(joined) - len(joined.lstrip())
    # The command's name ends at the first space or line break ("kudos\n@Alice …" too).
    split = next((i for i, ch in enumerate(typed) if ch.isspace()), len(typed))
    rest = typed[split:]
    start_of_rest = split + len(rest) - len(rest.lstrip())
    mentions = tuple(
        Mentioned(user=person.user, text=person.text, at=at - lead - start_of_rest)
        for at, person in placed
        if at - lead >= start_of_rest
    )
    return Typed(name=typed[:split].lstrip("/").lower(), text=rest.strip(), mentions=mentions)
