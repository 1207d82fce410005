"""Scheduled team check-ins: a prompt in the channel, answers in its thread, one gentle reminder."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlite_utils import Database

from bot import outbox
from bot.messages import (
    Actions,
    Button,
    ChannelRef,
    Choice,
    Context,
    Field,
    Form,
    FormErrors,
    Mention,
    Message,
    Quote,
    Reply,
    Section,
    Strong,
    error,
    ok,
    open_form,
    rich,
)
from bot.outbox import Channel, Person
from handlers import nudges, schedules
from handlers.anonymity import meets_k, withheld
from handlers.context import Action, Command, Services, Submission, timezone_of
from handlers.home import HomeScope, HomeSection
from handlers.practice import HelpLine, PeriodicJob, Practice
from handlers.reporting import Figure, ReportScope
from handlers.text import MAX_COMMAND_CHARS, clean_user_text, read_text
from handlers.timing import InputError, next_working_moment, parse_skip_dates

log = logging.getLogger("candor.checkins")

CREATE_FORM = "checkin_create"
RESPONSE_FORM = "checkin_response"
RESPOND = "checkin_respond"
CUSTOM = "custom"
MAX_ANSWER = 1000
MAX_CUSTOM = 500


def usage() -> Reply:
    return ok(
        rich(Strong("Check-ins: a regular prompt in a channel, answered in its thread")),
        "/checkin opens a form: channel, days, local time, timezone and the prompt.",
        "/checkin add mon,thu 09:30 Europe/Berlin weekly is the same in one line "
        "(templates: weekly, retro, expectations).",
        "/checkin list shows this channel's schedules and your reminders.",
        "/checkin pause|resume|delete|run <id> changes one (its creator or an admin).",
        "/checkin remind sets recurring 1:1 reminders for you as a manager.",
    )


def create_form(cmd: Command, services: Services, tz: str | None) -> Form:
    templates = tuple(Choice(t.slug, t.title) for t in services.catalog.checkins)
    return Form(
        callback=CREATE_FORM,
        title="Schedule a check-in",
        submit="Schedule",
        fields=(
            *schedules.schedule_fields(cmd.conversation, tz),
            Field(
                "template",
                "Prompt",
                "select",
                choices=(*templates, Choice(CUSTOM, "My own text (below)")),
                initial=templates[0].value if templates else CUSTOM,
            ),
            Field("custom", "Your own prompt", "multiline", optional=True, max_length=MAX_CUSTOM),
            Field(
                "remind",
                "Reminder",
                "checkboxes",
                optional=True,
                choices=(Choice("yes", "Remind people who have not answered, once"),),
            ),
            Field(
                "skip",
                "Skip dates",
                "text",
                optional=True,
                max_length=600,
                hint="Holidays, as 2026-12-24, 2026-12-31",
            ),
        ),
    )


async def handle(cmd: Command, services: Services) -> Reply:
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return error("That is too long for /checkin. Type /checkin help for the options.")
    words = clean_user_text(cmd.text).split()
    verb = words[0].lower() if words else ""
    if verb == "":
        return open_form(create_form(cmd, services, await timezone_of(services, cmd.platform, cmd.user)))
    if verb in ("help", "?"):
        return usage()
    if verb == "list":
        return schedules.list_schedules(cmd, services)
    if verb in ("pause", "resume", "delete", "run"):
        if len(words) != 2:
            return error(
                f"Usage: /checkin {verb} <id>, e.g. /checkin {verb} 3.",
                "/checkin list shows the ids of this channel's schedules.",
            )
        if verb == "run":
            return await run_now(cmd, services, words[1])
        return await schedules.change(cmd, services, verb, words[1])
    if verb == "add":
        return await add_from_text(cmd, services, words[1:])
    if verb == "remind":
        return await nudges.one_on_one_form(cmd, services)
    return error(f"I don't know /checkin {verb[:30]}.", "Type /checkin help for what I can do.")


async def add_from_text(cmd: Command, services: Services, words: list[str]) -> Reply:
    """`/checkin add DAYS HH:MM [TZ] [TEMPLATE]`: the form in one line, for the shell and power users."""
    if len(words) < 2:
        return error("Usage: /checkin add mon,thu 09:30 [Europe/Berlin] [weekly|retro|expectations]")
    values: dict[str, Any] = {"channel": cmd.conversation, "days": words[0], "time": words[1]}
    rest = words[2:]
    if (rest and "/" in rest[0]) or (rest and rest[0].upper() == "UTC"):
        values["tz"] = rest.pop(0)
    else:
        values["tz"] = await timezone_of(services, cmd.platform, cmd.user)
    values["template"] = rest.pop(0) if rest else services.catalog.checkins[0].slug
    if rest:
        return error("Usage: /checkin add mon,thu 09:30 [Europe/Berlin] [weekly|retro|expectations]")
    result = await submit_create(
        Submission(cmd.platform, cmd.workspace, cmd.user, CREATE_FORM, values), services
    )
    if isinstance(result, FormErrors):
        return error(*result.errors.values())
    return result


async def submit_create(sub: Submission, services: Services) -> Reply | FormErrors:
    values = sub.values
    errors: dict[str, str] = {}
    when = schedules.read_when(values, errors)
    conversation = str(values.get("channel") or "")
    template = str(values.get("template") or "")
    custom, custom_problem = read_text(
        values.get("custom"), label="Your prompt", limit=MAX_CUSTOM, required=False
    )
    if template != CUSTOM and services.catalog.checkin(template) is None:
        names = ", ".join(t.slug for t in services.catalog.checkins)
        errors["template"] = f"Pick one of the prompts ({names}) or your own text."
    if custom_problem:
        errors["custom"] = custom_problem
    elif template == CUSTOM and not custom:
        errors["custom"] = "Write your prompt, or pick one of the ready-made ones."
    try:
        skip = parse_skip_dates(str(values.get("skip") or ""))
    except InputError as exc:
        errors["skip"] = str(exc)
    if not errors:
        await schedules.check_channel(services, sub, conversation, errors)
    if errors or when is None:
        return FormErrors(errors)
    schedule_id = schedules.create(
        services,
        sub,
        conversation=conversation,
        kind="checkin",
        when=when,
        template=template,
        custom_text=custom if template == CUSTOM else None,
        remind=1 if values.get("remind") else 0,
        skip_dates=skip,
    )
    if isinstance(schedule_id, FormErrors):
        return schedule_id
    days, at, tz = when
    return ok(
        rich(
            f"Check-in #{schedule_id} is scheduled: {schedules.describe(days, at, tz)}. ",
            "It will post in ",
            ChannelRef(conversation),
            ". /checkin list shows it.",
        )
    )


def _template(row: dict[str, Any], services: Services) -> tuple[str, str, tuple[str, ...]]:
    template = services.catalog.checkin(row["template"] or "")
    if template:
        return template.title, template.intro, template.questions
    return "Check-in", "", (row["custom_text"] or "How are things going?",)


def fire(tx: Database, row: dict[str, Any], occurrence: float, now: float, services: Services) -> None:
    """Post the prompt with a Respond button; plan the reminder outside quiet hours."""
    title, intro, questions = _template(row, services)
    recurrence = schedules.recurrence(row)
    run = {
        "schedule_id": row["id"],
        "occurrence": occurrence,
        "local_date": recurrence.local_date(occurrence),
        "created_at": now,
    }
    run_id = int(tx.table("checkin_runs").insert(run).last_pk or 0)
    blocks: list[Any] = [Section(rich(Strong(f"🗓️ {title}")))]
    if intro:
        blocks.append(Section(rich(intro)))
    blocks += [Section(rich(f"• {q}")) for q in questions]
    blocks.append(Actions((Button("Respond", RESPOND, run_ref(run_id, occurrence), "primary"),)))
    blocks.append(Context(rich("Answers are posted in this thread under your name.")))
    prompt = outbox.enqueue(
        tx,
        platform=row["platform"],
        to=Channel(row["conversation"]),
        message=Message(tuple(blocks)),
        now=now,
    )
    reminder_at = None
    if row["remind"]:
        reminder_at = next_working_moment(
            now + services.settings.checkin_reminder_after_s,
            row["tz"],
            services.settings.quiet_hours,
            json.loads(row["skip_dates"] or "[]"),
        )
    tx.table("checkin_runs").update(run_id, {"prompt_outbox": prompt, "reminder_due_at": reminder_at})


async def run_now(cmd: Command, services: Services, raw_id: str) -> Reply:
    found = await schedules.find_changeable(cmd, services, raw_id)
    if isinstance(found, Reply):
        return found
    now = services.clock.now()
    with services.store.transaction() as tx:
        services.registry.fire(tx, found, now, now, services)
    return ok(f"Schedule #{found['id']} ({schedules.title_of(found, services)}) fired now.")


def run_ref(run_id: int, occurrence: float) -> str:
    """What a Respond button carries: the run and its moment, so a reused row id never matches."""
    return f"{run_id}:{int(occurrence)}"


def _run_and_schedule(services: Services, ref: str) -> dict[str, Any] | None:
    run_id, _, occurrence = ref.partition(":")
    if not run_id.isdigit() or not occurrence.isdigit() or len(ref) > 40:
        return None
    rows = list(
        services.store.db.query(
            "select r.id as run_id, r.prompt_outbox, r.occurrence, s.* from checkin_runs r "
            "join schedules s on s.id = r.schedule_id where r.id = ? and cast(r.occurrence as integer) = ?",
            [int(run_id), int(occurrence)],
        )
    )
    return rows[0] if rows else None


async def respond(action: Action, services: Services) -> Reply:
    row = _run_and_schedule(services, action.value)
    if row is None:
        return error("This check-in is closed or was deleted.")
    if (row["platform"], row["workspace"]) != (action.platform, action.workspace):
        return error("This check-in is closed or was deleted.")
    title, _, questions = _template(row, services)
    previous = services.store.db.execute(
        "select answers from checkin_responses where run_id = ? and user = ?",
        [row["run_id"], action.user],
    ).fetchone()
    before = json.loads(previous[0]) if previous else {}
    fields = tuple(
        Field(
            f"q{i}",
            q[:2000],
            "multiline",
            optional=True,
            max_length=MAX_ANSWER,
            initial=before.get(f"q{i}"),
        )
        for i, q in enumerate(questions)
    )
    return open_form(
        Form(
            callback=RESPONSE_FORM,
            title=title[:24],
            submit="Post answers",
            fields=fields,
            context=run_ref(row["run_id"], row["occurrence"]),
        )
    )


async def submit_response(sub: Submission, services: Services) -> Reply | FormErrors:
    row = _run_and_schedule(services, sub.context)
    if row is None or (row["platform"], row["workspace"]) != (sub.platform, sub.workspace):
        return FormErrors({"q0": "This check-in is closed or was deleted."})
    _, _, questions = _template(row, services)
    answers: dict[str, str] = {}
    errors: dict[str, str] = {}
    for i in range(len(questions)):
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
    blocks: list[Any] = [Section(rich("Answers from ", Mention(sub.user)))]
    for i, question in enumerate(questions):
        if f"q{i}" in answers:
            blocks += [Section(rich(Strong(question))), Quote(answers[f"q{i}"])]
    with services.store.transaction() as tx:
        updated = tx.execute(
            "update checkin_responses set answers = ?, created_at = ? where run_id = ? and user = ?",
            [json.dumps(answers), now, row["run_id"], sub.user],
        ).rowcount
        if not updated:
            tx.table("checkin_responses").insert(
                {
                    "run_id": row["run_id"],
                    "user": sub.user,
                    "answers": json.dumps(answers),
                    "created_at": now,
                }
            )
        else:
            blocks[0] = Section(rich("Updated answers from ", Mention(sub.user)))
        outbox.enqueue(
            tx,
            platform=row["platform"],
            to=Channel(row["conversation"]),
            message=Message(tuple(blocks)),
            now=now,
            reply_to=row["prompt_outbox"],
        )
    return ok("Thanks, your answers are posted in the check-in's thread.")


REMINDER_RETRY_S = 600.0
REMINDER_GIVE_UP_S = 24 * 3600.0


async def send_due_reminders(services: Services, limit: int = 50) -> int:
    """DM the people who have not answered a check-in yet: once per check-in, outside quiet hours.

    A run whose members cannot be listed right now is tried again later, not dropped.
    """
    now = services.clock.now()
    runs = list(
        services.store.db.query(
            "select r.id as run_id, r.occurrence, r.created_at as run_created, s.* from checkin_runs r "
            "join schedules s on s.id = r.schedule_id "
            "where r.reminder_due_at <= ? and r.reminder_sent_at is null order by r.reminder_due_at limit ?",
            [now, limit],
        )
    )
    sent = 0
    for run in runs:
        skip_dates = json.loads(run["skip_dates"] or "[]")
        moment = next_working_moment(now, run["tz"], services.settings.quiet_hours, skip_dates)
        if moment is None or run["paused"]:
            _close_reminder(services, run["run_id"], now)
            continue
        if moment > now:  # it came due in quiet hours (or was delayed into them): wait
            services.store.db.table("checkin_runs").update(run["run_id"], {"reminder_due_at": moment})
            continue
        try:
            targets = await _not_answered(services, run)
        except Exception as exc:
            if now - (run["run_created"] or now) > REMINDER_GIVE_UP_S:
                log.warning(
                    "check-in reminder given up", extra={"run": run["run_id"], "error": type(exc).__name__}
                )
                _close_reminder(services, run["run_id"], now)
            else:
                log.warning(
                    "check-in reminder postponed", extra={"run": run["run_id"], "error": type(exc).__name__}
                )
                services.store.db.table("checkin_runs").update(
                    run["run_id"], {"reminder_due_at": now + REMINDER_RETRY_S}
                )
            continue
        title, _, _ = _template(run, services)
        ref = run_ref(run["run_id"], run["occurrence"])
        message = Message(
            (
                Section(rich("A gentle reminder: the ", Strong(title), " is open.")),
                Actions((Button("Respond", RESPOND, ref, "primary"),)),
                Context(rich("You get this once per check-in. A short answer is fine.")),
            )
        )
        with services.store.transaction() as tx:
            claimed = tx.execute(
                "update checkin_runs set reminder_sent_at = ? where id = ? and reminder_sent_at is null",
                [now, run["run_id"]],
            ).rowcount
            if not claimed:
                continue
            for user in targets:
                outbox.enqueue(tx, platform=run["platform"], to=Person(user), message=message, now=now)
        sent += len(targets)
    return sent


def _close_reminder(services: Services, run_id: int, now: float) -> None:
    services.store.db.table("checkin_runs").update(run_id, {"reminder_sent_at": now})


async def _not_answered(services: Services, run: dict[str, Any]) -> list[str]:
    """Channel members who have not answered, people only (bots and deactivated users left out)."""
    people = services.people_for(run["platform"])
    members = await people.members(run["conversation"])
    answered = {
        r[0]
        for r in services.store.db.execute(
            "select user from checkin_responses where run_id = ?", [run["run_id"]]
        )
    }
    targets = []
    for user in members:
        if user in answered:
            continue
        info = await people.lookup(user)
        if info and not info.is_bot and not info.deleted:
            targets.append(user)
    return targets


def forget_schedule(tx: Database, schedule_id: int) -> None:
    runs = [r["id"] for r in tx.table("checkin_runs").rows_where("schedule_id = ?", [schedule_id])]
    for run_id in runs:
        tx.table("checkin_responses").delete_where("run_id = ?", [run_id])
    tx.table("checkin_runs").delete_where("schedule_id = ?", [schedule_id])


async def _send_reminders(services: Services) -> int:
    return await send_due_reminders(services)


# --- the team report and a person's home -----------------------------------------------------------
def _scope_where(scope: ReportScope) -> tuple[str, list[object]]:
    where = (
        "s.kind = 'checkin' and s.platform = ? and s.workspace = ? and r.occurrence >= ? and r.occurrence < ?"
    )
    args: list[object] = [scope.platform, scope.workspace, scope.since, scope.until]
    if scope.conversation is not None:
        where += " and s.conversation = ?"
        args.append(scope.conversation)
    return where, args


def report(db: Database, scope: ReportScope) -> tuple[Figure, ...]:
    """Check-ins held in the period, and the response rate: answers per member asked. A team of
    fewer than k, or one of unknown size (the whole workspace), shows no rate."""
    where, args = _scope_where(scope)
    runs, responses = db.execute(
        "select count(distinct r.id), count(c.id) from checkin_runs r "
        "join schedules s on s.id = r.schedule_id "
        f"left join checkin_responses c on c.run_id = r.id where {where}",
        args,
    ).fetchone()
    held = Figure("checkins.held", "Check-ins held", float(runs), "", runs)
    label = "Check-in response rate"
    if scope.members is None:
        return held, Figure(
            "checkins.response_rate", label, None, "%", None, "per team only: the team's size is needed"
        )
    if not meets_k(scope.members, scope.k):
        return held, Figure("checkins.response_rate", label, None, "%", None, withheld(scope.k, "members"))
    if not runs:
        return held, Figure("checkins.response_rate", label, None, "%", 0, "no check-in in the period")
    rate = min(100.0, round(100 * responses / (runs * scope.members), 1))
    return held, Figure(
        "checkins.response_rate", label, rate, "%", responses, f"{responses} answers to {runs} check-ins"
    )


def home(db: Database, scope: HomeScope) -> tuple[HomeSection, ...]:
    """The check-ins, nudges and 1:1 reminders the person scheduled."""
    rows = db.execute(
        "select id, kind, conversation, days, at, tz, every_weeks, paused from schedules "
        "where platform = ? and workspace = ? and owner = ? order by id limit 20",
        [scope.platform, scope.workspace, scope.user],
    ).fetchall()
    lines = []
    for schedule_id, kind, conversation, days, at, tz, every_weeks, paused in rows:
        label = schedules.KIND_LABELS.get(kind, kind)
        where: tuple = (" in ", ChannelRef(conversation)) if kind in ("checkin", "nudge") else ()
        state = " (paused)" if paused else ""
        lines.append(
            rich(
                f"#{schedule_id} {label}",
                *where,
                f": {schedules.describe(days, at, tz, every_weeks or 1)}{state}",
            )
        )
    return (HomeSection("Your check-ins and reminders", tuple(lines), "You have scheduled none."),)


PRACTICE = Practice(
    name="checkins",
    commands={"checkin": handle},
    actions={RESPOND: respond},
    forms={CREATE_FORM: submit_create, RESPONSE_FORM: submit_response},
    schedule_kinds={"checkin": fire},
    periodic=(PeriodicJob("checkin-reminders", _send_reminders, 60.0),),
    help=(HelpLine("checkin", "", "schedule a regular check-in in a channel."),),
    on_schedule_delete=forget_schedule,
    outbox_references=(("checkin_runs", "prompt_outbox"),),
    report=report,
    home=home,
)
