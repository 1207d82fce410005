"""What coaching nudges look like: the nudge, the DMs that carry one, the forms, the replies."""

from __future__ import annotations

from bot.messages import (
    Block,
    Choice,
    Context,
    Field,
    Form,
    Mention,
    Message,
    Reply,
    Section,
    Strong,
    ok,
    rich,
)
from bot.recurrence import DAYS
from handlers.catalog import Nudge
from handlers.context import Syntax
from handlers.nudges.ids import COMMAND, NudgeForm
from handlers.schedules.forms import When, schedule_fields
from handlers.schedules.ids import SCHEDULES_COMMAND
from handlers.timing import DAY_NAMES, describe

EVERY_WEEKS = (1, 2, 3, 4)


def usage(syntax: Syntax) -> Reply:
    return ok(
        rich(Strong("Coaching nudges: one short prompt to lead with candour and clarity")),
        f"{syntax.command(COMMAND)} gives you one now.",
        f"{syntax.command(COMMAND, 'weekly on [day] [HH:MM]')} sends you one in a private message every "
        f"week (default Monday 09:00 in your timezone); {syntax.command(COMMAND, 'weekly off')} stops it.",
        f"{syntax.command(COMMAND, 'schedule')} opens a form to post nudges in a channel on a schedule.",
        f"{syntax.command(SCHEDULES_COMMAND, 'remind')} sets recurring 1:1 reminders, "
        "each with a coaching prompt.",
    )


def weekly_usage(syntax: Syntax, *, example: bool = False) -> str:
    if example:
        return (
            f"Usage: {syntax.command(COMMAND, 'weekly on [day] [HH:MM]')}, "
            f"e.g. {syntax.command(COMMAND, 'weekly on mon 09:00')}"
        )
    on, off = syntax.command(COMMAND, "weekly on [day] [HH:MM]"), syntax.command(COMMAND, "weekly off")
    return f"Usage: {on}, or {off}"


def nudge_blocks(nudge: Nudge) -> tuple[Block, ...]:
    return (
        Section(rich("💡 ", Strong(nudge.text))),
        Context(rich(f"Why: {nudge.why} · #{nudge.tag}")),
    )


def nudge_message(nudge: Nudge) -> Message:
    return Message(nudge_blocks(nudge))


def weekly_message(nudge: Nudge) -> Message:
    return Message((Section(rich("Your weekly coaching nudge")), *nudge_blocks(nudge)))


def one_on_one_message(report: str, nudge: Nudge) -> Message:
    return Message(
        (
            Section(rich("🤝 Your 1:1 with ", Mention(report), " is due. One prompt for it:")),
            *nudge_blocks(nudge),
        )
    )


def weekly_on(when: When) -> Reply:
    return ok(f"Weekly nudges are on: {describe(when.days, when.at, when.tz)}, in a private message.")


def weekly_off(removed: bool) -> Reply:
    return ok("Weekly nudges are off." if removed else "You had no weekly nudges; nothing changed.")


def schedule_form(conversation: str, tz: str | None, tags: tuple[str, ...]) -> Form:
    return Form(
        callback=NudgeForm.SCHEDULE,
        title="Schedule nudges",
        submit="Schedule",
        fields=(
            *schedule_fields(conversation, tz),
            Field(
                "tags",
                "Topics (none means all)",
                "multi_select",
                optional=True,
                choices=tuple(Choice(t, t) for t in tags),
            ),
        ),
    )


def channel_scheduled(schedule_id: int, when: When) -> Reply:
    return ok(f"Coaching nudges #{schedule_id} are scheduled: {describe(when.days, when.at, when.tz)}.")


def one_on_one_form(tz: str) -> Form:
    return Form(
        callback=NudgeForm.ONE_ON_ONE,
        title="1:1 reminders",
        submit="Remind me",
        fields=(
            Field("report", "Who do you meet?", "user"),
            Field(
                "every",
                "How often",
                "select",
                choices=tuple(
                    Choice(str(n), "every week" if n == 1 else f"every {n} weeks") for n in EVERY_WEEKS
                ),
                initial="2",
            ),
            Field(
                "day",
                "Day",
                "select",
                choices=tuple(Choice(d, DAY_NAMES[d]) for d in DAYS[:5]),
                initial="tue",
            ),
            Field("time", "Remind me at", "time", initial="10:00"),
            Field("tz", "Timezone", "text", initial=tz, max_length=64),
        ),
    )


def one_on_one_set(schedule_id: int, report: str, when: When, every_weeks: int) -> Reply:
    return ok(
        rich(
            f"1:1 reminder #{schedule_id} is set for your meetings with ",
            Mention(report),
            f": {describe(when.days, when.at, when.tz, every_weeks)}.",
        )
    )
