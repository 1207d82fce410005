"""A person's evidence as a file's text: Markdown for reading, CSV for a spreadsheet.

Everything in it came from people (examples, kudos, names), so each format escapes it its own way:
Markdown's markup and raw HTML are backslash-escaped, and a CSV cell that a spreadsheet would run as
a formula (=, +, -, @, tab, carriage return first) is prefixed with a quote (OWASP's advice).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence

from handlers.nominations.evidence_model import Group, Item, source_text

_MARKUP = re.compile(r"([\\`*_\[\]<>|~])")
# What would make a heading, a quote, a list or a rule of text that began a line.
_BLOCK_START = re.compile(r"^(\d*)([#>+=-]|(?<=\d)[.)])")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "date",
    "behaviour",
    "level",
    "source",
    "from",
    "channel",
    "evidence 1",
    "evidence 2",
    "evidence 3",
)


def md(text: str) -> str:
    """Text people wrote, on one line, with nothing a Markdown reader would act on."""
    escaped = _MARKUP.sub(r"\\\1", " ".join(text.split()))
    return _BLOCK_START.sub(r"\1\\\2", escaped)


def _by(item: Item, names: Mapping[str, str]) -> str:
    return names.get(item.by, item.by) if item.by else ""


def markdown(
    whose: str,
    exported: str,
    groups: Sequence[Group],
    names: Mapping[str, str],
    channels: Mapping[str, str],
    day: Callable[[float], str],
) -> str:
    """`day` turns an instant into the date shown (the person's own timezone)."""
    lines = [
        f"# Evidence: {md(whose)}",
        "",
        f"Exported {exported}. Nominations and kudos received, grouped by behaviour and level.",
    ]
    behaviour = None
    for group in groups:
        if group.behaviour != behaviour:
            behaviour = group.behaviour
            lines += ["", f"## {md(group.heading)}"]
        lines += ["", f"### {md(group.level_label)}"]
        if group.descriptor:
            lines += ["", f"_{md(group.descriptor)}_"]
        lines.append("")
        for item in group.items:
            by = _by(item, names)
            where = channels.get(item.conversation, item.conversation)
            head = f"- {day(item.when)} · {md(source_text(item))} in {md(where)}"
            lines.append(head + (f" · from {md(by)}" if by else ""))
            lines += [f"  - {md(text)}" for text in item.texts]
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value


def csv_text(
    groups: Sequence[Group],
    names: Mapping[str, str],
    channels: Mapping[str, str],
    day: Callable[[float], str],
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for group in groups:
        for item in group.items:
            texts = [*item.texts, "", "", ""][:3]
            row = [
                day(item.when),
                group.heading,
                group.level_label,
                source_text(item),
                _by(item, names),
                channels.get(item.conversation, item.conversation),
                *(" ".join(t.split()) for t in texts),
            ]
            writer.writerow([_cell(str(value)) for value in row])
    return out.getvalue()
