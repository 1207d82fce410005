"""The check-in rules: scheduling one, firing it, answers in its thread, one gentle reminder.

/checkin also hosts the verbs that list and change schedules of every kind (handlers/schedules)
and opens the 1:1 reminder form (handlers/nudges).
"""

from __future__ import annotations

import logging
from functools import partial

from sqlite_utils import Database

from bot import outbox
from bot.messages import FormErrors, Message, Reply, Values, error, ok, open_form
from bot.outbox import Channel, Person
from handlers.checkins import store, views
from handlers.checkins.ids import COMMAND, CUSTOM_TEMPLATE, CheckinForm, CheckinKind, Verb
from handlers.checkins.store import Run
from handlers.checkins.views import CLOSED, MAX_ANSWER, MAX_CUSTOM, Prompt
from handlers.context import Action, Command, Services, Submission, timezone_of
from handlers.nudges import flows as nudges
from handlers.schedules import forms as schedule_forms
from handlers.schedules import manage
from handlers.schedules.store import Schedule
from handlers.text import MAX_COMMAND_CHARS, clean_user_text, read_text
from handlers.timing import InputError, next_working_moment, parse_skip_dates

log = logging.getLogger("candor.checkins")

REMINDER_RETRY_S = 600.0
REMINDER_GIVE_UP_S = 24 * 3600.0
REMINDERS_PER_PASS = 50


def prompt_of(schedule: Schedule, services: Services) -> Prompt:
    template = services.catalog.checkin(schedule.template or "")
    if template:
        return Prompt(template.title, template.intro, template.questions)
    return Prompt("Check-in", "", (schedule.custom_text or "How are things going?",))


def title_of(schedule: Schedule, services: Services) -> str:
    """How /checkin list names a check-in: its template's title."""
    template = services.catalog.checkin(schedule.template or "")
    return template.title if template else "Custom check-in"


async def handle(cmd: Command, services: Services) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return error(
            f"That is too long for {syntax.command(COMMAND)}. "
            f"Type {syntax.command(COMMAND, Verb.HELP)} for the options."
        )
    words = clean_user_text(cmd.text).split()
    verb = words[0].lower() if words else ""
    if verb == "":
        tz = await timezone_of(services, cmd.platform, cmd.user)
        return open_form(views.create_form(cmd.conversation, tz, services.catalog.checkins))
    if verb in (Verb.HELP, "?"):
        return views.usage(syntax)
    if verb == Verb.LIST:
        return await manage.list_schedules(cmd, services)
    if verb in (Verb.PAUSE, Verb.RESUME, Verb.DELETE, Verb.RUN):
        if len(words) != 2:
            usage, example = syntax.command(COMMAND, f"{verb} <id>"), syntax.command(COMMAND, f"{verb} 3")
            return error(
                f"Usage: {usage}, e.g. {example}.",
                f"{syntax.command(COMMAND, Verb.LIST)} shows the ids of this channel's schedules.",
            )
        if verb == Verb.RUN:
            return await run_now(cmd, services, words[1])
        return await manage.change(cmd, services, verb, words[1])
    if verb == Verb.ADD:
        return await add_from_text(cmd, services, words[1:])
    if verb == Verb.REMIND:
        return await nudges.one_on_one_form(cmd, services)
    return error(
        f"I don't know {syntax.command(COMMAND, verb[:30])}.",
        f"Type {syntax.command(COMMAND, Verb.HELP)} for what I can do.",
    )


async def add_from_text(cmd: Command, services: Services, words: list[str]) -> Reply:
    """`/checkin add DAYS HH:MM [TZ] [TEMPLATE]`: the form in one line, for the shell and power users."""
    usage = views.add_usage(services.syntax_for(cmd.platform))
    if len(words) < 2:
        return error(usage)
    values: Values = {"channel": cmd.conversation, "days": words[0], "time": words[1]}
    rest = words[2:]
    if rest and ("/" in rest[0] or rest[0].upper() == "UTC"):
        values["tz"] = rest.pop(0)
    else:
        values["tz"] = await timezone_of(services, cmd.platform, cmd.user)
    values["template"] = rest.pop(0) if rest else services.catalog.checkins[0].slug
    if rest:
        return error(usage)
    result = await submit_create(
        Submission(cmd.platform, cmd.workspace, cmd.user, CheckinForm.CREATE, values), services
    )
    if isinstance(result, FormErrors):
        return error(*result.errors.values())
    return result


