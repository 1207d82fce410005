"""The vote among the most nominated: one vote per member of the cycle's channel, changeable until
the vote closes, never for oneself."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlite_utils import Database

from bot.messages import FormErrors, Reply, open_form
from handlers.context import Action, Services, Submission
from handlers.nominations import cycles, store, views
from handlers.nominations.content import content_of
from handlers.nominations.ids import FieldId
from handlers.nominations.rules import NAME_BUDGET_S


async def _names(services: Services, platform: str, users: Sequence[str]) -> dict[str, str]:
    """Display names for a select's labels; an id stands in for a name the directory is slow with."""
    people = services.people_for(platform)

    async def name(user: str) -> str:
        try:
            info = await asyncio.wait_for(people.lookup(user), NAME_BUDGET_S)
        except Exception:
            return user
        return info.name if info else user

    return dict(zip(users, await asyncio.gather(*(name(u) for u in users)), strict=True))


async def vote_button(action: Action, services: Services) -> Reply:
    cycle = await cycles.named(services, action, action.value)
    if cycle is None or not cycles.taking_votes(cycle, services.clock.now()):
        return views.not_voting()
    names = await _names(services, action.platform, cycle.finalists)
    cycle_id = cycle.id
    current = await services.store.read(lambda db: store.vote_of(db, cycle_id=cycle_id, voter=action.user))
    label = content_of(services).award_label(cycle.award)
    return open_form(views.vote_form(cycle, label, names, current))


async def submit_vote(sub: Submission, services: Services) -> Reply | FormErrors:
    cycle = await cycles.named(services, sub, sub.context)
    if cycle is None:
        return FormErrors({FieldId.CHOICE: views.vote_closed()})
    choice = str(sub.values.get(FieldId.CHOICE) or "")
    if choice not in cycle.finalists:
        return FormErrors({FieldId.CHOICE: views.pick_finalist()})
    if choice == sub.user:
        return FormErrors({FieldId.CHOICE: views.no_vote_for_yourself()})
    if not cycles.taking_votes(cycle, services.clock.now()):
        return FormErrors({FieldId.CHOICE: views.vote_closed()})
    if sub.user not in await services.people_for(sub.platform).members(cycle.conversation):
        return FormErrors({FieldId.CHOICE: views.not_a_member()})
    now, cycle_id = services.clock.now(), cycle.id

    def cast(tx: Database) -> str | FormErrors | None:
        if not store.hold_voting(tx, cycle_id=cycle_id, now=now):
            return FormErrors({FieldId.CHOICE: views.vote_closed()})
        before = store.vote_of(tx, cycle_id=cycle_id, voter=sub.user)
        store.cast_vote(tx, cycle_id=cycle_id, voter=sub.user, nominee=choice, now=now)
        return before

    before = await services.store.run(cast)
    if isinstance(before, FormErrors):
        return before
    return views.voted(choice, before, cycle)
