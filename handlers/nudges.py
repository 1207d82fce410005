"""Coaching nudges for managers: on demand, weekly by DM, scheduled in channels, and with 1:1s.

Nudges rotate per person (or per channel schedule) without repeating until all have been sent.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from bot import outbox
from bot.messages import (
    Choice,
    Context,
    Field,
    Form,
    FormErrors,
    Mention,
    Message,
    Reply,
    Section,
    Strong,
    error,
    ok,
    open_form,
    rich,
)
from bot.outbox import Channel, Person
from bot.recurrence import DAYS
from handlers import schedules
from handlers.catalog import Nudge
from handlers.context import Command, Services, Submission, timezone_of
from handlers.practice import HelpLine, Practice
from handlers.text import MAX_COMMAND_CHARS, clean_user_text
from handlers.timing import DAY_NAMES, InputError, parse_days, parse_time, parse_tz

SCHEDULE_FORM = "nudge_schedule"
ONE_ON_ONE_FORM = "one_on_one_create"


def usage() -> Reply:
    return ok(
        rich(Strong("Coaching nudges: one short prompt to lead with candour and clarity")),
        "/nudge gives you one now.",
        "/nudge weekly on [day] [HH:MM] sends you one by DM every week (default Monday 09:00 "
        "in your timezone); /nudge weekly off stops it.",
        "/nudge schedule opens a form to post nudges in a channel on a schedule.",
        "/checkin remind sets recurring 1:1 reminders, each with a coaching prompt.",
    )


def pick(tx: Database, scope: str, candidates: tuple[Nudge, ...], now: float) -> Nudge:
    """The next nudge for `scope` not yet sent in this rotation; a new rotation starts when all were."""
    sent = {r[0] for r in tx.execute("select nudge from nudge_log where scope = ?", [scope])}
    remaining = [n for n in candidates if n.slug not in sent]
    if not remaining:
        tx.execute("delete from nudge_log where scope = ?", [scope])
        remaining = list(candidates)
    chosen = remaining[0]
    tx.table("nudge_log").insert({"scope": scope, "nudge": chosen.slug, "sent_at": now})
    return chosen


def nudge_blocks(nudge: Nudge) -> tuple[Any, ...]:
    return (
        Section(rich("💡 ", Strong(nudge.text))),
        Context(rich(f"Why: {nudge.why} · #{nudge.tag}")),
    )


def _person_scope(platform: str, workspace: str, user: str) -> str:
    return f"person:{platform}:{workspace}:{user}"


async def handle(cmd: Command, services: Services) -> Reply:
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return error("That is too long for /nudge. Type /nudge help for the options.")
    words = clean_user_text(cmd.text).split()
    verb = words[0].lower() if words else ""
    if verb == "":
        with services.store.transaction() as tx:
            nudge = pick(
                tx,
                _person_scope(cmd.platform, cmd.workspace, cmd.user),
                services.catalog.nudges,
                services.clock.now(),
            )
        return Reply(Message(nudge_blocks(nudge)))
    if verb in ("help", "?"):
        return usage()
    if verb == "weekly":
        return await weekly(cmd, services, [w.lower() for w in words[1:]])
    if verb == "schedule":
        return open_form(schedule_form(cmd, services, await timezone_of(services, cmd.platform, cmd.user)))
    return error(f"I don't know /nudge {verb[:30]}.", "Type /nudge help for what I can do.")


async def weekly(cmd: Command, services: Services, args: list[str]) -> Reply:
    if not args or args[0] not in ("on", "off"):
        return error("Usage: /nudge weekly on [day] [HH:MM], or /nudge weekly off")
    mine = "platform = ? and workspace = ? and owner = ? and kind = 'weekly_nudge'"
    key = [cmd.platform, cmd.workspace, cmd.user]
    if args[0] == "off":
        with services.store.transaction() as tx:
            removed = tx.execute(f"delete from schedules where {mine}", key).rowcount
        services.schedules_changed()
        return ok("Weekly nudges are off." if removed else "You had no weekly nudges; nothing changed.")
    try:
        days = parse_days(args[1]) if len(args) > 1 else "mon"
        at = parse_time(args[2]) if len(args) > 2 else "09:00"
        tz = parse_tz(await timezone_of(services, cmd.platform, cmd.user))
    except InputError as exc:
        return error(str(exc), "Usage: /nudge weekly on [day] [HH:MM], e.g. /nudge weekly on mon 09:00")
    if len(args) > 3:
        return error("Usage: /nudge weekly on [day] [HH:MM], e.g. /nudge weekly on mon 09:00")
    with services.store.transaction() as tx:
        tx.execute(f"delete from schedules where {mine}", key)  # one weekly nudge per person
        schedules.insert_schedule(
            tx,
            services,
            platform=cmd.platform,
            workspace=cmd.workspace,
            conversation=cmd.user,
            kind="weekly_nudge",
            owner=cmd.user,
            days=days,
            at=at,
            tz=tz,
        )
    services.schedules_changed()
    return ok(f"Weekly nudges are on: {schedules.describe(days, at, tz)}, by DM.")


def schedule_form(cmd: Command, services: Services, tz: str | None) -> Form:
    return Form(
        callback=SCHEDULE_FORM,
        title="Schedule nudges",
        submit="Schedule",
        fields=(
            *schedules.schedule_fields(cmd.conversation, tz),
            Field(
                "tags",
                "Topics (none means all)",
                "multi_select",
                optional=True,
                choices=tuple(Choice(t, t) for t in services.catalog.nudge_tags()),
            ),
        ),
    )


async def submit_schedule(sub: Submission, services: Services) -> Reply | FormErrors:
    errors: dict[str, str] = {}
    when = schedules.read_when(sub.values, errors)
    conversation = str(sub.values.get("channel") or "")
    raw_tags = sub.values.get("tags") or []
    tags = [raw_tags] if isinstance(raw_tags, str) else list(raw_tags)
    known = set(services.catalog.nudge_tags())
    if any(t not in known for t in tags):
        errors["tags"] = "Pick topics from the list."
    if not errors:
        await schedules.check_channel(services, sub, conversation, errors)
    if errors or when is None:
        return FormErrors(errors)
    schedule_id = schedules.create(
        services, sub, conversation=conversation, kind="nudge", when=when, tags=sorted(tags)
    )
    if isinstance(schedule_id, FormErrors):
        return schedule_id
    days, at, tz = when
    return ok(f"Coaching nudges #{schedule_id} are scheduled: {schedules.describe(days, at, tz)}.")


async def one_on_one_form(cmd: Command, services: Services) -> Reply:
    tz = await timezone_of(services, cmd.platform, cmd.user)
    return open_form(
        Form(
            callback=ONE_ON_ONE_FORM,
            title="1:1 reminders",
            submit="Remind me",
            fields=(
                Field("report", "Who do you meet?", "user"),
                Field(
                    "every",
                    "How often",
                    "select",
                    choices=tuple(
                        Choice(str(n), "every week" if n == 1 else f"every {n} weeks") for n in (1, 2, 3, 4)
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
                Field(
                    "tz",
                    "Timezone",
                    "text",
                    initial=tz,
                    max_length=64,
                ),
            ),
        )
    )


async def submit_one_on_one(sub: Submission, services: Services) -> Reply | FormErrors:
    errors: dict[str, str] = {}
    values = {**sub.values, "days": sub.values.get("day")}
    when = schedules.read_when(values, errors)
    if "days" in errors:
        errors["day"] = errors.pop("days")
    report = str(sub.values.get("report") or "")
    every = str(sub.values.get("every") or "")
    if every not in ("1", "2", "3", "4"):
        errors["every"] = "Pick how often you meet."
    if not report:
        errors["report"] = "Pick the person you meet."
    elif report == sub.user:
        errors["report"] = "Pick someone other than yourself."
    else:
        person = await services.people_for(sub.platform).lookup(report)
        if person is None or person.is_bot or person.deleted:
            errors["report"] = "Pick a person in this workspace (not a bot)."
    if errors or when is None:
        return FormErrors(errors)
    schedule_id = schedules.create(
        services,
        sub,
        conversation=sub.user,
        kind="one_on_one",
        when=when,
        cap_field="report",
        subject=report,
        every_weeks=int(every),
    )
    if isinstance(schedule_id, FormErrors):
        return schedule_id
    days, at, tz = when
    return ok(
        rich(
            f"1:1 reminder #{schedule_id} is set for your meetings with ",
            Mention(report),
            f": {schedules.describe(days, at, tz, int(every))}.",
        )
    )


def _candidates(row: dict[str, Any], services: Services) -> tuple[Nudge, ...]:
    tags = set(json.loads(row["tags"] or "[]"))
    chosen = tuple(n for n in services.catalog.nudges if not tags or n.tag in tags)
    return chosen or services.catalog.nudges


def fire_channel(
    tx: Database, row: dict[str, Any], occurrence: float, now: float, services: Services
) -> None:
    nudge = pick(tx, f"schedule:{row['id']}", _candidates(row, services), now)
    outbox.enqueue(
        tx,
        platform=row["platform"],
        to=Channel(row["conversation"]),
        message=Message(nudge_blocks(nudge)),
        now=now,
    )


def fire_weekly(tx: Database, row: dict[str, Any], occurrence: float, now: float, services: Services) -> None:
    scope = _person_scope(row["platform"], row["workspace"], row["owner"])
    nudge = pick(tx, scope, services.catalog.nudges, now)
    outbox.enqueue(
        tx,
        platform=row["platform"],
        to=Person(row["owner"]),
        message=Message((Section(rich("Your weekly coaching nudge")), *nudge_blocks(nudge))),
        now=now,
    )


def fire_one_on_one(
    tx: Database, row: dict[str, Any], occurrence: float, now: float, services: Services
) -> None:
    scope = _person_scope(row["platform"], row["workspace"], row["owner"])
    nudge = pick(tx, scope, services.catalog.nudges, now)
    message = Message(
        (
            Section(rich("🤝 Your 1:1 with ", Mention(row["subject"]), " is due. One prompt for it:")),
            *nudge_blocks(nudge),
        )
    )
    outbox.enqueue(tx, platform=row["platform"], to=Person(row["owner"]), message=message, now=now)


def forget_schedule(tx: Database, schedule_id: int) -> None:
    tx.table("nudge_log").delete_where("scope = ?", [f"schedule:{schedule_id}"])


PRACTICE = Practice(
    name="nudges",
    commands={"nudge": handle},
    forms={SCHEDULE_FORM: submit_schedule, ONE_ON_ONE_FORM: submit_one_on_one},
    schedule_kinds={"nudge": fire_channel, "weekly_nudge": fire_weekly, "one_on_one": fire_one_on_one},
    help=(HelpLine("nudge", "", "a coaching prompt for managers, now, weekly or on a channel schedule."),),
    on_schedule_delete=forget_schedule,
)