async def submit_create(sub: Submission, services: Services) -> Reply | FormErrors:
    values = sub.values
    errors: dict[str, str] = {}
    when = schedule_forms.read_when(values, errors)
    conversation = str(values.get("channel") or "")
    template = str(values.get("template") or "")
    custom, custom_problem = read_text(
        values.get("custom"), label="Your prompt", limit=MAX_CUSTOM, required=False
    )
    if template != CUSTOM_TEMPLATE and services.catalog.checkin(template) is None:
        names = ", ".join(t.slug for t in services.catalog.checkins)
        errors["template"] = f"Pick one of the prompts ({names}) or your own text."
    if custom_problem:
        errors["custom"] = custom_problem
    elif template == CUSTOM_TEMPLATE and not custom:
        errors["custom"] = "Write your prompt, or pick one of the ready-made ones."
    skip: list[str] = []
    try:
        skip = parse_skip_dates(str(values.get("skip") or ""))
    except InputError as exc:
        errors["skip"] = str(exc)
    if not errors:
        await schedule_forms.check_channel(services, sub, conversation, errors)
    if errors or when is None:
        return FormErrors(errors)
    schedule_id = await schedule_forms.create(
        services,
        sub,
        conversation=conversation,
        kind=CheckinKind.CHECKIN,
        when=when,
        template=template,
        custom_text=custom if template == CUSTOM_TEMPLATE else None,
        remind=bool(values.get("remind")),
        skip_dates=tuple(skip),
    )
    if isinstance(schedule_id, FormErrors):
        return schedule_id
    return views.scheduled(schedule_id, when, conversation, services.syntax_for(sub.platform))


def run_ref(run_id: int, occurrence: float) -> str:
    """What a Respond button carries: the run and its moment, so a reused row id never matches."""
    return f"{run_id}:{int(occurrence)}"


async def _find_run(services: Services, ref: str, platform: str, workspace: str) -> Run | None:
    run_id, _, occurrence = ref.partition(":")
    if not run_id.isdigit() or not occurrence.isdigit() or len(ref) > 40:
        return None
    run = await services.store.read(
        lambda db: store.find_run(db, run_id=int(run_id), occurrence=int(occurrence))
    )
    if run is None or (run.schedule.platform, run.schedule.workspace) != (platform, workspace):
        return None
    return run


def fire(tx: Database, schedule: Schedule, occurrence: float, now: float, services: Services) -> None:
    """Post the prompt with a Respond button; plan the reminder outside quiet hours."""
    run_id = store.start_run(
        tx,
        schedule_id=schedule.id,
        occurrence=occurrence,
        local_date=schedule.recurrence.local_date(occurrence),
        now=now,
    )
    prompt = outbox.enqueue(
        tx,
        platform=schedule.platform,
        to=Channel(schedule.conversation),
        message=views.prompt_message(prompt_of(schedule, services), run_ref(run_id, occurrence)),
        now=now,
    )
    reminder_at = None
    if schedule.remind:
        reminder_at = next_working_moment(
            now + services.settings.checkin_reminder_after_s,
            schedule.tz,
            services.settings.quiet_hours,
            list(schedule.skip_dates),
        )
    store.set_prompt(tx, run_id=run_id, prompt_outbox=prompt, reminder_due_at=reminder_at)


async def run_now(cmd: Command, services: Services, raw_id: str) -> Reply:
    found = await manage.find_changeable(cmd, services, raw_id)
    if isinstance(found, Reply):
        return found
    now = services.clock.now()
    await services.store.run(lambda tx: services.registry.fire(tx, found, now, now, services))
    return ok(f"Schedule #{found.id} ({services.registry.schedule_title(found, services)}) fired now.")


async def respond(action: Action, services: Services) -> Reply:
    run = await _find_run(services, action.value, action.platform, action.workspace)
    if run is None:
        return error(CLOSED)
    before = await services.store.read(lambda db: store.answers_of(db, run_id=run.id, user=action.user))
    ref = run_ref(run.id, run.occurrence)
    return open_form(views.response_form(prompt_of(run.schedule, services), before, ref))


