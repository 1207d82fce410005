"""The nudge rules: on demand, weekly by DM, scheduled in channels, and with 1:1 reminders.

Nudges rotate per person (or per channel schedule) without repeating until all have been sent.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot import outbox
from bot.messages import FormErrors, Reply, error, open_form
from bot.outbox import Channel, Person
from handlers.catalog import Nudge
from handlers.context import Command, Services, Submission, timezone_of
from handlers.nudges import store, views
from handlers.nudges.ids import COMMAND, NudgeKind
from handlers.nudges.views import EVERY_WEEKS
from handlers.schedules import forms as schedule_forms
from handlers.schedules import store as schedules
from handlers.schedules.forms import When
from handlers.schedules.store import Schedule
from handlers.text import MAX_COMMAND_CHARS, clean_user_text
from handlers.timing import InputError, parse_days, parse_time, parse_tz


def pick(tx: Database, scope: str, candidates: tuple[Nudge, ...], now: float) -> Nudge:
    """The next nudge for `scope` not yet sent in this rotation; a new rotation starts when all were."""
    sent = store.sent_in_rotation(tx, scope=scope)
    remaining = [n for n in candidates if n.slug not in sent]
    if not remaining:
        store.clear_rotation(tx, scope=scope)
        remaining = list(candidates)
    chosen = remaining[0]
    store.record_sent(tx, scope=scope, nudge=chosen.slug, now=now)
    return chosen


def person_scope(platform: str, workspace: str, user: str) -> str:
    return f"person:{platform}:{workspace}:{user}"


def schedule_scope(schedule_id: int) -> str:
    return f"schedule:{schedule_id}"


async def handle(cmd: Command, services: Services) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return error(
            f"That is too long for {syntax.command(COMMAND)}. "
            f"Type {syntax.command(COMMAND, 'help')} for the options."
        )
    words = clean_user_text(cmd.text).split()
    verb = words[0].lower() if words else ""
    if verb == "":
        scope = person_scope(cmd.platform, cmd.workspace, cmd.user)
        now = services.clock.now()
        nudge = await services.store.run(lambda tx: pick(tx, scope, services.catalog.nudges, now))
        return Reply(views.nudge_message(nudge))
    if verb in ("help", "?"):
        return views.usage(syntax)
    if verb == "weekly":
        return await weekly(cmd, services, [w.lower() for w in words[1:]])
    if verb == "schedule":
        tz = await timezone_of(services, cmd.platform, cmd.user)
        return open_form(views.schedule_form(cmd.conversation, tz, services.catalog.nudge_tags()))
    return error(
        f"I don't know {syntax.command(COMMAND, verb[:30])}.",
        f"Type {syntax.command(COMMAND, 'help')} for what I can do.",
    )


async def weekly(cmd: Command, services: Services, args: list[str]) -> Reply:
    """`/nudge weekly on [day] [HH:MM]` (one per person: it replaces an earlier one) or `off`."""
    syntax = services.syntax_for(cmd.platform)
    if not args or args[0] not in ("on", "off"):
        return error(views.weekly_usage(syntax))
    mine = {"platform": cmd.platform, "workspace": cmd.workspace, "owner": cmd.user, "kind": NudgeKind.WEEKLY}
    if args[0] == "off":
        removed = await services.store.run(lambda tx: schedules.delete_owned(tx, **mine))
        await services.schedules_changed()
        return views.weekly_off(bool(removed))
    try:
        days = parse_days(args[1]) if len(args) > 1 else "mon"
        at = parse_time(args[2]) if len(args) > 2 else "09:00"
        tz = parse_tz(await timezone_of(services, cmd.platform, cmd.user))
    except InputError as exc:
        return error(str(exc), views.weekly_usage(syntax, example=True))
    if len(args) > 3:
        return error(views.weekly_usage(syntax, example=True))
    now = services.clock.now()

    def replace(tx: Database) -> None:
        schedules.delete_owned(tx, **mine)
        schedules.insert(
            tx,
            platform=cmd.platform,
            workspace=cmd.workspace,
            conversation=cmd.user,
            kind=NudgeKind.WEEKLY,
            owner=cmd.user,
            days=days,
            at=at,
            tz=tz,
            now=now,
        )

    await services.store.run(replace)
    await services.schedules_changed()
    return views.weekly_on(When(days, at, tz))


async def submit_schedule(sub: Submission, services: Services) -> Reply | FormErrors:
    errors: dict[str, str] = {}
    when = schedule_forms.read_when(sub.values, errors)
    conversation = str(sub.values.get("channel") or "")
    raw_tags = sub.values.get("tags") or []
    tags = [raw_tags] if isinstance(raw_tags, str) else list(raw_tags)
    known = set(services.catalog.nudge_tags())
    if any(t not in known for t in tags):
        errors["tags"] = "Pick topics from the list."
    if not errors:
        await schedule_forms.check_channel(services, sub, conversation, errors)
    if errors or when is None:
        return FormErrors(errors)
    schedule_id = await schedule_forms.create(
        services, sub, conversation=conversation, kind=NudgeKind.CHANNEL, when=when, tags=tuple(sorted(tags))
    )
    if isinstance(schedule_id, FormErrors):
        return schedule_id
    return views.channel_scheduled(schedule_id, when)


async def one_on_one_form(cmd: Command, services: Services) -> Reply:
    """Opened by `/checkin remind`: a manager's recurring reminder of a 1:1, with a prompt."""
    return open_form(views.one_on_one_form(await timezone_of(services, cmd.platform, cmd.user)))


