"""The evidence that follows a person: `/nominate mine` shows it to them, the export buttons send it
to them privately as a Markdown or CSV file, and the share form sends a copy to one person they
choose. The file goes through the outbox like any post, so a restart loses nothing.

Only the person it is about can see, export or share it: every flow reads the evidence of whoever
pressed or typed, never of someone a button or form names, and there is no admin view of it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

from sqlite_utils import Database

from bot import outbox
from bot.messages import FormErrors, Message, Reply, open_form
from bot.outbox import Person
from handlers.context import Action, Command, Services, Submission, timezone_of
from handlers.nominations import evidence_views, export, store
from handlers.nominations.content import content_of
from handlers.nominations.evidence_model import Group, gather, grouped
from handlers.nominations.ids import Claim, ExportFormat, FieldId
from handlers.nominations.rules import MAX_NAMED, NAME_BUDGET_S, RESEND_AFTER_S
from handlers.nominations.when import local_day


async def _groups(services: Services, platform: str, workspace: str, user: str) -> list[Group]:
    content = content_of(services)
    items = await services.store.read(
        lambda db: gather(db, content, platform=platform, workspace=workspace, user=user)
    )
    return grouped(items, services.catalog, content)


async def _day(services: Services, platform: str, user: str) -> Callable[[float], str]:
    tz = await timezone_of(services, platform, user)
    return lambda instant: local_day(instant, tz)


async def show_mine(cmd: Command, services: Services) -> Reply:
    groups = await _groups(services, cmd.platform, cmd.workspace, cmd.user)
    if not groups:
        return evidence_views.nothing_yet(services.syntax_for(cmd.platform))
    return evidence_views.mine(groups, await _day(services, cmd.platform, cmd.user))


async def _text(services: Services, platform: str, user: str, groups: list[Group], fmt: ExportFormat) -> str:
    """The export's text, with people and channels by name (ids where the directory is slow)."""
    people = services.people_for(platform)
    items = [i for g in groups for i in g.items]
    users = list(dict.fromkeys([user, *(i.by for i in items if i.by)]))[:MAX_NAMED]
    channels = list(dict.fromkeys(i.conversation for i in items))[:MAX_NAMED]

    async def name(who: str) -> str:
        try:
            info = await asyncio.wait_for(people.lookup(who), NAME_BUDGET_S)
        except Exception:
            return who
        return info.name if info else who

    async def channel(conversation: str) -> str:
        try:
            return await asyncio.wait_for(people.channel_name(conversation), NAME_BUDGET_S)
        except Exception:
            return conversation

    names = dict(zip(users, await asyncio.gather(*(name(u) for u in users)), strict=True))
    channel_names = dict(zip(channels, await asyncio.gather(*(channel(c) for c in channels)), strict=True))
    day = await _day(services, platform, user)
    if fmt == ExportFormat.CSV:
        return export.csv_text(groups, names, channel_names, day)
    today = day(services.clock.now())
    return export.markdown(names.get(user, user), today, groups, names, channel_names, day)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def _send(services: Services, platform: str, to: str, key: str, message: Message) -> bool:
    """Queue the message to one person unless the same was sent there moments ago."""
    now = services.clock.now()

    def send(tx: Database) -> bool:
        if not store.claim_recent(tx, key=key, now=now, window_s=RESEND_AFTER_S):
            return False
        outbox.enqueue(tx, platform=platform, to=Person(to), message=message, now=now)
        return True

    return await services.store.run(send)


async def export_own(action: Action, services: Services) -> Reply:
    """Send the presser their own evidence privately; the button's value only says the format."""
    try:
        fmt = ExportFormat(action.value)
    except ValueError:
        return evidence_views.unknown_format()
    groups = await _groups(services, action.platform, action.workspace, action.user)
    if not groups:
        return evidence_views.nothing_yet(services.syntax_for(action.platform))
    text = await _text(services, action.platform, action.user, groups, fmt)
    message = evidence_views.export_message(text, fmt, evidence_views.own_header(fmt, groups))
    key = f"{Claim.EXPORT}{action.platform}:{action.workspace}:{action.user}:{fmt}:{_digest(text)}"
    if not await _send(services, action.platform, action.user, key, message):
        return evidence_views.sent_already()
    return evidence_views.exported(fmt)


async def share_button(action: Action, services: Services) -> Reply:
    groups = await _groups(services, action.platform, action.workspace, action.user)
    if not groups:
        return evidence_views.nothing_yet(services.syntax_for(action.platform))
    return open_form(evidence_views.share_form(groups))


async def submit_share(sub: Submission, services: Services) -> Reply | FormErrors:
    """Send the submitter's own evidence to one person they chose."""
    target = str(sub.values.get(FieldId.PERSON) or "").strip()
    try:
        fmt = ExportFormat(str(sub.values.get(FieldId.FORMAT) or ""))
    except ValueError:
        return FormErrors({FieldId.FORMAT: "Pick Markdown or CSV."})
    if not target:
        return FormErrors({FieldId.PERSON: evidence_views.pick_someone()})
    if target == sub.user:
        return FormErrors({FieldId.PERSON: evidence_views.that_is_you()})
    info = await services.people_for(sub.platform).lookup(target)
    if info is None or info.deleted:
        return FormErrors({FieldId.PERSON: evidence_views.share_not_found()})
    if info.is_bot:
        return FormErrors({FieldId.PERSON: evidence_views.share_to_bot()})
    groups = await _groups(services, sub.platform, sub.workspace, sub.user)
    if not groups:
        return FormErrors({FieldId.PERSON: evidence_views.nothing_to_share()})
    text = await _text(services, sub.platform, sub.user, groups, fmt)
    header = evidence_views.shared_header(sub.user, fmt, groups)
    message = evidence_views.export_message(text, fmt, header)
    key = f"{Claim.SHARE}{sub.platform}:{sub.workspace}:{sub.user}:{target}:{fmt}:{_digest(text)}"
    if not await _send(services, sub.platform, target, key, message):
        return FormErrors({FieldId.PERSON: evidence_views.shared_already()})
    return evidence_views.shared(target, fmt)