async def submit_response(sub: Submission, services: Services) -> Reply | FormErrors:
    run = await _find_run(services, sub.context, sub.platform, sub.workspace)
    if run is None:
        return FormErrors({"q0": CLOSED})
    prompt = prompt_of(run.schedule, services)
    answers: dict[str, str] = {}
    errors: dict[str, str] = {}
    for i in range(len(prompt.questions)):
        text, problem = read_text(
            sub.values.get(f"q{i}"), label="Your answer", limit=MAX_ANSWER, required=False
        )
        if problem:
            errors[f"q{i}"] = problem
        elif text:
            answers[f"q{i}"] = text
    if not answers and not errors:
        errors["q0"] = "Answer at least one question."
    if errors:
        return FormErrors(errors)
    now = services.clock.now()

    def save(tx: Database) -> None:
        updated = store.save_answers(tx, run_id=run.id, user=sub.user, answers=answers, now=now)
        outbox.enqueue(
            tx,
            platform=run.schedule.platform,
            to=Channel(run.schedule.conversation),
            message=views.answers_message(sub.user, prompt, answers, updated=updated),
            now=now,
            reply_to=run.prompt_outbox,
        )

    await services.store.run(save)
    return ok("Thanks, your answers are posted in the check-in's thread.")


async def send_due_reminders(services: Services, limit: int = REMINDERS_PER_PASS) -> int:
    """DM the people who have not answered a check-in yet: once per check-in, outside quiet hours.

    A run whose members cannot be listed right now is tried again later, not dropped. The
    reminder is claimed through its row, so two processes running this job send it once.
    """
    now = services.clock.now()
    # Closing and postponing are single statements of their own (`Store.call`: no transaction).
    sent = 0
    for run in await services.store.read(lambda db: store.due_reminders(db, now=now, limit=limit)):
        schedule = run.schedule
        moment = next_working_moment(
            now, schedule.tz, services.settings.quiet_hours, list(schedule.skip_dates)
        )
        if moment is None or schedule.paused:
            await services.store.call(partial(store.close_reminder, run_id=run.id, now=now))
            continue
        if moment > now:  # it came due in quiet hours (or was delayed into them): wait
            await services.store.call(partial(store.postpone_reminder, run_id=run.id, until=moment))
            continue
        try:
            targets = await _not_answered(services, run)
        except Exception as exc:
            if now - (run.created_at or now) > REMINDER_GIVE_UP_S:
                log.warning("check-in reminder given up", extra={"run": run.id, "error": type(exc).__name__})
                await services.store.call(partial(store.close_reminder, run_id=run.id, now=now))
            else:
                log.warning("check-in reminder postponed", extra={"run": run.id, "error": type(exc).__name__})
                await services.store.call(
                    partial(store.postpone_reminder, run_id=run.id, until=now + REMINDER_RETRY_S)
                )
            continue
        message = views.reminder_message(prompt_of(schedule, services), run_ref(run.id, run.occurrence))
        if await services.store.run(partial(_remind, run=run, targets=targets, message=message, now=now)):
            sent += len(targets)
    return sent


def _remind(tx: Database, *, run: Run, targets: list[str], message: Message, now: float) -> bool:
    """Claim the run's reminder and queue a DM to each target; False if another process claimed it."""
    if not store.claim_reminder(tx, run_id=run.id, now=now):
        return False
    for user in targets:
        outbox.enqueue(tx, platform=run.schedule.platform, to=Person(user), message=message, now=now)
    return True


async def _not_answered(services: Services, run: Run) -> list[str]:
    """Channel members who have not answered, people only (bots and deactivated users left out)."""
    people = services.people_for(run.schedule.platform)
    members = await people.members(run.schedule.conversation)
    answered = await services.store.read(lambda db: store.answered(db, run_id=run.id))
    targets = []
    for user in members:
        if user in answered:
            continue
        info = await people.lookup(user)
        if info and not info.is_bot and not info.deleted:
            targets.append(user)
    return targets


def forget_schedule(tx: Database, schedule_id: int) -> None:
    store.forget_schedule(tx, schedule_id=schedule_id)
