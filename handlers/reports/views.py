"""What the reports practice says: the team report, a person's home, the dashboard link."""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import (
    Actions,
    Block,
    ChannelRef,
    Context,
    Divider,
    Message,
    Reply,
    Section,
    Span,
    Strong,
    error,
    ok,
    rich,
    text_message,
)
from handlers.context import Syntax
from handlers.home import HomeSection
from handlers.reporting import WORKSPACE_NOTE, Figure
from handlers.reports import gather
from handlers.reports.ids import PERIODS, Commands, Verb

COMMAND = Commands.CANDOR
NOT_YET = "not enough data yet"


def number(value: float) -> str:
    """12 → "12", 83.33 → "83.33", 5.5 → "5.5"."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")


def value_text(figure: Figure) -> str:
    """A figure's value as people read it: "83.3%", "5.40 of 7", "+0.30", "12"; its note (why it
    is not shown) when it has no value."""
    value = figure.value
    if value is None:
        return figure.note or NOT_YET
    if figure.key.endswith((".change", ".trend")):
        return f"{value:+.2f}".replace("-", "−")
    if figure.unit == "%":
        return f"{number(value)}%"
    if figure.unit == "of 7":
        return f"{value:.2f} of 7"
    return f"{number(value)} {figure.unit}".rstrip()


def usage(syntax: Syntax, k: int) -> Reply:
    c = syntax.command
    return ok(
        rich(Strong("Candor's team report")),
        f"{c(COMMAND, 'report [30d|90d]')} in a team's channel: speaking up, recognition, failure reviews, "
        "check-ins, agreements and the pulse, for the last 30 (or 90) days. Figures about fewer than "
        f"{k} people or items are not shown.",
        f"{c(COMMAND, Verb.ME)}: what is yours (kudos received, open agreements and review actions, "
        "your check-ins).",
        f"{c(COMMAND, Verb.DASHBOARD)} (admins): a private link to the dashboard with charts, "
        "valid for one hour.",
    )


def bad_period(syntax: Syntax) -> Reply:
    return error(f"Usage: {syntax.command(COMMAND, 'report [30d|90d]')}: the period is 30d or 90d.")


def unknown(syntax: Syntax, verb: str) -> Reply:
    return error(
        f"I don't know {syntax.command(COMMAND, verb)}.",
        f"Type {syntax.command(COMMAND, Verb.HELP)} for what I can do.",
    )


def report_lines(figures: Sequence[Figure]) -> list[tuple[Span, ...]]:
    lines: list[tuple[Span, ...]] = []
    section = ""
    for figure in figures:
        if gather.section_of(figure) != section:
            section = gather.section_of(figure)
            lines.append(rich(Strong(gather.title_of(section))))
        shown = value_text(figure)
        extra = f" ({figure.note})" if figure.value is not None and figure.note else ""
        lines.append(rich(f"• {figure.label}: ", Strong(shown) if figure.value is not None else shown, extra))
    return lines


def report(figures: Sequence[Figure], days: int, conversation: str | None, k: int) -> Reply:
    where: tuple[Span, ...] = (
        (ChannelRef(conversation),) if conversation else (Strong("the whole workspace"),)
    )
    head = rich(Strong(f"Team report, last {days} days: "), *where)
    return Reply(
        Message(
            (
                Section(head),
                *(Section(line) for line in report_lines(figures)),
                Context(rich(footer(k, conversation))),
            )
        )
    )


def footer(k: int, conversation: str | None) -> str:
    """What a report says under its figures: the k-threshold, and for the whole workspace, that
    it counts only the teams whose figures are shown."""
    said = f"Figures about fewer than {k} people or items are not shown, to protect anonymity."
    return said if conversation else f"{said} {WORKSPACE_NOTE}"


def period_days(word: str) -> int | None:
    return PERIODS.get(word.lower())


def dashboard_link(url: str, relative: bool) -> Message:
    lines: list[str | tuple[Span, ...]] = [
        rich(Strong("Candor dashboard")),
        rich("Your link, valid for one hour: ", url),
        "Anyone with the link sees this workspace's dashboard until it expires: do not share it.",
    ]
    if relative:
        lines.append("Set CANDOR_PUBLIC_URL to Candor's public address to get a link you can click.")
    return text_message(*lines)


LINK_SENT = ok("I sent you the dashboard link in a private message. It is valid for one hour.")
LINK_FAILED = error(
    "I could not send you the link privately just now. If Candor has never sent you a private message, "
    "open a chat with Candor first (search for it by name), then ask again."
)
ADMINS_ONLY = error("Only Candor admins can open the dashboard.")


def home(sections: Sequence[HomeSection], admin: Sequence[tuple[Span, ...]] = ()) -> Message:
    blocks: list[Block] = [Section(rich(Strong("Your Candor")))]
    for section in sections:
        blocks.append(Section(rich(Strong(section.title))))
        if not section.lines:
            blocks.append(Context(rich(section.empty)))
        for i, line in enumerate(section.lines):
            blocks.append(Section(line))
            if i < len(section.buttons) and section.buttons[i]:
                blocks.append(Actions(section.buttons[i]))
    if admin:
        blocks.append(Divider())
        blocks += [Section(line) for line in admin]
    return Message(tuple(blocks))