async def submit_one_on_one(sub: Submission, services: Services) -> Reply | FormErrors:
    errors: dict[str, str] = {}
    when = schedule_forms.read_when({**sub.values, "days": sub.values.get("day")}, errors)
    if "days" in errors:
        errors["day"] = errors.pop("days")
    report = str(sub.values.get("report") or "")
    every = str(sub.values.get("every") or "")
    if every not in {str(n) for n in EVERY_WEEKS}:
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
    schedule_id = await schedule_forms.create(
        services,
        sub,
        conversation=sub.user,
        kind=NudgeKind.ONE_ON_ONE,
        when=when,
        cap_field="report",
        subject=report,
        every_weeks=int(every),
    )
    if isinstance(schedule_id, FormErrors):
        return schedule_id
    return views.one_on_one_set(schedule_id, report, when, int(every))


def _candidates(schedule: Schedule, services: Services) -> tuple[Nudge, ...]:
    tags = set(schedule.tags)
    chosen = tuple(n for n in services.catalog.nudges if not tags or n.tag in tags)
    return chosen or services.catalog.nudges


def fire_channel(tx: Database, schedule: Schedule, occurrence: float, now: float, services: Services) -> None:
    nudge = pick(tx, schedule_scope(schedule.id), _candidates(schedule, services), now)
    outbox.enqueue(
        tx,
        platform=schedule.platform,
        to=Channel(schedule.conversation),
        message=views.nudge_message(nudge),
        now=now,
    )


def fire_weekly(tx: Database, schedule: Schedule, occurrence: float, now: float, services: Services) -> None:
    scope = person_scope(schedule.platform, schedule.workspace, schedule.owner)
    nudge = pick(tx, scope, services.catalog.nudges, now)
    outbox.enqueue(
        tx,
        platform=schedule.platform,
        to=Person(schedule.owner),
        message=views.weekly_message(nudge),
        now=now,
    )


def fire_one_on_one(
    tx: Database, schedule: Schedule, occurrence: float, now: float, services: Services
) -> None:
    scope = person_scope(schedule.platform, schedule.workspace, schedule.owner)
    nudge = pick(tx, scope, services.catalog.nudges, now)
    outbox.enqueue(
        tx,
        platform=schedule.platform,
        to=Person(schedule.owner),
        message=views.one_on_one_message(schedule.subject or "", nudge),
        now=now,
    )


def forget_schedule(tx: Database, schedule_id: int) -> None:
    store.clear_rotation(tx, scope=schedule_scope(schedule_id))
