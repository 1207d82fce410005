"""/escalation: the public rubric, opening a case, moving it stage by stage, closing it.

Only the case's manager moves it or adds plan agreements; the manager or a Candor admin closes it.
The person is told at every step. Every refusal says which rule and why, and changes nothing.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot import outbox
from bot.messages import FormErrors, Reply, privately
from bot.outbox import Person
from bot.store import claim_once
from handlers.agreements import forms as agreement_forms
from handlers.agreements import store as agreements
from handlers.agreements.access import words as agreement_words
from handlers.agreements.forms import context, nonce, read_context
from handlers.agreements.when import iso_day, read_date, today
from handlers.catalog import EscalationStage, Rubric
from handlers.context import Action, Command, Services, Submission, is_admin, is_manager, timezone_of
from handlers.escalation import posts, rules, store, views
from handlers.escalation.ids import Claim, Outcome, Stage, Status, Verb
from handlers.escalation.rules import Refusal
from handlers.escalation.store import Case
from handlers.people import Who, refusal
from handlers.text import MAX_COMMAND_CHARS, clean_user_text, read_text
from handlers.timing import InputError

VERB_CHARS = 200
MAX_ID_DIGITS = 12
MAX_PAST_DAYS = 365  # an observation from at most a year ago
ADMIN_LIST_LIMIT = 50
RECENT_S = 90 * 24 * 3600  # closed cases stay in /escalation list this long


def rubric_of(services: Services) -> Rubric:
    found = services.catalog.rubric
    if found is None:
        raise RuntimeError("the catalog has no escalation rubric (data/escalation.yml)")
    return found


async def handle(cmd: Command, services: Services) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return views.too_long(syntax)
    words = clean_user_text(cmd.text[:VERB_CHARS]).split()
    verb = words[0].lower() if words else ""
    if verb in ("", Verb.HELP, "?", "-h", "--help"):
        return views.usage(syntax)
    if verb == Verb.RUBRIC:
        return views.rubric(syntax, rubric_of(services))
    if verb == Verb.OPEN:
        return await open_form(cmd, services)
    # A case's record, stage and refusals are for its manager, its person and admins only.
    if verb == Verb.LIST:
        return privately(await listing(cmd, services))
    if verb in (Verb.SHOW, Verb.MOVE, Verb.CLOSE):
        case = await _case_from(services, cmd, words[1] if len(words) > 1 else "")
        if isinstance(case, Reply):
            return case if len(words) > 1 else views.case_usage(syntax, verb)
        if verb == Verb.SHOW:
            return privately(await show(cmd, services, case))
        if verb == Verb.CLOSE:
            return await close_form(cmd, services, case)
        target = None
        if len(words) > 2:
            target = rules.parse_stage(" ".join(words[2:]), rubric_of(services))
            if target is None:
                return views.move_usage(syntax, rubric_of(services))
        return privately(await move(cmd, services, case, target, case.stage, delivery=cmd.delivery_id))
    return views.unknown(syntax, verb)


async def _visible(services: Services, req: Command | Action | Submission, case: Case | None) -> bool:
    if case is None:
        return False
    return req.user in (case.manager, case.person) or await is_admin(services, req.platform, req.user)


async def _case_from(services: Services, req: Command | Action | Submission, raw: str) -> Case | Reply:
    raw = raw.strip().lstrip("#")
    if not raw.isdigit() or len(raw) > MAX_ID_DIGITS:
        return views.not_found(raw)
    found = await services.store.read(
        lambda db: store.case(db, case_id=int(raw), platform=req.platform, workspace=req.workspace)
    )
    return found if found is not None else views.not_found(raw)


# --- opening ----------------------------------------------------------------------------------------
def _after_first_word(text: str) -> int:
    start = len(text) - len(text.lstrip())
    return start + len(text[start:].split(maxsplit=1)[0]) if text.strip() else len(text)


async def person_problem(services: Services, platform: str, asker: str, person: str) -> str | None:
    return await refusal(services, platform, asker, person, _WHO)


_WHO = {
    Who.NOBODY: views.NOT_FOUND,
    Who.YOURSELF: views.NOT_YOURSELF,
    Who.UNKNOWN: views.NOT_FOUND,
    Who.BOT: views.NOT_A_BOT,
}


async def open_form(cmd: Command, services: Services) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    if not await is_manager(services, cmd.platform, cmd.user):
        return views.only_managers_open(syntax)
    text = cmd.text
    after_verb = _after_first_word(text)
    marked = [m for m in cmd.mentions if m.at >= after_verb and text.startswith(m.text, m.at)]
    leftover = text[after_verb:]
    for m in sorted(marked, key=lambda m: m.at, reverse=True):
        leftover = leftover[: m.at - after_verb] + leftover[m.at - after_verb + len(m.text) :]
    if len({m.user for m in marked}) != 1 or leftover.strip():
        return views.open_usage(syntax)
    person = marked[0].user
    problem = await person_problem(services, cmd.platform, cmd.user, person)
    if problem:
        return views.refused(problem)
    existing = await services.store.read(
        lambda db: store.open_between(
            db, platform=cmd.platform, workspace=cmd.workspace, manager=cmd.user, person=person
        )
    )
    if existing is not None:
        return views.already_open(existing)
    tz = await timezone_of(services, cmd.platform, cmd.user)
    now = services.clock.now()
    return views.open_form_for(
        person, rubric_of(services), context(n=nonce(), to=person, tz=tz), iso_day(now, tz)
    )


async def submit_open(sub: Submission, services: Services) -> Reply | FormErrors:
    ctx = read_context(sub.context) or {}
    form_key, person, tz = ctx.get("n"), ctx.get("to"), ctx.get("tz")
    if not isinstance(form_key, str) or not isinstance(person, str) or not isinstance(tz, str):
        return FormErrors({"seen": views.OUT_OF_DATE})
    if not await is_manager(services, sub.platform, sub.user):  # a form kept, or forged
        return FormErrors({"seen": views.ONLY_MANAGERS_OPEN})
    problem = await person_problem(services, sub.platform, sub.user, person)
    if problem:
        return FormErrors({"seen": problem})
    errors: dict[str, str] = {}
    seen, problem = read_text(
        sub.values.get("seen"), label="What was seen", limit=views.MAX_TEXT, required=True
    )
    if problem:
        errors["seen"] = problem
    impact, problem = read_text(
        sub.values.get("impact"), label="The impact", limit=views.MAX_TEXT, required=True
    )
    if problem:
        errors["impact"] = problem
    now = services.clock.now()
    seen_on = ""
    try:
        day = read_date(sub.values.get("seen_on"))
    except InputError as exc:
        errors["seen_on"] = str(exc)
    else:
        first = today(now, tz)
        if day > first:
            errors["seen_on"] = (
                "An observation is of something that already happened: choose today or earlier."
            )
        elif (first - day).days > MAX_PAST_DAYS:
            errors["seen_on"] = f"Choose a day within the last {MAX_PAST_DAYS} days."
        seen_on = day.isoformat()
    if errors:
        return FormErrors(errors)
    syntax = services.syntax_for(sub.platform)
    rubric = rubric_of(services)

    def record(tx: Database) -> int | str:
        if not claim_once(tx, f"{Claim.FORM}{form_key}", now):
            return "again"
        if store.open_between(
            tx, platform=sub.platform, workspace=sub.workspace, manager=sub.user, person=person
        ):
            return "open"
        case_id = store.open_case(
            tx,
            platform=sub.platform,
            workspace=sub.workspace,
            person=person,
            manager=sub.user,
            seen=seen,
            seen_on=seen_on,
            impact=impact,
            now=now,
        )
        case = store.case(tx, case_id=case_id, platform=sub.platform, workspace=sub.workspace)
        assert case is not None
        [observation] = store.observations(tx, case_id=case_id)
        outbox.enqueue(
            tx,
            platform=sub.platform,
            to=Person(person),
            message=posts.opened_message(syntax, case, observation, rubric),
            now=now,
        )
        return case_id

    outcome = await services.store.run(record)
    if outcome == "again":
        return views.already_opened()
    if outcome == "open":
        existing = await services.store.read(
            lambda db: store.open_between(
                db, platform=sub.platform, workspace=sub.workspace, manager=sub.user, person=person
            )
        )
        return FormErrors(
            {"seen": f"You already have an open case about them: #{existing.id if existing else ''}."}
        )
    assert isinstance(outcome, int)
    return views.opened_reply(outcome, person)


# --- viewing ---------------------------------------------------------------------------------------------
async def listing(cmd: Command, services: Services) -> Reply:
    now = services.clock.now()
    cases = await services.store.read(
        lambda db: store.cases_of(
            db, platform=cmd.platform, workspace=cmd.workspace, user=cmd.user, since=now - RECENT_S
        )
    )
    admin_view = (
        await services.store.read(
            lambda db: store.all_open(
                db, platform=cmd.platform, workspace=cmd.workspace, limit=ADMIN_LIST_LIMIT
            )
        )
        if await is_admin(services, cmd.platform, cmd.user)
        else []
    )
    tz = await timezone_of(services, cmd.platform, cmd.user)
    return views.listing(
        services.syntax_for(cmd.platform), cmd.user, cases, rubric_of(services), tz, admin_view
    )


async def show(cmd: Command, services: Services, case: Case) -> Reply:
    admin = await is_admin(services, cmd.platform, cmd.user)
    if cmd.user not in (case.manager, case.person) and not admin:
        return views.not_found(case.id)
    rubric = rubric_of(services)
    tz = await timezone_of(services, cmd.platform, cmd.user)
    steps, observations, found, plan = await services.store.read(
        lambda db: (
            store.steps(db, case_id=case.id),
            store.observations(db, case_id=case.id),
            rules.evidence(db, case),
            agreements.plan_agreements(db, case_id=case.id),
        )
    )
    return views.record(
        services.syntax_for(cmd.platform),
        case,
        rubric,
        tz,
        steps,
        observations,
        found,
        plan,
        views.case_buttons(case, rubric, manager=cmd.user == case.manager, admin=admin),
    )


# --- moving -----------------------------------------------------------------------------------------------
async def move(
    req: Command | Action,
    services: Services,
    case: Case,
    target: Stage | None,
    from_stage: Stage,
    delivery: str | None = None,
) -> Reply:
    if not await _visible(services, req, case):
        return views.not_found(case.id)
    if req.user != case.manager:
        return views.only_manager(case)
    rubric = rubric_of(services)
    found = await services.store.read(lambda db: rules.evidence(db, case))
    if case.stage != from_stage and case.status == Status.OPEN:  # a second click on an old button
        return views.refusal(case, Refusal("already"), rubric, "UTC", found)
    now = services.clock.now()
    decided = rules.check_move(case, target, rubric, found, now)
    if isinstance(decided, Refusal):
        tz = await timezone_of(services, req.platform, req.user)
        return views.refusal(case, decided, rubric, tz, found)
    syntax = services.syntax_for(req.platform)

    def record(tx: Database) -> bool:
        if delivery and not claim_once(tx, f"{Claim.MOVE}{delivery}", now):
            return False
        if not store.move(
            tx,
            case_id=case.id,
            from_stage=case.stage,
            to_stage=Stage(decided.slug),
            by_user=req.user,
            now=now,
        ):
            return False
        outbox.enqueue(
            tx,
            platform=case.platform,
            to=Person(case.person),
            message=posts.moved_message(syntax, case, decided, rubric),
            now=now,
        )
        return True

    if not await services.store.run(record):
        return await _already(services, req, case, decided)
    return views.moved_reply(case, decided)


async def _already(services: Services, req: Command | Action, case: Case, stage: EscalationStage) -> Reply:
    fresh = await services.store.read(
        lambda db: store.case(db, case_id=case.id, platform=case.platform, workspace=case.workspace)
    )
    if fresh is not None and fresh.status != Status.OPEN:
        return views.already_closed(fresh)
    found = await services.store.read(lambda db: rules.evidence(db, fresh or case))
    return views.refusal(fresh or case, Refusal("already"), rubric_of(services), "UTC", found)


async def move_clicked(action: Action, services: Services) -> Reply:
    raw, _, stage = action.value.partition(":")
    case = await _case_from(services, action, raw)
    if isinstance(case, Reply):
        return case
    if stage not in {s.value for s in Stage}:
        return views.not_found(raw)
    return await move(action, services, case, None, Stage(stage))


# --- closing ---------------------------------------------------------------------------------------
async def close_form(req: Command | Action, services: Services, case: Case) -> Reply:
    admin = await is_admin(services, req.platform, req.user)
    if req.user not in (case.manager, case.person) and not admin:
        return views.not_found(case.id)
    if req.user != case.manager and not admin:
        return views.only_manager(case, closing=True)
    if case.status != Status.OPEN:
        return views.already_closed(case)
    return views.close_form(case)


async def close_clicked(action: Action, services: Services) -> Reply:
    case = await _case_from(services, action, action.value)
    if isinstance(case, Reply):
        return case
    return await close_form(action, services, case)


async def submit_close(sub: Submission, services: Services) -> Reply | FormErrors:
    ctx = read_context(sub.context) or {}
    case_id = ctx.get("case")
    if not isinstance(case_id, int) or isinstance(case_id, bool):
        return FormErrors({"note": views.OUT_OF_DATE})
    case = await services.store.read(
        lambda db: store.case(db, case_id=case_id, platform=sub.platform, workspace=sub.workspace)
    )
    admin = await is_admin(services, sub.platform, sub.user)
    if case is None or (sub.user != case.manager and not admin):
        return FormErrors({"note": views.OUT_OF_DATE})
    raw_outcome = sub.values.get("outcome")
    if raw_outcome not in (Outcome.RESOLVED.value, Outcome.CLOSED.value):
        return FormErrors({"outcome": "Choose how the case ends."})
    outcome = Outcome(str(raw_outcome))
    note, problem = read_text(sub.values.get("note"), label="The note", limit=views.MAX_TEXT, required=False)
    if problem:
        return FormErrors({"note": problem})
    now = services.clock.now()
    rubric = rubric_of(services)

    def record(tx: Database) -> bool:
        if not store.close(
            tx,
            case_id=case.id,
            stage=case.stage,
            outcome=outcome,
            by_user=sub.user,
            note=note or None,
            now=now,
        ):
            return False
        outbox.enqueue(
            tx,
            platform=case.platform,
            to=Person(case.person),
            message=posts.closed_message(case, outcome, rubric, note or None, sub.user),
            now=now,
        )
        return True

    if not await services.store.run(record):
        return views.already_closed(case)
    return views.closed_reply(case, outcome)


# --- the documented plan ----------------------------------------------------------------------------
async def plan_clicked(action: Action, services: Services) -> Reply:
    case = await _case_from(services, action, action.value)
    if isinstance(case, Reply):
        return case
    if not await _visible(services, action, case):
        return views.not_found(case.id)
    if action.user != case.manager:
        return views.only_manager(case)
    if case.status != Status.OPEN or case.stage != Stage.PLAN:
        return views.plan_not_now(case)
    tz = await timezone_of(services, action.platform, action.user)
    return agreement_forms.new_request(
        agreement_words(services),
        tz=tz,
        person=case.person,
        what=None,
        conversation=action.conversation,
        case_id=case.id,
    )
