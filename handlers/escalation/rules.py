"""When a case may move on: the next stage only, after the stage's minimum time, and once what the
rubric asks for exists. The rubric (data/escalation.yml) says what; this module counts it.

Coaching comes before any formal step because no stage can be skipped and leaving coaching needs
coaching conversations (the manager's notes, by date) and an agreement missed and reviewed together.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from handlers.agreements import store as agreements
from handlers.agreements.store import PlanProgress
from handlers.catalog import EscalationStage, Requirement, Rubric
from handlers.coaching import store as coaching
from handlers.escalation import store
from handlers.escalation.ids import Check, Stage, Status
from handlers.escalation.store import Case

DAY_S = 24 * 3600


@dataclass(frozen=True)
class Evidence:
    """What a case has to show, in counts and dates (never a coaching note's text)."""

    observations: int
    # The dates of the manager's notes about the person since the case reached coaching (none before).
    coaching_dates: tuple[float, ...]
    reviewed_agreements: int  # agreements asked of the person since the case opened, missed and reviewed
    plan: PlanProgress

    def has(self, requirement: Requirement) -> int:
        """How much of what the requirement counts there is."""
        check = Check(requirement.check)
        if check == Check.OBSERVATIONS:
            return self.observations
        if check == Check.COACHING_NOTES:
            return len(self.coaching_dates)
        if check == Check.REVIEWED_AGREEMENTS:
            return self.reviewed_agreements
        if check == Check.PLAN_AGREEMENTS:
            return self.plan.accepted
        # Missed and reviewed, and none of the plan's misses still waiting for its review.
        return self.plan.missed_reviewed if not self.plan.awaiting_review else 0

    def met(self, requirement: Requirement) -> bool:
        return self.has(requirement) >= requirement.count


def evidence(db: Database, case: Case) -> Evidence:
    coaching_since = store.reached(db, case_id=case.id, stage=Stage.COACHING)
    dates = (
        coaching.note_dates(
            db,
            platform=case.platform,
            workspace=case.workspace,
            author=case.manager,
            person=case.person,
            since=coaching_since,
        )
        if coaching_since is not None
        else []
    )
    return Evidence(
        observations=len(store.observations(db, case_id=case.id)),
        coaching_dates=tuple(dates),
        reviewed_agreements=agreements.reviewed_between(
            db,
            platform=case.platform,
            workspace=case.workspace,
            requester=case.manager,
            performer=case.person,
            since=case.opened_at,
        ),
        plan=agreements.plan_progress(db, case_id=case.id),
    )


@dataclass(frozen=True)
class Refusal:
    """Why a case may not move; `kind` names the rule: closed, last, already, skip, backwards,
    too_early, unmet."""

    kind: str
    stage: EscalationStage | None = None  # the stage asked for, or the next one
    ready_at: float | None = None
    unmet: tuple[Requirement, ...] = ()


def earliest_move(case: Case, rubric: Rubric) -> float:
    return case.stage_since + rubric.stage(case.stage).min_days * DAY_S


def check_move(
    case: Case, target: Stage | None, rubric: Rubric, found: Evidence, now: float
) -> Refusal | EscalationStage:
    """The stage the case may move to now, or why not. `target` None means the next one."""
    if case.status != Status.OPEN:
        return Refusal("closed")
    following = rubric.after(case.stage)
    if following is None:
        return Refusal("last")
    if target is not None and target != following.slug:
        if target == case.stage:
            return Refusal("already", rubric.stage(target))
        later = _index(rubric, target) > _index(rubric, following.slug)
        return Refusal("skip" if later else "backwards", rubric.stage(target))
    ready_at = earliest_move(case, rubric)
    if now < ready_at:
        return Refusal("too_early", following, ready_at)
    unmet = tuple(r for r in rubric.stage(case.stage).before_next if not found.met(r))
    if unmet:
        return Refusal("unmet", following, unmet=unmet)
    return following


def _index(rubric: Rubric, slug: str) -> int:
    return [s.slug for s in rubric.stages].index(slug)


def parse_stage(typed: str, rubric: Rubric) -> Stage | None:
    """A stage by its slug or its title, in any case ("plan", "Documented plan")."""
    wanted = " ".join(typed.lower().split())
    for stage in rubric.stages:
        if wanted in (stage.slug, stage.title.lower()):
            return Stage(stage.slug)
    return None
