"""Listing and changing schedules of every kind: /checkin list, pause, resume, delete.

Who may change one: its creator or a Candor admin. Each kind's practice names it (the registry);
deleting one lets every practice forget what it kept for it first.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.messages import Reply, error, ok
from handlers.context import Command, Services, is_admin
from handlers.schedules import store, views
from handlers.schedules.ids import SCHEDULES_COMMAND
from handlers.schedules.store import Schedule

MAX_ID_CHARS = 12


async def list_schedules(cmd: Command, services: Services) -> Reply:
    """This channel's schedules and the person's own reminders, wherever they ask."""
    registry, syntax = services.registry, services.syntax_for(cmd.platform)
    found = await services.store.read(
        lambda db: store.listed_for(
            db,
            platform=cmd.platform,
            workspace=cmd.workspace,
            conversation=cmd.conversation,
            user=cmd.user,
            channel_kinds=registry.schedule_kinds_where(personal=False),
            personal_kinds=registry.schedule_kinds_where(personal=True),
        )
    )
    if not found:
        hints = [kind.how_to_add for kind in registry.schedule_kinds.values() if kind.how_to_add]
        return views.nothing_scheduled(syntax, hints)
    titled = [(schedule, registry.schedule_title(schedule, services)) for schedule in found]
    return views.schedule_list(syntax, titled, services.clock.now())


async def find_changeable(cmd: Command, services: Services, raw_id: str) -> Schedule | Reply:
    """The schedule `raw_id` if this person may change it, else the reply that says why not."""
    syntax = services.syntax_for(cmd.platform)
    number = raw_id.lstrip("#")
    if not number.isdigit() or len(raw_id) > MAX_ID_CHARS:
        return error(
            f"Give the schedule's number, e.g. {syntax.command(SCHEDULES_COMMAND, 'pause 3')}. "
            f"{syntax.command(SCHEDULES_COMMAND, 'list')} shows them."
        )
    schedule = await services.store.read(
        lambda db: store.find(db, schedule_id=int(number), platform=cmd.platform, workspace=cmd.workspace)
    )
    if schedule is None:
        return error(
            f"There is no schedule #{number} here. {syntax.command(SCHEDULES_COMMAND, 'list')} shows them."
        )
    if schedule.owner != cmd.user and not await is_admin(services, cmd.platform, cmd.user):
        return error("Only the person who created this schedule, or a Candor admin, can change it.")
    return schedule


async def change(cmd: Command, services: Services, verb: str, raw_id: str) -> Reply:
    """Pause, resume or delete one schedule."""
    found = await find_changeable(cmd, services, raw_id)
    if isinstance(found, Reply):
        return found

    def work(tx: Database) -> None:
        if verb == "pause":
            store.pause(tx, schedule_id=found.id)
        elif verb == "resume":
            store.resume(tx, schedule_id=found.id, now=services.clock.now())
        elif verb == "delete":
            services.registry.forget_schedule(tx, found.id)
            store.delete(tx, schedule_id=found.id)

    await services.store.run(work)
    await services.schedules_changed()
    done = {"pause": "paused", "resume": "resumed", "delete": "deleted"}[verb]
    return ok(f"Schedule #{found.id} ({services.registry.schedule_title(found, services)}) is {done}.")
