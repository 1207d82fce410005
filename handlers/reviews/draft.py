"""Reading a review form: its sections, its action rows and lines, each checked, with an error per
field that a person can act on. Nothing here stores anything.

Action lines are parsed strictly: `@owner YYYY-MM-DD what will be done`, one per line, where the
owner is a person the platform marked (`Submission.mentions`), never a name guessed from the text.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import date

from bot.messages import Values
from handlers.context import People, PersonInfo
from handlers.reviews.ids import FieldId, RowPart, Section, row_field
from handlers.reviews.local_time import known_tz, today_in
from handlers.reviews.model import ActionItem, Sections
from handlers.reviews.quality import SECTION_NAMES
from handlers.reviews.rules import (
    MAX_ACTION,
    MAX_ACTIONS,
    MAX_DUE_DAYS,
    MAX_LINES_FIELD,
    MAX_SECTION,
    MAX_TITLE,
    SHOWN_CHARS,
)
from handlers.text import MAX_COMMAND_CHARS, Mentioned, clean_user_text, read_text, too_long, visible

REQUIRED = (Section.TITLE, Section.HAPPENED, Section.IMPACT, Section.FACTORS)
LINE_EXAMPLE = "@sam 2026-12-15 add a canary step"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_USER_ID = re.compile(r"[^\s<>@]{1,64}")  # what a user picker hands back: an id, never text


@dataclass(frozen=True)
class Wanted:
    """An action as typed, before its owner and date are checked against the directory."""

    description: str
    owner: str
    due_on: str
    owner_field: str  # where a problem with the owner is shown
    due_field: str  # where a problem with the date is shown
    where: str  # "" for a row; "Line 2: " for a line
    named: tuple[Mentioned, ...] = ()  # people mentioned in the description (shown by name)


def _text(values: Values, field: str) -> object:
    value = values.get(field)
    return value if isinstance(value, str) or value is None else ""  # a list where text belongs: empty


def _ticked(values: Values, field: str) -> bool:
    value = values.get(field)
    return isinstance(value, list) and "yes" in value


def anonymous(values: Values) -> bool:
    return _ticked(values, FieldId.ANONYMOUS)


def more_rows(values: Values) -> bool:
    return _ticked(values, FieldId.MORE_ROWS)


def read_sections(values: Values) -> tuple[Sections, dict[str, str]]:
    """The cleaned sections, and an error per section that is missing, too long or broken."""
    errors: dict[str, str] = {}
    texts: dict[str, str] = {}
    for section in Section:
        limit = MAX_TITLE if section == Section.TITLE else MAX_SECTION
        text, problem = read_text(
            _text(values, section),
            label=SECTION_NAMES[section],
            limit=limit,
            required=section in REQUIRED,
        )
        if problem:
            errors[section] = problem
        texts[section.value] = text
    return Sections(**texts), errors


def read_rows(values: Values, rows: int) -> tuple[list[Wanted], dict[str, str]]:
    """The action rows filled in; a row with anything in it needs all three parts."""
    wanted: list[Wanted] = []
    errors: dict[str, str] = {}
    for row in range(1, rows + 1):
        what_field, owner_field, due_field = (row_field(row, p) for p in RowPart)
        raw_what = _text(values, what_field)
        owner = str(_text(values, owner_field) or "").strip()
        due = str(_text(values, due_field) or "").strip()
        if not (str(raw_what or "").strip() or owner or due):
            continue
        what, problem = read_text(raw_what, label=f"Action {row}", limit=MAX_ACTION, required=True)
        if problem:
            errors[what_field] = problem
        if not owner:
            errors[owner_field] = "Pick who will do it."
        elif not _USER_ID.fullmatch(owner):
            errors[owner_field] = "Pick the owner from the list."
        if not due:
            errors[due_field] = "Pick a due date."
        elif not _is_date(due):
            errors[due_field] = "Pick a date from the calendar (YYYY-MM-DD)."
        wanted.append(Wanted(what, owner, due, owner_field, due_field, ""))
    return wanted, errors


def _is_date(text: str) -> bool:
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def read_lines(raw: object, mentions: tuple[Mentioned, ...]) -> tuple[list[Wanted], str | None]:
    """One action per line, `@owner YYYY-MM-DD what`, parsed strictly; the first problem found."""
    text = raw if isinstance(raw, str) else ""
    if len(text) > 2 * MAX_LINES_FIELD + MAX_COMMAND_CHARS:
        return [], too_long("The action lines", len(text), MAX_LINES_FIELD)
    if len(clean_user_text(text)) > MAX_LINES_FIELD:
        return [], too_long("The action lines", len(clean_user_text(text)), MAX_LINES_FIELD)
    marked = {m.at: m for m in mentions if m.text and text.startswith(m.text, m.at)}
    lines = [(n, at, line) for n, at, line in _lines(text) if visible(clean_user_text(line))]
    if len(lines) > MAX_ACTIONS:
        return [], f"At most {MAX_ACTIONS} action items; these lines have {len(lines)}."
    wanted: list[Wanted] = []
    for number, start, line in lines:
        item = _read_line(number, start, line, marked)
        if isinstance(item, str):
            return [], item
        wanted.append(item)
    return wanted, None


def _lines(text: str) -> list[tuple[int, int, str]]:
    """(line number, where it starts in `text`, the line) for each line, with \\r\\n understood."""
    found, at = [], 0
    for number, line in enumerate(text.split("\n"), 1):
        found.append((number, at, line.removesuffix("\r")))
        at += len(line) + 1
    return found


def _read_line(number: int, start: int, line: str, marked: dict[int, Mentioned]) -> Wanted | str:
    where = f"Line {number}: "
    lead = len(line) - len(line.lstrip())
    owner = marked.get(start + lead)
    after = lead + len(owner.text) if owner else lead
    if owner is None or (after < len(line) and not line[after].isspace()):
        first = line.split()[0]
        if first.startswith("@"):
            return (
                f"{where}{first[:SHOWN_CHARS]} is not someone I can find. Type @ and pick the person "
                "from the list, or use an action row above."
            )
        return f"{where}start with the owner as an @mention, e.g. {LINE_EXAMPLE}"
    rest = line[after:].lstrip()
    token = rest.split()[0] if rest.split() else ""
    if not _ISO_DATE.fullmatch(token):
        return f"{where}after the owner, write the due date as YYYY-MM-DD, e.g. {LINE_EXAMPLE}"
    if not _is_date(token):
        return f"{where}{token} is not a date."
    described_at = start + len(line) - len(rest) + len(token)
    description, problem = read_text(rest[len(token) :], label="The action", limit=MAX_ACTION, required=False)
    if problem:
        return where + problem
    if not description:
        return f"{where}say what will be done after the date, e.g. {LINE_EXAMPLE}"
    named = tuple(m for at, m in sorted(marked.items()) if described_at <= at < start + len(line))
    return Wanted(description, owner.user, token, FieldId.LINES, FieldId.LINES, where, named)


@dataclass(frozen=True)
class Checked:
    actions: tuple[ActionItem, ...]
    errors: dict[str, str]
    names: tuple[str, ...]  # the owners' names, for the blame check


async def check_owners(
    wanted: list[Wanted], people: People, *, author: str, anonymous: bool, now: float
) -> Checked:
    """Each owner a person of this workspace (not a bot, and never the hidden author of an
    anonymous review), each date not yet passed on the owner's own calendar."""
    users = list(dict.fromkeys([w.owner for w in wanted] + [m.user for w in wanted for m in w.named]))
    if anonymous:  # nothing, not even a directory lookup, is asked about a hidden author
        users = [u for u in users if u != author]
    # A directory that does not answer must not cost the person what they wrote: the form stays.
    answers = await asyncio.gather(*(people.lookup(u) for u in users), return_exceptions=True)
    found: dict[str, PersonInfo | None] = {
        u: a for u, a in zip(users, answers, strict=True) if not isinstance(a, BaseException)
    }
    errors: dict[str, str] = {}
    actions: list[ActionItem] = []
    for w in wanted:
        if anonymous and w.owner == author:
            errors.setdefault(
                w.owner_field,
                f"{w.where}In an anonymous review you cannot own an action yourself: it would show who "
                "wrote it. Pick someone else, or untick Anonymous.",
            )
            continue
        if w.owner not in found:
            errors.setdefault(
                w.owner_field,
                f"{w.where}I could not check this person just now. Nothing is published yet: please "
                "send the form again in a moment.",
            )
            continue
        info = found[w.owner]
        if info is None or info.deleted:
            errors.setdefault(w.owner_field, f"{w.where}I could not find that person in this workspace.")
            continue
        if info.is_bot:
            errors.setdefault(
                w.owner_field, f"{w.where}Bots cannot own an action: pick the person who will do it."
            )
            continue
        tz = known_tz(info.tz)
        days = (date.fromisoformat(w.due_on) - today_in(now, tz)).days
        if days < 0:
            errors.setdefault(w.due_field, f"{w.where}{w.due_on} has passed. Pick today or a later date.")
            continue
        if days > MAX_DUE_DAYS:
            errors.setdefault(
                w.due_field, f"{w.where}{w.due_on} is more than two years away. Pick a nearer date."
            )
            continue
        description = w.description
        for mention in w.named:  # "@U0456" reads as the person's name
            person = found.get(mention.user)
            if person is not None:
                description = description.replace(mention.text, "@" + person.name)
        actions.append(ActionItem(description, w.owner, w.due_on, tz))
    names = tuple(info.name for info in found.values() if info is not None)
    return Checked(tuple(actions), errors, names)
