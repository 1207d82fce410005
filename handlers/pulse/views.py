"""What the pulse says and posts: neutral messages and forms, apart from the rules that choose them.

Nothing here names a platform: commands are written with the request's `Syntax`, and each
adapter's renderer fits texts to its platform's limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.messages import (
    Actions,
    Block,
    Button,
    ChannelRef,
    Choice,
    Context,
    Divider,
    Field,
    Form,
    Message,
    Quote,
    Reply,
    Section,
    Span,
    Strong,
    error,
    ok,
    open_form,
    rich,
)
from handlers.context import Syntax
from handlers.pulse.content import Survey
from handlers.pulse.ids import ActionId, Commands, FormId, Repeat, Verb, Withheld
from handlers.pulse.rules import DEFAULT_OPEN_DAYS, MAX_COMMENT, OPEN_DAYS, REPEAT_LABELS
from handlers.pulse.store import Round, Schedule

COMMAND = Commands.PULSE


def day(instant: float, tz: str = "UTC") -> str:
    """ "Fri 12 Jun 2026": a round's dates, in the scheduler's timezone."""
    return datetime.fromtimestamp(instant, ZoneInfo(tz)).strftime("%a %d %b %Y")


def what_is_kept(k: int) -> str:
    return (
        "Anonymous: your answers are stored without your name, without the time you answered, and "
        "apart from the record that you answered (which only decides who gets a reminder). Results "
        f"appear in the channel when the round closes, and only if at least {k} people answered; "
        "comments only if at least 10 did."
    )


# --- usage and refusals -------------------------------------------------------------------------
def usage(syntax: Syntax, k: int) -> Reply:
    c = syntax.command
    return ok(
        rich(Strong("Team pulse: how safe does this team feel?")),
        "Seven statements from Amy Edmondson's psychological safety scale, answered anonymously on a "
        "7-point scale by the channel's members, monthly by default.",
        f"{c(COMMAND)} schedules it for a channel (admins and managers); "
        f"{c(COMMAND, 'start [monthly|fortnightly|quarterly|once]')} does it here in one line, "
        "the first round now.",
        f"{c(COMMAND, Verb.STATUS)} shows this channel's schedule and rounds, "
        f"{c(COMMAND, Verb.RESULTS)} the latest results, {c(COMMAND, Verb.CLOSE)} closes the open round "
        f"now, {c(COMMAND, Verb.STOP)} stops the schedule.",
        what_is_kept(k),
    )


def unknown(syntax: Syntax, verb: str) -> Reply:
    return error(
        f"I don't know {syntax.command(COMMAND, verb)}.",
        f"Type {syntax.command(COMMAND, Verb.HELP)} for what I can do.",
    )


def too_long(syntax: Syntax) -> Reply:
    return error(f"That is too long for {syntax.command(COMMAND)}. Type {syntax.command(COMMAND, 'help')}.")


NOT_ALLOWED_TEXT = "Only Candor admins and managers (CANDOR_MANAGERS) can schedule, close or stop a pulse."
NOT_ALLOWED = error(NOT_ALLOWED_TEXT)


def start_usage(syntax: Syntax) -> Reply:
    return error(f"Usage: {syntax.command(COMMAND, 'start [monthly|fortnightly|quarterly|once]')}")


# --- scheduling ---------------------------------------------------------------------------------
def schedule_form(conversation: str, today: str) -> Form:
    return Form(
        callback=FormId.SCHEDULE,
        title="Schedule a team pulse",
        submit="Schedule",
        intro=(
            Section(
                rich(
                    "Every member of the channel gets the seven questions privately. Each round "
                    "opens at 10:00 your time and closes after the days you choose; members who have "
                    "not answered get one reminder."
                )
            ),
        ),
        fields=(
            Field("channel", "Team channel", "channel", initial=conversation or None),
            Field(
                "repeat",
                "How often",
                "select",
                choices=tuple(Choice(r.value, label) for r, label in REPEAT_LABELS.items()),
                initial=Repeat.MONTHLY.value,
            ),
            Field("start", "First round", "date", initial=today),
            Field(
                "days",
                "Open for",
                "select",
                choices=tuple(Choice(str(d), f"{d} days") for d in OPEN_DAYS),
                initial=str(DEFAULT_OPEN_DAYS),
            ),
        ),
    )


def scheduled(syntax: Syntax, schedule: Schedule, first_at: float) -> Reply:
    how = REPEAT_LABELS[schedule.repeat].lower()
    return ok(
        rich(
            "Pulse scheduled for ",
            ChannelRef(schedule.conversation),
            f": {how}, the first round on {day(first_at, schedule.tz)}, open {schedule.open_days} days.",
        ),
        f"{syntax.command(COMMAND, Verb.STATUS)} in that channel shows it; "
        f"{syntax.command(COMMAND, Verb.STOP)} stops it.",
    )


# --- the member's card and form -----------------------------------------------------------------
def invite_card(survey: Survey, round_id: int, closes: str, k: int, *, reminder: bool = False) -> Message:
    head = (
        rich("A gentle reminder: the ", Strong(survey.title), f" is open until {closes}.")
        if reminder
        else rich(Strong(f"🌡️ {survey.title}"), f" · open until {closes}")
    )
    blocks: list[Block] = [Section(head)]
    if not reminder:
        blocks.append(Section(rich(survey.intro)))
        blocks += [Section(rich(f"{item.number}. {item.text}")) for item in survey.items]
        blocks.append(Section(rich("Optionally, a comment.")))
    blocks.append(Actions((Button("Answer", ActionId.ANSWER, str(round_id), "primary"),)))
    blocks.append(Context(rich(what_is_kept(k) if not reminder else "You get this reminder once.")))
    return Message(tuple(blocks))


def answer_form(survey: Survey, round_id: int, closes: str, k: int) -> Reply:
    choices = tuple(Choice(str(n), f"{n} · {label}") for n, label in enumerate(survey.scale, start=1))
    return open_form(
        Form(
            callback=FormId.ANSWER,
            title=survey.title,
            submit="Send anonymously",
            intro=(
                Section(rich(survey.intro)),
                Context(rich(" · ".join(f"{n} {label}" for n, label in enumerate(survey.scale, start=1)))),
                Context(rich(what_is_kept(k), f" Open until {closes}.")),
            ),
            fields=(
                *(
                    Field(f"q{item.number}", f"{item.number}. {item.text}", "select", choices)
                    for item in survey.items
                ),
                Field(
                    "comment",
                    "A comment (optional)",
                    "multiline",
                    optional=True,
                    max_length=MAX_COMMENT,
                    hint="Shown in the results, without your name, only if at least 10 people answer.",
                ),
            ),
            context=str(round_id),
        )
    )


THANKS = ok(
    rich(Strong("Thank you. Your answer is recorded.")),
    "It is stored without your name or the time, and cannot be changed or traced back to you.",
)
ALREADY = "You already answered this round. Answers cannot be changed: they are stored without your name."
NOT_INVITED = "This pulse is for the members its channel had when it opened."
NO_ROUND = "This pulse no longer exists."


def values_logged(reason: str) -> str:
    return (
        "The pulse is paused: Candor's database server keeps the values it is sent in its log "
        f"({reason}), where who answered would sit beside what they answered. Nothing was saved. "
        "An operator can set log_parameter_max_length = 0 (see the README on PostgreSQL's logs)."
    )


PICK = "Pick one of the seven answers."


def closed(round_: Round) -> str:
    return f"This pulse closed on {day(round_.closed_at or round_.closes_at)}. Your answer was not recorded."


# --- in the channel -----------------------------------------------------------------------------
def announcement(survey: Survey, invited: int, closes: str, k: int) -> Message:
    return Message(
        (
            Section(rich(Strong(f"🌡️ {survey.title} is open"), f" until {closes}.")),
            Section(
                rich(
                    f"Each of the {invited} members has the seven questions in a private message. "
                    f"Results appear here when it closes, if at least {k} people answer."
                )
            ),
            Context(rich("Answers are anonymous: stored without names or times, apart from who answered.")),
        )
    )


def skipped_post(members: int, k: int) -> Message:
    return Message(
        (
            Section(
                rich(
                    f"The team pulse did not open: the channel has {members} members and results need at "
                    f"least {k} answers, so nobody's answers could ever be shown safely."
                )
            ),
        )
    )


def _signed(value: float) -> str:
    return f"{value:+.2f}".replace("-", "−")


def results_card(
    survey: Survey,
    round_: Round,
    previous: Round | None,
    comments: Sequence[str],
    *,
    comments_k: int,
) -> Message:
    assert round_.score is not None and round_.item_means is not None
    blocks: list[Block] = [
        Section(rich(Strong(f"🌡️ {survey.title}: results"), f" · closed {day(round_.closed_at or 0)}")),
        Section(rich("Team score: ", Strong(f"{round_.score:.2f}"), " out of 7")),
    ]
    if previous is not None and previous.score is not None:
        blocks.append(
            Section(
                rich(
                    f"Change since the last round ({day(previous.closed_at or 0)}): "
                    f"{_signed(round_.score - previous.score)}"
                )
            )
        )
    else:
        blocks.append(Section(rich("Change since the last round: this is the first round with results.")))
    blocks.append(
        Section(
            rich(f"Response rate: {round_.response_rate:.0f}% ({round_.answers} of {round_.invited} members)")
        )
    )
    blocks.append(Divider())
    for item, mean in zip(survey.items, round_.item_means, strict=True):
        reverse = " (reverse-scored)" if item.reverse else ""
        blocks.append(Section(rich(Strong(f"{mean:.2f}"), f" · {item.number}. {item.text}{reverse}")))
    blocks.append(
        Context(
            rich(
                "Means out of 7, higher is safer on every line: items 1, 3 and 5 are worded negatively "
                "and scored 8 − answer."
            )
        )
    )
    if comments:
        blocks.append(Section(rich(Strong("Comments"), " (in random order)")))
        blocks += [Quote(c) for c in comments]
    elif (round_.answers or 0) < comments_k:
        blocks.append(Context(rich(f"Comments are shown only when at least {comments_k} people answer.")))
    return Message(tuple(blocks))


def withheld_card(survey: Survey, round_: Round, k: int) -> Message:
    if round_.withheld == Withheld.OVERLAP:
        why = (
            "Its respondents overlap another team's pulse of the same days so closely that comparing the two "
            f"would single out fewer than {k} people, so its results are not shown."
        )
    else:
        why = f"Not enough answers yet: results are shown only when at least {k} people answer."
    return Message(
        (
            Section(rich(Strong(f"🌡️ {survey.title} closed"), f" · {day(round_.closed_at or 0)}")),
            Section(rich(why)),
            Context(rich("Its answers were deleted, so nothing kept could point at anyone.")),
        )
    )


# --- status -------------------------------------------------------------------------------------
def status(
    syntax: Syntax,
    conversation: str,
    schedule: Schedule | None,
    open_: Round | None,
    last: Round | None,
    k: int,
) -> Reply:
    lines: list[str | tuple[Span, ...]] = [rich(Strong("Team pulse in "), ChannelRef(conversation))]
    if schedule and schedule.next_at is not None:
        how = REPEAT_LABELS[schedule.repeat].lower()
        lines.append(
            f"Schedule: {how}, open {schedule.open_days} days; "
            f"next round {day(schedule.next_at, schedule.tz)}."
        )
    else:
        lines.append(f"No schedule. {syntax.command(COMMAND)} sets one up (admins and managers).")
    if open_:
        lines.append(f"A round is open until {day(open_.closes_at)}.")
    if last:
        if last.published:
            lines.append(
                f"Last results ({day(last.closed_at or 0)}): team score {last.score:.2f} of 7, "
                f"response rate {last.response_rate:.0f}%. "
                f"{syntax.command(COMMAND, Verb.RESULTS)} shows them."
            )
        else:
            lines.append(
                f"The last round ({day(last.closed_at or 0)}) had fewer than {k} answers: not shown."
            )
    return ok(*lines)


def no_results(k: int) -> Reply:
    return ok(f"Not enough answers yet: no round here has closed with at least {k} answers.")
