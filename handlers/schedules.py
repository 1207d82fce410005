"""Schedule rows shared by check-ins, channel nudges and manager reminders: create, list, change."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.messages import Choice, Field, FormErrors, Mention, Reply, Strong, error, ok, rich
from bot.recurrence import DAYS, Recurrence, monday_of
from handlers.context import Command, Services, Submission, is_admin
from handlers.timing import (
    DAY_NAMES,
    InputError,
    describe,
    format_local,
    parse_days,
    parse_time,
    parse_tz,
)

CHANNEL_KINDS = ("checkin", "nudge")
KIND_LABELS = {
    "checkin": "Check-in",
    "nudge": "Coaching nudge",
    "one_on_one": "1:1 reminder",
    "weekly_nudge": "Weekly coaching nudge",
}


def schedule_fields(conversation: str, tz: str | None) -> tuple[Field, ...]:
    """Where and when: the fields every schedule form starts with."""
    return (
        Field("channel", "Channel", "channel", initial=conversation or None),
        Field(
            "days",
            "Days",
            "checkboxes",
            choices=tuple(Choice(d, DAY_NAMES[d]) for d in DAYS),
            initial=("mon",),
        ),
        Field("time", "Local time", "time", initial="09:30"),
        Field(
            "tz",
            "Timezone",
            "text",
            initial=tz or "UTC",
            max_length=64,
            hint="An IANA name such as Europe/Berlin, America/New_York or Asia/Kolkata.",
        ),
    )


def read_when(values: dict[str, Any], errors: dict[str, str]) -> tuple[str, str, str] | None:
    """(days, at, tz) from a submitted form, recording one message per bad field in `errors`."""
    parsed: dict[str, str] = {}
    for field, parse in (("days", parse_days), ("time", parse_time), ("tz", parse_tz)):
        try:
            parsed[field] = parse(values.get(field))
        except InputError as exc:
            errors[field] = str(exc)
    if errors:
        return None
    return parsed["days"], parsed["time"], parsed["tz"]


async def check_channel(
    services: Services, sub: Submission, conversation: str, errors: dict[str, str]
) -> None:
    """The bot must be able to post there, and the person must belong there (or be an admin)."""
    people = services.people_for(sub.platform)
    if not conversation:
        errors["channel"] = "Pick a channel."
    elif not await people.bot_is_member(conversation):
        hint = services.syntax_for(sub.platform).invite_hint
        errors["channel"] = f"Candor is not in that channel yet: {hint}, then submit again."
    elif not await is_admin(services, sub.platform, sub.user) and sub.user not in await people.members(
        conversation
    ):
        errors["channel"] = "You can only schedule posts in a channel you are a member of."


def over_cap(
    db: Database, services: Services, platform: str, workspace: str, conversation: str
) -> str | None:
    cap = services.settings.max_schedules_per_channel
    (count,) = db.execute(
        "select count(*) from schedules where platform = ? and workspace = ? and conversation = ?",
        [platform, workspace, conversation],
    ).fetchone()
    if count >= cap:
        return f"That channel already has {cap} schedules, the limit. Remove one with /checkin delete <id>."
    return None


def insert_schedule(
    tx: Database,
    services: Services,
    *,
    platform: str,
    workspace: str,
    conversation: str,
    kind: str,
    owner: str,
    days: str,
    at: str,
    tz: str,
    **extra: Any,
) -> int:
    now = services.clock.now()
    row: dict[str, Any] = {
        "platform": platform,
        "workspace": workspace,
        "conversation": conversation,
        "kind": kind,
        "owner": owner,
        "days": days,
        "at": at,
        "tz": tz,
        "every_weeks": 1,
        "anchor": "",
        "paused": 0,
        "checked_until": now,
        "created_at": now,
    } | extra
    if row["every_weeks"] > 1:  # week 0 of the rotation; weekly ones share one job whatever the week
        row["anchor"] = monday_of(datetime.fromtimestamp(now, ZoneInfo(tz)).date()).isoformat()
    for key in ("tags", "skip_dates"):
        if key in row and not isinstance(row[key], str):
            row[key] = json.dumps(row[key])
    return int(tx.table("schedules").insert(row).last_pk or 0)


def create(
    services: Services,
    req: Submission,
    *,
    conversation: str,
    kind: str,
    when: tuple[str, str, str],
    cap_field: str = "channel",
    **extra: Any,
) -> int | FormErrors:
    """Store a schedule from a submitted form (within the per-conversation cap) and rebuild jobs."""
    days, at, tz = when
    with services.store.transaction() as tx:
        capped = over_cap(tx, services, req.platform, req.workspace, conversation)
        if capped:
            return FormErrors({cap_field: capped})
        schedule_id = insert_schedule(
            tx,
            services,
            platform=req.platform,
            workspace=req.workspace,
            conversation=conversation,
            kind=kind,
            owner=req.user,
            days=days,
            at=at,
            tz=tz,
            **extra,
        )
    services.schedules_changed()
    return schedule_id


def recurrence(row: dict[str, Any]) -> Recurrence:
    return Recurrence(row["days"], row["at"], row["tz"], row["every_weeks"] or 1, row["anchor"] or "")


def title_of(row: dict[str, Any], services: Services) -> str:
    if row["kind"] == "checkin":
        template = services.catalog.checkin(row["template"] or "")
        return template.title if template else "Custom check-in"
    return KIND_LABELS.get(row["kind"], row["kind"])


def list_schedules(cmd: Command, services: Services) -> Reply:
    rows = list(
        services.store.db.query(
            "select * from schedules where platform = ? and workspace = ? and "
            "((conversation = ? and kind in ('checkin', 'nudge')) or "
            "(owner = ? and kind in ('one_on_one', 'weekly_nudge'))) order by id",
            [cmd.platform, cmd.workspace, cmd.conversation, cmd.user],
        )
    )
    if not rows:
        return ok(
            "Nothing is scheduled in this channel, and you have no reminders.",
            "/checkin opens the check-in form; /nudge schedule sets coaching nudges for a channel; "
            "/checkin remind sets 1:1 reminders.",
        )
    now = services.clock.now()
    lines: list[Any] = [rich(Strong("Schedules in this channel and your reminders"))]
    for row in rows:
        when = describe(row["days"], row["at"], row["tz"], row["every_weeks"] or 1)
        upcoming = recurrence(row).next(now)
        state = "paused" if row["paused"] else f"next {format_local(upcoming, row['tz'])}" if upcoming else ""
        parts: list[Any] = [f"#{row['id']} · {title_of(row, services)}"]
        if row["kind"] == "one_on_one":
            parts += [" with ", Mention(row["subject"])]
        parts.append(f" · {when} · {state}")
        lines.append(rich(*parts))
    lines.append("Change one with /checkin pause|resume|delete|run <id>.")
    return ok(*lines)


async def find_changeable(cmd: Command, services: Services, raw_id: str) -> dict[str, Any] | Reply:
    """The schedule `raw_id` if this person may change it, else the reply that says why not."""
    if not raw_id.lstrip("#").isdigit() or len(raw_id) > 12:
        return error("Give the schedule's number, e.g. /checkin pause 3. /checkin list shows them.")
    rows = list(
        services.store.db.query(
            "select * from schedules where id = ? and platform = ? and workspace = ?",
            [int(raw_id.lstrip("#")), cmd.platform, cmd.workspace],
        )
    )
    if not rows:
        return error(f"There is no schedule #{raw_id.lstrip('#')} here. /checkin list shows them.")
    row = rows[0]
    if row["owner"] != cmd.user and not await is_admin(services, cmd.platform, cmd.user):
        return error("Only the person who created this schedule, or a Candor admin, can change it.")
    return row


async def change(cmd: Command, services: Services, verb: str, raw_id: str) -> Reply:
    found = await find_changeable(cmd, services, raw_id)
    if isinstance(found, Reply):
        return found
    row, now = found, services.clock.now()
    with services.store.transaction() as tx:
        if verb == "pause":
            tx.table("schedules").update(row["id"], {"paused": 1})
        elif verb == "resume" and row["paused"]:
            # Occurrences missed while paused are not made up.
            tx.table("schedules").update(row["id"], {"paused": 0, "checked_until": now})
        elif verb == "delete":
            services.registry.forget_schedule(tx, row["id"])
            tx.table("schedules").delete(row["id"])
    services.schedules_changed()
    done = {"pause": "paused", "resume": "resumed", "delete": "deleted"}[verb]
    return ok(f"Schedule #{row['id']} ({title_of(row, services)}) is {done}.")
