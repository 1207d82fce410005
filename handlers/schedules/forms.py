"""What every schedule form shares: the where-and-when fields, their checks, and storing the row.

Check-ins, channel nudges and 1:1 reminders start their forms with these fields and store their
rows through `create`, which keeps each conversation within its cap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.messages import Choice, Field, FormErrors, Values
from bot.recurrence import DAYS, monday_of
from handlers.context import Services, Submission, is_admin
from handlers.schedules import store
from handlers.schedules.ids import SCHEDULES_COMMAND
from handlers.timing import DAY_NAMES, InputError, parse_days, parse_time, parse_tz


@dataclass(frozen=True)
class When:
    days: str  # "mon,thu"
    at: str  # "09:30"
    tz: str  # an IANA name


def schedule_fields(conversation: str, tz: str | None) -> tuple[Field, ...]:
    """Where and when: the fields every schedule form starts with."""
    return (
        Field("channel", "Channel", "channel", initial=conversation or None),
        Field(
            "days",
            "Days",
            "checkboxes",
            choices=tuple(Choice(d, DAY_NAMES[d]) for d in DAYS),
            initial=("mon",),
        ),
        Field("time", "Local time", "time", initial="09:30"),
        Field(
            "tz",
            "Timezone",
            "text",
            initial=tz or "UTC",
            max_length=64,
            hint="An IANA name such as Europe/Berlin, America/New_York or Asia/Kolkata.",
        ),
    )


def _one(value: str | list[str] | None) -> str | None:
    return value if isinstance(value, str) else None


def read_when(values: Values, errors: dict[str, str]) -> When | None:
    """Days, time and timezone from a submitted form, recording one message per bad field in `errors`."""
    checks: tuple[tuple[str, Callable[[], str]], ...] = (
        ("days", lambda: parse_days(values.get("days"))),
        ("time", lambda: parse_time(_one(values.get("time")))),
        ("tz", lambda: parse_tz(_one(values.get("tz")))),
    )
    parsed: dict[str, str] = {}
    for name, parse in checks:
        try:
            parsed[name] = parse()
        except InputError as exc:
            errors[name] = str(exc)
    if errors:
        return None
    return When(parsed["days"], parsed["time"], parsed["tz"])


async def check_channel(
    services: Services, sub: Submission, conversation: str, errors: dict[str, str]
) -> None:
    """The bot must be able to post there, and the person must belong there (or be an admin)."""
    people = services.people_for(sub.platform)
    if not conversation:
        errors["channel"] = "Pick a channel."
    elif not await people.bot_is_member(conversation):
        hint = services.syntax_for(sub.platform).invite_hint
        errors["channel"] = f"Candor is not in that channel yet: {hint}, then submit again."
    elif not await is_admin(services, sub.platform, sub.user) and sub.user not in await people.members(
        conversation
    ):
        errors["channel"] = "You can only schedule posts in a channel you are a member of."


def anchor_for(now: float, tz: str, every_weeks: int) -> str:
    """Week 0 of a rotation of several weeks: this week's Monday where the schedule lives. Weekly
    schedules have none, so they share one job whatever week they were made in."""
    if every_weeks <= 1:
        return ""
    return monday_of(datetime.fromtimestamp(now, ZoneInfo(tz)).date()).isoformat()


async def create(
    services: Services,
    sub: Submission,
    *,
    conversation: str,
    kind: str,
    when: When,
    cap_field: str = "channel",
    every_weeks: int = 1,
    subject: str | None = None,
    template: str | None = None,
    custom_text: str | None = None,
    tags: tuple[str, ...] = (),
    remind: bool = False,
    skip_dates: tuple[str, ...] = (),
) -> int | FormErrors:
    """Store a schedule from a submitted form (within the per-conversation cap) and rebuild jobs."""
    now = services.clock.now()
    cap = services.settings.max_schedules_per_channel

    def work(tx: Database) -> int | None:  # None: the conversation is at its cap
        count = store.count_in_conversation(
            tx, platform=sub.platform, workspace=sub.workspace, conversation=conversation
        )
        if count >= cap:
            return None
        return store.insert(
            tx,
            platform=sub.platform,
            workspace=sub.workspace,
            conversation=conversation,
            kind=kind,
            owner=sub.user,
            days=when.days,
            at=when.at,
            tz=when.tz,
            now=now,
            every_weeks=every_weeks,
            anchor=anchor_for(now, when.tz, every_weeks),
            subject=subject,
            template=template,
            custom_text=custom_text,
            tags=tags,
            remind=remind,
            skip_dates=skip_dates,
        )

    schedule_id = await services.store.run(work)
    if schedule_id is None:
        remove = services.syntax_for(sub.platform).command(SCHEDULES_COMMAND, "delete <id>")
        return FormErrors(
            {cap_field: f"That channel already has {cap} schedules, the limit. Remove one with {remove}."}
        )
    await services.schedules_changed()
    return schedule_id
