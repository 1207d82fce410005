"""The pulse's rules: who may schedule, stop and close it, and how a member answers.

A member's answer is written with no trace of who sent it: the flag that they answered and the
answer itself are separate rows, the answer with a random id and no time, and the write-ahead log
is emptied right after the commit, so no file holds the two side by side. Nothing here logs.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.messages import FormErrors, Reply, error, ok, open_form
from bot.store import claim_once
from handlers import anonymity
from handlers.context import Action, Command, Services, Submission, is_manager, timezone_of
from handlers.pulse import jobs, store, views, when
from handlers.pulse.content import ITEMS, SCALE, load_survey
from handlers.pulse.ids import Repeat, RoundState, Verb
from handlers.pulse.rules import DEFAULT_OPEN_DAYS, MAX_COMMENT, OPEN_DAYS, REPEAT_WORDS, comments_k, pulse_k
from handlers.pulse.store import Round, Schedule
from handlers.text import MAX_COMMAND_CHARS, clean_user_text, read_text

MEMBERS_BUDGET_S = 1.5  # a command must answer within the platform's 3 s; the job checks again
CLAIM = "pulse:"  # `processed` key prefix: one /pulse start delivery


def _k(services: Services) -> int:
    return pulse_k(services.settings.anonymity_k)


async def _logged(services: Services) -> str | None:
    """The refusal when the database server logs the values of statements (PostgreSQL set to log
    them): who answered and what they answered would sit side by side in its log. Asked before
    any statement that names the member."""
    reason = await services.store.values_logged()
    return views.values_logged(reason) if reason else None


# --- the command --------------------------------------------------------------------------------
async def handle(cmd: Command, services: Services) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return views.too_long(syntax)
    words = clean_user_text(cmd.text).split()
    verb = words[0].lower() if words else ""
    if verb in (Verb.HELP, "?"):
        return views.usage(syntax, _k(services))
    if verb == Verb.STATUS and len(words) == 1:
        return await status(cmd, services)
    if verb == Verb.RESULTS and len(words) == 1:
        return await results(cmd, services)
    if verb not in ("", Verb.START, Verb.CLOSE, Verb.STOP) or (verb != Verb.START and len(words) > 1):
        return views.unknown(syntax, " ".join(words)[:30])
    if not await is_manager(services, cmd.platform, cmd.user):
        return views.NOT_ALLOWED
    if verb == "":
        tz = await timezone_of(services, cmd.platform, cmd.user)
        today = datetime.fromtimestamp(services.clock.now(), ZoneInfo(tz)).date().isoformat()
        return open_form(views.schedule_form(cmd.conversation, today))
    if verb == Verb.START:
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in REPEAT_WORDS):
            return views.start_usage(syntax)
        repeat = REPEAT_WORDS[words[1].lower()] if len(words) == 2 else Repeat.MONTHLY
        tz = await timezone_of(services, cmd.platform, cmd.user)
        done = await _schedule(
            services,
            platform=cmd.platform,
            workspace=cmd.workspace,
            user=cmd.user,
            conversation=cmd.conversation,
            repeat=repeat,
            open_days=DEFAULT_OPEN_DAYS,
            tz=tz,
            first=services.clock.now(),
            delivery=cmd.delivery_id,
        )
        return error(done) if isinstance(done, str) else done
    if verb == Verb.CLOSE:
        return await close_now(cmd, services)
    return await stop(cmd, services)


async def status(cmd: Command, services: Services) -> Reply:
    where = {"platform": cmd.platform, "workspace": cmd.workspace, "conversation": cmd.conversation}

    def look(db: Database) -> tuple[Schedule | None, Round | None, Round | None]:
        return (
            store.active_schedule(db, **where),
            store.open_round(db, **where),
            store.last_closed(db, **where),
        )

    schedule, running, last = await services.store.read(look)
    return views.status(
        services.syntax_for(cmd.platform), cmd.conversation, schedule, running, last, _k(services)
    )


async def results(cmd: Command, services: Services) -> Reply:
    def look(db: Database) -> tuple[Round, Round | None, list[str]] | None:
        last = store.previous_published(
            db,
            platform=cmd.platform,
            workspace=cmd.workspace,
            conversation=cmd.conversation,
            before=float("inf"),
        )
        if last is None or last.closed_at is None:
            return None
        previous = store.previous_published(
            db,
            platform=cmd.platform,
            workspace=cmd.workspace,
            conversation=cmd.conversation,
            before=last.closed_at,
        )
        return last, previous, [a.comment for a in store.answers_of(db, round_id=last.id) if a.comment]

    found = await services.store.read(look)
    if found is None:
        return views.no_results(_k(services))
    last, previous, comments = found
    survey = load_survey(services.settings.data_dir)
    card = views.results_card(
        survey, last, previous, comments, comments_k=comments_k(services.settings.anonymity_k)
    )
    return Reply(card)


async def close_now(cmd: Command, services: Services) -> Reply:
    round_ = await services.store.read(
        lambda db: store.open_round(
            db, platform=cmd.platform, workspace=cmd.workspace, conversation=cmd.conversation
        )
    )
    if round_ is None:
        return error("No pulse round is open in this channel.")
    if not await jobs.close(services, round_):
        return ok("This round was closed already.")
    return ok("Closed. The results (or why they are not shown) are posted in the channel.")


async def stop(cmd: Command, services: Services) -> Reply:
    schedule = await services.store.read(
        lambda db: store.active_schedule(
            db, platform=cmd.platform, workspace=cmd.workspace, conversation=cmd.conversation
        )
    )
    if schedule is None:
        return error("This channel has no pulse schedule.")
    schedule_id, now = schedule.id, services.clock.now()
    stopped = await services.store.run(lambda tx: store.stop_schedule(tx, schedule_id=schedule_id, now=now))
    if not stopped:
        return ok("The schedule was stopped already.")
    return ok(
        "The pulse schedule is stopped. A round that is open stays open until it closes; "
        f"{services.syntax_for(cmd.platform).command(views.COMMAND, Verb.CLOSE)} closes it now."
    )


# --- scheduling through the form ----------------------------------------------------------------
async def submit_schedule(sub: Submission, services: Services) -> Reply | FormErrors:
    if not await is_manager(services, sub.platform, sub.user):
        return FormErrors({"channel": views.NOT_ALLOWED_TEXT})
    values = sub.values
    errors: dict[str, str] = {}
    conversation = str(values.get("channel") or "")
    if not conversation:
        errors["channel"] = "Pick the team's channel."
    raw_repeat = str(values.get("repeat") or "")
    if raw_repeat not in {r.value for r in Repeat}:
        errors["repeat"] = "Pick how often: every month, every two weeks, every three months or once."
    raw_days = str(values.get("days") or "")
    if raw_days not in {str(d) for d in OPEN_DAYS}:
        errors["days"] = f"Pick how long a round stays open: {', '.join(str(d) for d in OPEN_DAYS)} days."
    tz = await timezone_of(services, sub.platform, sub.user)
    today = datetime.fromtimestamp(services.clock.now(), ZoneInfo(tz)).date()
    try:
        start = date.fromisoformat(str(values.get("start") or ""))
    except ValueError:
        errors["start"] = "Pick the day of the first round (YYYY-MM-DD)."
    else:
        if start < today:
            errors["start"] = "The first round cannot be in the past."
        elif (start - today).days > 366:
            errors["start"] = "Pick a day within the next year."
    if errors:
        return FormErrors(errors)
    done = await _schedule(
        services,
        platform=sub.platform,
        workspace=sub.workspace,
        user=sub.user,
        conversation=conversation,
        repeat=Repeat(raw_repeat),
        open_days=int(raw_days),
        tz=tz,
        first=when.first_round(start, tz, services.clock.now()),
        delivery=None,
    )
    return FormErrors({"channel": done}) if isinstance(done, str) else done


async def _schedule(
    services: Services,
    *,
    platform: str,
    workspace: str,
    user: str,
    conversation: str,
    repeat: Repeat,
    open_days: int,
    tz: str,
    first: float,
    delivery: str | None,
) -> Reply | str:
    """Create the schedule; its first round opens at `first`. A refusal is returned as its text."""
    if logged := await _logged(services):
        return logged
    people = services.people_for(platform)
    syntax = services.syntax_for(platform)
    if not await people.bot_is_member(conversation):
        return f"I am not in that channel yet: {syntax.invite_hint}, then schedule the pulse again."
    k = _k(services)
    try:
        members = await asyncio.wait_for(jobs.invitees(services, platform, conversation), MEMBERS_BUDGET_S)
    except Exception:
        members = None  # the directory is slow: the round checks again when it opens
    if members is not None and len(members) < k:
        return (
            f"That channel has {len(members)} members. A pulse needs at least {k}: results are shown "
            f"only when {k} people answer, so nobody's answers can be told apart."
        )
    now = services.clock.now()

    def record(tx: Database) -> Schedule | Reply | str:
        """The new schedule, or the answer or refusal that ends the request instead."""
        if delivery and not claim_once(tx, CLAIM + delivery, now):
            return ok("This was already scheduled.")
        if store.active_schedule(tx, platform=platform, workspace=workspace, conversation=conversation):
            return (
                "That channel already has a pulse schedule. "
                f"{syntax.command(views.COMMAND, Verb.STOP)} there stops it first."
            )
        schedule_id = store.add_schedule(
            tx,
            platform=platform,
            workspace=workspace,
            conversation=conversation,
            created_by=user,
            repeat=repeat,
            open_days=open_days,
            tz=tz,
            next_at=first,
            now=now,
        )
        schedule = store.active_schedule(
            tx, platform=platform, workspace=workspace, conversation=conversation
        )
        assert schedule is not None and schedule.id == schedule_id
        return schedule

    schedule = await services.store.run(record)
    if not isinstance(schedule, Schedule):
        return schedule
    return views.scheduled(syntax, schedule, first)


# --- a member answers ---------------------------------------------------------------------------
async def _find(services: Services, req: Action | Submission, raw: str) -> Round | None:
    if not raw.isdigit() or len(raw) > 12:
        return None
    return await services.store.read(
        lambda db: store.get_round(db, round_id=int(raw), platform=req.platform, workspace=req.workspace)
    )


def _is_closed(services: Services, round_: Round) -> bool:
    return round_.state == RoundState.CLOSED or round_.closes_at <= services.clock.now()


async def _refusal(services: Services, round_: Round | None, user: str) -> str | None:
    """Why this person cannot answer this round now, or None."""
    if round_ is None:
        return views.NO_ROUND
    if _is_closed(services, round_):
        return views.closed(round_)
    round_id = round_.id
    answered = await services.store.read(lambda db: store.is_invited(db, round_id=round_id, user=user))
    if answered is None:
        return views.NOT_INVITED
    return views.ALREADY if answered else None


async def open_answer(action: Action, services: Services) -> Reply:
    if logged := await _logged(services):
        return error(logged)
    round_ = await _find(services, action, action.value)
    refused = await _refusal(services, round_, action.user)
    if refused or round_ is None:
        return error(refused or views.NO_ROUND)
    survey = load_survey(services.settings.data_dir)
    return views.answer_form(survey, round_.id, views.day(round_.closes_at, round_.tz or "UTC"), _k(services))


def read_answer(values: dict[str, object]) -> tuple[list[int], dict[str, str]]:
    """The seven answers as numbers 1-7, or an error for each one that is missing or out of range."""
    allowed = {str(x) for x in range(1, SCALE + 1)}  # exactly "1".."7": no "٤", no "4.0"
    answer: list[int] = []
    errors: dict[str, str] = {}
    for n in range(1, ITEMS + 1):
        raw = values.get(f"q{n}")
        text = raw.strip() if isinstance(raw, str) else ""
        if text in allowed:
            answer.append(int(text))
        else:
            errors[f"q{n}"] = views.PICK
    return answer, errors


async def submit_answer(sub: Submission, services: Services) -> Reply | FormErrors:
    if logged := await _logged(services):
        return FormErrors({"q1": logged})
    round_ = await _find(services, sub, sub.context)
    refused = await _refusal(services, round_, sub.user)
    if refused or round_ is None:
        return FormErrors({"q1": refused or views.NO_ROUND})
    answer, errors = read_answer(dict(sub.values))
    comment, problem = read_text(
        sub.values.get("comment"), label="Your comment", limit=MAX_COMMENT, required=False
    )
    if problem:
        errors["comment"] = problem
    if errors:
        return FormErrors(errors)
    round_id = round_.id

    def record(tx: Database) -> bool:
        claimed = store.claim_answer(tx, round_id=round_id, user=sub.user)
        if claimed:
            store.add_answer(tx, round_id=round_id, answer=answer, comment=comment or None)
        return claimed

    # No file should hold the commit that wrote the flag and the answer side by side.
    if not await anonymity.write(services.store, record):  # answered meanwhile, or closed meanwhile
        again = await _find(services, sub, sub.context)
        return FormErrors({"q1": await _refusal(services, again, sub.user) or views.ALREADY})
    return views.THANKS
