"""What the person a case is about receives: told at every step, in full, with the stage, what it
means, what happens next and the whole path. Coaching appears only as dates."""

from __future__ import annotations

from datetime import date

from bot.messages import (
    Block,
    Context,
    Mention,
    Message,
    Quote,
    Section,
    Strong,
    rich,
)
from handlers.agreements.when import shown_day
from handlers.catalog import EscalationStage, Rubric
from handlers.context import Syntax
from handlers.escalation.ids import Commands, Outcome, Verb
from handlers.escalation.store import Case, Observation
from handlers.text import plural


def command(syntax: Syntax, args: str = "") -> str:
    return syntax.command(Commands.ESCALATION, args)


def days_phrase(n: int) -> str:
    return "no minimum time" if n == 0 else f"at least {plural(n, 'day', 'days')}"


def rubric_lines(rubric: Rubric) -> list[Block]:
    blocks: list[Block] = []
    for number, stage in enumerate(rubric.stages, 1):
        blocks.append(Section(rich(Strong(f"{number}. {stage.title}"), f" · {days_phrase(stage.min_days)}")))
        blocks.append(Context(rich(stage.means)))
        if stage.before_next:
            blocks.append(
                Context(rich("Before the next stage: " + " ".join(r.text for r in stage.before_next)))
            )
    return blocks


def stage_number(rubric: Rubric, slug: str) -> int:
    return [s.slug for s in rubric.stages].index(slug) + 1


def observation_blocks(o: Observation) -> list[Block]:
    return [
        Section(rich(Strong("What was seen"), f" · {shown_day(date.fromisoformat(o.seen_on))}")),
        Quote(o.seen),
        Section(rich(Strong("Its impact"))),
        Quote(o.impact),
    ]


def where_and_next(stage: EscalationStage, rubric: Rubric) -> list[Block]:
    return [
        Section(rich(Strong("What this stage means: "), stage.means)),
        Section(rich(Strong("What happens next: "), stage.next)),
    ]


def opened_message(syntax: Syntax, case: Case, o: Observation, rubric: Rubric) -> Message:
    stage = rubric.stage(case.stage)
    blocks: list[Block] = [
        Section(
            rich(
                "📋 ",
                Mention(case.manager),
                f" opened an escalation case about you, #{case.id}. It starts at stage 1 of "
                f"{len(rubric.stages)}: {stage.title}.",
            )
        )
    ]
    blocks += observation_blocks(o)
    blocks += where_and_next(stage, rubric)
    blocks += [Section(rich(Strong("The whole path, the same for everyone"))), *rubric_lines(rubric)]
    blocks.append(
        Context(
            rich(
                "Talk to ",
                Mention(case.manager),
                f" about it. {command(syntax, Verb.SHOW + ' ' + str(case.id))} shows the case at any time.",
            )
        )
    )
    return Message(tuple(blocks))


def moved_message(syntax: Syntax, case: Case, stage: EscalationStage, rubric: Rubric) -> Message:
    blocks: list[Block] = [
        Section(
            rich(
                "📋 ",
                Mention(case.manager),
                f" moved case #{case.id} about you to stage {stage_number(rubric, stage.slug)} of "
                f"{len(rubric.stages)}: {stage.title}.",
            )
        )
    ]
    blocks += where_and_next(stage, rubric)
    if stage.before_next:
        blocks.append(Context(rich("Before the next stage: " + " ".join(r.text for r in stage.before_next))))
    blocks.append(
        Context(
            rich(
                f"{command(syntax, Verb.SHOW + ' ' + str(case.id))} shows the case; "
                f"{command(syntax, Verb.RUBRIC)} the whole path."
            )
        )
    )
    return Message(tuple(blocks))


def closed_message(case: Case, outcome: Outcome, rubric: Rubric, note: str | None, by: str) -> Message:
    head = "🌱 " if outcome == Outcome.RESOLVED else "📋 "
    blocks: list[Block] = [
        Section(rich(head, Mention(by), f" closed case #{case.id} about you.")),
        Section(rich(rubric.resolved if outcome == Outcome.RESOLVED else rubric.closed)),
    ]
    if note:
        blocks.append(Quote(note))
    return Message(tuple(blocks))
