"""Slack's wire form of what a person typed in a slash command, back to what they typed.

With `should_escape: true` Slack sends typed text with its three control characters as entities
(&amp; &lt; &gt;) and what it recognised as raw tokens: people <@U…|name>, channels <#C…|name>,
links <https://…|label>, <!here>, user groups <!subteam^S…|@team>. Tokens are read before the
entities are undone, so a typed "<@U1>" stays text and never becomes a mention.
"""

from __future__ import annotations

import re

from handlers.text import Mentioned

_TOKEN = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_USER_ID = re.compile(r"[UW][A-Z0-9]+")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]+")


def unescape(text: str) -> str:
    """Slack's three entities back to characters, in one pass ("&amp;lt;" is a typed "&lt;")."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def _link(target: str, label: str) -> str:
    """A link as text that cannot mislead: its address, and a label only beside it."""
    address = target.removeprefix("mailto:")
    bare = re.sub(r"^https?://", "", target, flags=re.IGNORECASE).rstrip("/")
    if not label or label in (target, address, bare, bare + "/"):
        return address
    return f"{label} ({address})"


def _token(inner: str) -> tuple[str, str | None]:
    """How one raw token reads as text, and the user id of the person it mentions, if any."""
    target, _, label = inner.partition("|")
    target, label = unescape(target), unescape(label)
    if target.startswith("@") and _USER_ID.fullmatch(target[1:]):
        return "@" + (label.lstrip("@") or target[1:]), target[1:]
    if target.startswith("#") and _CHANNEL_ID.fullmatch(target[1:]):
        return "#" + (label or target[1:]), None
    if target.startswith("!"):  # <!here>, <!channel>, <!subteam^S1|@team>, <!date^…|fallback>
        word = target[1:].split("^")[0]
        if word in ("here", "channel", "everyone"):
            return "@" + word, None
        return label or "@" + word, None
    return _link(target, label), None


def command_text(raw: str) -> tuple[str, tuple[Mentioned, ...]]:
    """The text as the person typed it, with each mention read as "@name", and the people that
    Slack marked as mentioned, in order, each with where it stands in that text."""
    parts: list[str] = []
    mentions: list[Mentioned] = []
    length = end = 0
    for match in _TOKEN.finditer(raw):
        before = unescape(raw[end : match.start()])
        shown, user = _token(match.group(1))
        parts += (before, shown)
        if user:
            mentions.append(Mentioned(user=user, text=shown, at=length + len(before)))
        length += len(before) + len(shown)
        end = match.end()
    parts.append(unescape(raw[end:]))
    return "".join(parts), tuple(mentions)
