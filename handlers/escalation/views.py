"""What escalation answers the person who asked: help, the public rubric, refusals that say which
rule and why, and a case's record. What the person a case is about receives is in posts.py."""

from __future__ import annotations

from bot.messages import (
    Actions,
    Block,
    Button,
    Choice,
    Context,
    Field,
    Form,
    Mention,
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
from handlers.agreements.forms import context
from handlers.agreements.store import Agreement
from handlers.agreements.when import shown
from handlers.catalog import EscalationStage, Requirement, Rubric
from handlers.context import Syntax
from handlers.escalation.ids import ActionId, Commands, FormId, Outcome, Stage, Status, StepKind, Verb
from handlers.escalation.posts import command, days_phrase, observation_blocks, rubric_lines, stage_number
from handlers.escalation.rules import Evidence, Refusal
from handlers.escalation.store import Case, Observation, Step
from handlers.practice import HelpLine

MAX_TEXT = 2000
SHOWN_PLAN = 10  # a case's record lists its latest plan agreements; /agree list has them all

HELP = (
    HelpLine(
        Commands.ESCALATION, Verb.RUBRIC, "the public, staged escalation path: coaching before consequences."
    ),
)


def _day(instant: float, tz: str) -> str:
    return shown(instant, tz).split(",")[0]


def usage(syntax: Syntax) -> Reply:
    return ok(
        rich(Strong("Staged escalation, with a public rubric")),
        f"{command(syntax, Verb.RUBRIC)}: the stages, what each means, how long it lasts and what must exist "
        "before the next. The same for everyone.",
        f"{command(syntax, Verb.OPEN + ' @person')}: open a case with an observed behaviour; you become its "
        "manager, and the person is told at once.",
        f"{command(syntax, Verb.LIST)}: the cases you manage or that are about you "
        "(admins: every open case).",
        f"{command(syntax, Verb.SHOW + ' 7')}: a case's record. "
        f"{command(syntax, Verb.MOVE + ' 7')} moves it to its next stage; "
        f"{command(syntax, Verb.CLOSE + ' 7')} closes it.",
    )


def too_long(syntax: Syntax) -> Reply:
    return error(f"That is too long to read as a command. {command(syntax, Verb.HELP)} shows what it takes.")


def unknown(syntax: Syntax, verb: str) -> Reply:
    return error(
        f"{verb[:30]!r} is not something {command(syntax)} does.",
        f"{command(syntax, Verb.HELP)} shows what it does.",
    )


def rubric(syntax: Syntax, rubric: Rubric) -> Reply:
    blocks: list[Block] = [Section(rich(Strong("How escalation works here"))), Context(rich(rubric.intro))]
    blocks += rubric_lines(rubric)
    blocks.append(Context(rich(f"No stage is skipped. {command(syntax, Verb.HELP)} shows the commands.")))
    return Reply(Message(tuple(blocks)))


# --- opening a case --------------------------------------------------------------------------------
NOT_YOURSELF = "A case is about someone else."
NOT_A_BOT = "Escalation is about people; a bot has no case."
NOT_FOUND = "I could not find that person in this workspace."
OUT_OF_DATE = "This form is out of date. Please start again."


def open_usage(syntax: Syntax) -> Reply:
    return error(f"Say who the case is about, with one @mention: {command(syntax, Verb.OPEN + ' @alex')}.")


ONLY_MANAGERS_OPEN = (
    "Only managers (CANDOR_MANAGERS) and Candor admins open escalation cases: it is a formal step. "
    "If something keeps going wrong between you and a colleague, try an agreement or a coaching "
    "conversation first, or talk to your manager."
)


def only_managers_open(syntax: Syntax) -> Reply:
    return error(f"{ONLY_MANAGERS_OPEN} {command(syntax, Verb.RUBRIC)} shows how the path works.")


def refused(problem: str) -> Reply:
    return error(problem)


def already_open(case: Case) -> Reply:
    return error(
        rich(
            "You already have an open case about ",
            Mention(case.person),
            f": #{case.id}. Go on with it, or close it first.",
        )
    )


def open_form_for(person: str, rubric: Rubric, context: str, today: str) -> Reply:
    first = rubric.stages[0]
    return open_form(
        Form(
            callback=FormId.OPEN,
            title="Open a case",
            submit="Open the case",
            fields=(
                Field(
                    "seen",
                    "What was seen or heard",
                    "multiline",
                    max_length=MAX_TEXT,
                    hint='Behaviour, not personality: "missed three stand-ups without notice", '
                    'not "unreliable".',
                ),
                Field("seen_on", "When", "date", initial=today),
                Field(
                    "impact",
                    "Its impact",
                    "multiline",
                    max_length=MAX_TEXT,
                    hint="On the work, the team, customers.",
                ),
            ),
            intro=(
                Section(rich("A case about ", Mention(person), f" starts at stage 1, {first.title}.")),
                Context(rich(first.means)),
                Context(
                    rich(
                        "They are told at once, with the rubric and what happens next: "
                        "there are no secret stages."
                    )
                ),
            ),
            context=context,
        )
    )


def opened_reply(case_id: int, person: str) -> Reply:
    return ok(
        rich(f"Case #{case_id} is open at stage 1. ", Mention(person), " is told now, with the rubric.")
    )


def already_opened() -> Reply:
    return ok("That case is already open.")


def _requirement_line(requirement: Requirement, evidence: Evidence) -> str:
    mark = "✓" if evidence.met(requirement) else "✗"
    return f"{mark} {requirement.text} (now {evidence.has(requirement)}, needs {requirement.count})"


# --- moving a case ------------------------------------------------------------------------------------
def refusal(case: Case, found: Refusal, rubric: Rubric, tz: str, evidence: Evidence) -> Reply:
    current = rubric.stage(case.stage)
    if found.kind == "closed":
        return error(f"Case #{case.id} is closed.")
    if found.kind == "last":
        return error(f"Case #{case.id} is at {current.title}, the last stage: it can only be closed now.")
    if found.kind == "already":
        return ok(f"Case #{case.id} is already at {current.title}.")
    following = rubric.after(case.stage)
    if found.kind == "skip":
        asked = found.stage.title if found.stage else "that stage"
        nxt = following.title if following else ""
        return error(
            f"Candor does not skip stages: case #{case.id} is at {current.title}, so it can move to "
            f"{nxt} next, not to {asked}.",
            "Coaching always comes before any formal step.",
        )
    if found.kind == "backwards":
        return error(f"A case only moves forward. To end case #{case.id}, close it.")
    if found.kind == "too_early":
        ready = shown(found.ready_at or 0.0, tz)
        return error(
            f"Too early: case #{case.id} has been at {current.title} since {_day(case.stage_since, tz)}, and "
            f"a case stays there {days_phrase(current.min_days)}. It can move on from {ready} ({tz})."
        )
    lines: list[str | tuple[Span, ...]] = [
        f"Not yet: before {following.title if following else 'the next stage'}, the rubric asks for:"
    ]
    lines += [_requirement_line(requirement, evidence) for requirement in current.before_next]
    return error(*lines)


def moved_reply(case: Case, stage: EscalationStage) -> Reply:
    return ok(rich(f"Case #{case.id} moved to {stage.title}. ", Mention(case.person), " is told now."))


def only_manager(case: Case, closing: bool = False) -> Reply:
    if closing:
        return error(rich(f"Only the manager who opened case #{case.id}, or a Candor admin, can close it."))
    return error(rich(f"Only the manager who opened case #{case.id} can move it or add to it."))


def not_found(number: int | str) -> Reply:
    return error(f"I cannot find case #{str(number)[:12]} among the cases you can see.")


def move_usage(syntax: Syntax, rubric: Rubric) -> Reply:
    stages = ", ".join(s.slug for s in rubric.stages)
    return error(
        f"{command(syntax, Verb.MOVE + ' 7')} moves case 7 to its next stage; you may name it ({stages})."
    )


def case_usage(syntax: Syntax, verb: str) -> Reply:
    return error(f"Say which case, by its number: {command(syntax, verb + ' 7')}.")


# --- closing ------------------------------------------------------------------------------------------
def close_form(case: Case) -> Reply:
    return open_form(
        Form(
            callback=FormId.CLOSE,
            title="Close the case",
            submit="Close it",
            fields=(
                Field(
                    "outcome",
                    "How does it end?",
                    "select",
                    choices=(
                        Choice(Outcome.RESOLVED, "Resolved"),
                        Choice(Outcome.CLOSED, "Closed for another reason"),
                    ),
                    initial=Outcome.RESOLVED,
                ),
                Field("note", "A note to them", "multiline", optional=True, max_length=MAX_TEXT),
            ),
            intro=(
                Section(rich(f"Case #{case.id} about ", Mention(case.person), ". They are told, kindly.")),
            ),
            context=context(case=case.id),
        )
    )


def closed_reply(case: Case, outcome: Outcome) -> Reply:
    how = "as resolved" if outcome == Outcome.RESOLVED else ""
    return ok(rich(f"Case #{case.id} is closed {how}".rstrip() + ". ", Mention(case.person), " is told."))


def already_closed(case: Case) -> Reply:
    return ok(f"Case #{case.id} is already closed.")


# --- a case's record --------------------------------------------------------------------------------------
_STEP = {StepKind.OPENED: "opened at", StepKind.MOVED: "moved to", StepKind.CLOSED: "closed at"}


def record(
    syntax: Syntax,
    case: Case,
    rubric: Rubric,
    tz: str,
    steps: list[Step],
    observations: list[Observation],
    evidence: Evidence,
    plan: list[Agreement],
    buttons: tuple[Button, ...],
) -> Reply:
    stage = rubric.stage(case.stage)
    state = "open" if case.status == Status.OPEN else f"closed ({case.outcome})"
    blocks: list[Block] = [
        Section(
            rich(
                Strong(f"Escalation case #{case.id}"),
                " about ",
                Mention(case.person),
                " · manager ",
                Mention(case.manager),
                f" · {state}",
            )
        ),
        Section(
            rich(
                f"Stage {stage_number(rubric, stage.slug)} of {len(rubric.stages)}: {stage.title}, "
                f"since {_day(case.stage_since, tz)}"
            )
        ),
        Context(rich(stage.means)),
    ]
    for o in observations:
        blocks += observation_blocks(o)
    blocks.append(Section(rich(Strong("Steps"))))
    for s in steps:
        title = rubric.stage(s.stage).title
        blocks.append(
            Context(rich(f"{_day(s.at, tz)}: ", f"{_STEP[s.kind]} {title} by ", Mention(s.by_user)))
        )
        if s.note:
            blocks.append(Quote(s.note))
    if case.stage != Stage.OBSERVATION:
        dates = ", ".join(_day(at, tz) for at in evidence.coaching_dates) or "none yet"
        blocks.append(
            Section(
                rich(
                    "Coaching conversations since the case reached coaching: "
                    f"{len(evidence.coaching_dates)} ({dates}). "
                    "The notes are private; only their dates count."
                )
            )
        )
    if plan:
        blocks.append(Section(rich(Strong("The documented plan"))))
        for a in plan[-SHOWN_PLAN:]:
            blocks.append(
                Context(rich(f"#{a.id} ", Strong(a.what[:200]), f" · due {shown(a.due_at, tz)} · {a.state}"))
            )
    if case.status == Status.OPEN and stage.before_next:
        blocks.append(Section(rich(Strong("Before the next stage"))))
        for requirement in stage.before_next:
            blocks.append(Context(rich(_requirement_line(requirement, evidence))))
    if buttons:
        blocks.append(Actions(buttons))
    return Reply(Message(tuple(blocks)))


def case_buttons(case: Case, rubric: Rubric, *, manager: bool, admin: bool) -> tuple[Button, ...]:
    if case.status != Status.OPEN:
        return ()
    buttons: list[Button] = []
    following = rubric.after(case.stage)
    if manager and following is not None:
        buttons.append(
            Button(f"Move to {following.title}", ActionId.MOVE, f"{case.id}:{case.stage}", "primary")
        )
    if manager and case.stage == Stage.PLAN:
        buttons.append(Button("Add a plan agreement", ActionId.PLAN, str(case.id)))
    if manager or admin:
        buttons.append(Button("Close the case", ActionId.CLOSE, str(case.id)))
    return tuple(buttons)


def listing(
    syntax: Syntax, viewer: str, cases: list[Case], rubric: Rubric, tz: str, admin_view: list[Case]
) -> Reply:
    lines: list[str | tuple[Span, ...]] = []

    def line(case: Case) -> tuple[Span, ...]:
        stage = rubric.stage(case.stage).title
        state = stage if case.status == Status.OPEN else f"closed ({case.outcome})"
        return rich(
            f"#{case.id} about ",
            Mention(case.person),
            " · manager ",
            Mention(case.manager),
            f" · {state} · opened {_day(case.opened_at, tz)}",
        )

    managed = [c for c in cases if c.manager == viewer]
    about_me = [c for c in cases if c.person == viewer]
    if managed:
        lines.append(rich(Strong("Cases you manage")))
        lines += [line(c) for c in managed]
    if about_me:
        lines.append(rich(Strong("Cases about you")))
        lines += [line(c) for c in about_me]
    others = [c for c in admin_view if c.manager != viewer and c.person != viewer]
    if others:
        lines.append(rich(Strong("Every other open case (you are an admin)")))
        lines += [line(c) for c in others]
    if not lines:
        return ok(
            "There are no escalation cases for you to see.",
            f"{command(syntax, Verb.RUBRIC)} shows how they work.",
        )
    lines.append(f"{command(syntax, Verb.SHOW + ' 7')} shows one case's record.")
    return ok(*lines)


def plan_not_now(case: Case) -> Reply:
    return error(f"Plan agreements are made while case #{case.id} is at its documented plan stage.")
