"""Nominating: the form from /nominate @person or the announcement's button, and its rules (no self,
no bots, two to three concrete examples of 20-1,000 characters, a level, the calibration rule, one
nomination per nominee edited until close, at most three nominees per cycle, none after close)."""

from __future__ import annotations

from sqlite_utils import Database

from bot.messages import FormErrors, Reply, Values, error, open_form
from handlers.context import Action, Command, Services, Submission
from handlers.nominations import cycles, store, views
from handlers.nominations.content import content_of
from handlers.nominations.ids import CALIBRATED, EXAMPLE_FIELDS, FieldId, Level
from handlers.nominations.rules import MAX_EXAMPLE_CHARS, MAX_NOMINEES, MIN_EXAMPLE_CHARS, REQUIRED_EXAMPLES
from handlers.text import read_text


async def _person_problem(services: Services, platform: str, nominator: str, nominee: str) -> str | None:
    if nominee == nominator:
        return views.not_yourself()
    info = await services.people_for(platform).lookup(nominee)
    if info is None or info.deleted:
        return views.not_found()
    if info.is_bot:
        return views.is_a_bot()
    return None


async def nominate_command(cmd: Command, services: Services, nominee: str) -> Reply:
    """/nominate @person: the form for the cycle taking nominations in this channel."""
    problem = await _person_problem(services, cmd.platform, cmd.user, nominee)
    if problem:
        return error(problem)
    now = services.clock.now()
    taking = [c for c in await cycles.running_here(services, cmd) if cycles.taking_nominations(c, now)]
    if not taking:
        return views.no_open_cycle(services.syntax_for(cmd.platform))
    fixed = taking[0] if len(taking) == 1 else None
    existing = (
        await services.store.read(
            lambda db: store.nomination(db, cycle_id=fixed.id, nominator=cmd.user, nominee=nominee)
        )
        if fixed
        else None
    )
    return open_form(
        views.nomination_form(content_of(services), taking, nominee=nominee, existing=existing, fixed=fixed)
    )


async def nominate_button(action: Action, services: Services) -> Reply:
    """The announcement's "Nominate someone": the form for that cycle, the person chosen in it."""
    cycle = await cycles.named(services, action, action.value)
    if cycle is None or not cycles.taking_nominations(cycle, services.clock.now()):
        return views.cycle_gone()
    return open_form(
        views.nomination_form(content_of(services), [cycle], nominee=None, existing=None, fixed=cycle)
    )


def _same(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def read_examples(values: Values, level: Level | None) -> tuple[list[str], dict[str, str]]:
    """The examples given, each 20-1,000 characters and none a repeat of another; at least two.
    The calibration rule (role model and developing need two corroborating examples) names itself."""
    found: list[tuple[int, str]] = []
    errors: dict[str, str] = {}
    for n, field in enumerate(EXAMPLE_FIELDS, start=1):
        text, problem = read_text(
            values.get(field), label=f"Example {n}", limit=MAX_EXAMPLE_CHARS, required=False
        )
        if problem:
            errors[field] = problem
        elif not text:
            if n <= REQUIRED_EXAMPLES:
                calibrated = n == REQUIRED_EXAMPLES and level in CALIBRATED
                errors[field] = views.calibration(level) if calibrated and level else views.example_missing(n)
        elif len(text) < MIN_EXAMPLE_CHARS:
            errors[field] = views.example_too_short(n, len(text))
        elif earlier := next((i for i, seen in found if _same(seen, text)), None):
            errors[field] = views.repeated(n, earlier)
        else:
            found.append((n, text))
    return [text for _, text in found], errors


async def submit_nomination(sub: Submission, services: Services) -> Reply | FormErrors:
    content = content_of(services)
    cycle = await cycles.named(services, sub, sub.context or str(sub.values.get(FieldId.CYCLE) or ""))
    if cycle is None:
        where = FieldId.NOMINEE if sub.context else FieldId.CYCLE
        return FormErrors({where: views.closed_for_nominations() if sub.context else views.pick_cycle()})
    try:
        level: Level | None = Level(str(sub.values.get(FieldId.LEVEL) or ""))
    except ValueError:
        level = None
    examples, errors = read_examples(sub.values, level)
    if level is None:
        errors[FieldId.LEVEL] = views.pick_level()
    nominee = str(sub.values.get(FieldId.NOMINEE) or "").strip()
    problem = (
        await _person_problem(services, sub.platform, sub.user, nominee) if nominee else views.pick_person()
    )
    if problem:
        errors[FieldId.NOMINEE] = problem
    if errors or level is None:
        return FormErrors(errors)
    now, cycle_id, rated = services.clock.now(), cycle.id, level

    def save(tx: Database) -> tuple[bool, int] | FormErrors:
        # Holding the cycle's row: the close either counts this nomination or refuses it.
        if not store.hold_open(tx, cycle_id=cycle_id, now=now):
            return FormErrors({FieldId.NOMINEE: views.closed_for_nominations()})
        given = store.nominees_of(tx, cycle_id=cycle_id, nominator=sub.user)
        edited = nominee in given
        if not edited and len(given) >= MAX_NOMINEES:
            return FormErrors({FieldId.NOMINEE: views.cap_reached()})
        store.save_nomination(
            tx,
            cycle_id=cycle_id,
            nominator=sub.user,
            nominee=nominee,
            level=rated,
            examples=examples,
            now=now,
        )
        return edited, len(given) if edited else len(given) + 1

    saved = await services.store.run(save)
    if isinstance(saved, FormErrors):
        return saved
    edited, given = saved
    return views.nominated(cycle, content.award_label(cycle.award), nominee, edited=edited, given=given)
