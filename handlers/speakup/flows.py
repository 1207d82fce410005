"""Speak-up's rules: what the author, the managers and the admins may do, and what each changes.

The author is known to nothing here but the request in hand: a concern is stored with a case code's
hash and no trace of who sent it, their limits are counted in memory only, and their optional
private copy of the code bypasses the outbox (handlers/anonymity).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlite_utils import Database

from bot import outbox
from bot.messages import Choice, FormErrors, Reply, error, ok
from bot.outbox import Channel
from bot.store import claim_once
from handlers import anonymity
from handlers.anonymity import DAY_S, HOUR_S, Delay, day_of, start_of_day
from handlers.context import Action, Command, Services, Submission, is_admin
from handlers.speakup import jobs, store, views
from handlers.speakup.ids import SEED_KEY, Kind, Limit, Status, Verb
from handlers.speakup.rules import (
    CODE_TRIES_PER_HOUR,
    CONCERNS_PER_DAY,
    DEADLINES,
    MAX_CONCERN,
    MAX_NOTE,
    MAX_REPLY,
    MAX_WANTS,
)
from handlers.speakup.store import Concern
from handlers.text import MAX_COMMAND_CHARS, clean_user_text, read_text

STATS_DAYS = 90


def _delay(services: Services) -> Delay:
    return services.settings.speakup_delay_s


def _person(req: Command | Action | Submission) -> str:
    """Who is counted by the in-memory limits (under an HMAC there, never stored)."""
    return f"{req.platform}:{req.workspace}:{req.user}"


async def _enabled(services: Services, req: Command | Action | Submission) -> list[str]:
    return await services.store.read(
        lambda db: store.enabled_channels(db, platform=req.platform, workspace=req.workspace)
    )


# --- the command --------------------------------------------------------------------------------
ADMIN_VERBS = (Verb.ENABLE, Verb.DISABLE, Verb.STATS)
HELP_VERBS = (Verb.HELP, "?")


def typed_anonymously(text: str) -> bool:
    """Every use of /speakup but help and the admins' verbs may come from an anonymous author (an
    unknown word too: it could be a mistyped case code). Read exactly as `handle` reads it."""
    words = clean_user_text(text).split()
    verb = words[0].lower() if words else ""
    return not (verb in HELP_VERBS or (verb in ADMIN_VERBS and len(words) == 1))


async def handle(cmd: Command, services: Services) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return views.too_long(syntax)
    words = clean_user_text(cmd.text).split()
    verb = words[0].lower() if words else ""
    await seed_channels(services, cmd.platform, cmd.workspace)
    if verb == "":
        return await new_form(cmd, services)
    if verb in HELP_VERBS:
        return views.usage(syntax, _delay(services))
    if verb == Verb.STATUS:
        return await open_case(cmd, services, "".join(words[1:]))
    if verb in ADMIN_VERBS and len(words) == 1:
        if not await is_admin(services, cmd.platform, cmd.user):
            return error("Only Candor admins can do that.")
        if verb == Verb.STATS:
            return await stats(cmd, services)
        return await toggle(cmd, services, verb == Verb.ENABLE)
    return views.unknown(syntax, verb[:30])  # an unknown word is echoed, never at length


async def seed_channels(services: Services, platform: str, workspace: str) -> None:
    """CANDOR_SPEAKUP_CHANNELS: enabled once per workspace, so a later /speakup disable sticks."""
    if not services.settings.speakup_channels:
        return
    day = start_of_day(services.clock.now())

    def seed(tx: Database) -> None:
        if not claim_once(tx, f"{SEED_KEY}{platform}:{workspace}", day):
            return
        for conversation in sorted(services.settings.speakup_channels):
            store.enable_channel(
                tx,
                platform=platform,
                workspace=workspace,
                conversation=conversation,
                enabled_by="CANDOR_SPEAKUP_CHANNELS",
                day=day,
            )

    await services.store.run(seed)


# --- the author raises a concern ----------------------------------------------------------------
async def new_form(cmd: Command, services: Services) -> Reply:
    channels = await _enabled(services, cmd)
    if not channels:
        return views.not_set_up(services.syntax_for(cmd.platform))
    people = services.people_for(cmd.platform)
    choices = tuple([Choice(c, await people.channel_name(c)) for c in channels])
    return views.new_form(choices, _delay(services))


async def submit_new(sub: Submission, services: Services) -> Reply | FormErrors:
    errors: dict[str, str] = {}
    conversation = str(sub.values.get("channel") or "")
    if conversation not in await _enabled(services, sub):
        errors["channel"] = "Pick one of the channels in the list."
    body, problem = read_text(
        sub.values.get("concern"), label="Your concern", limit=MAX_CONCERN, required=True
    )
    if problem:
        errors["concern"] = problem
    wants, problem = read_text(sub.values.get("wants"), label="This answer", limit=MAX_WANTS, required=False)
    if problem:
        errors["wants"] = problem
    now = services.clock.now()
    limits = services.anonymity_limits
    if not errors and limits.used(Limit.CONCERN, _person(sub), DAY_S, now) >= CONCERNS_PER_DAY:
        errors["concern"] = f"You can raise {CONCERNS_PER_DAY} concerns a day. Please try again tomorrow."
    if errors:
        return FormErrors(errors)

    copy_by_dm = "yes" in (sub.values.get("dm") or [])
    code = anonymity.new_code()
    publish_at = anonymity.publish_time(_delay(services), now)
    raised = date.fromisoformat(day_of(publish_at))  # the day it is published, not the day it was written
    await anonymity.write(
        services.store,
        lambda tx: store.add_concern(
            tx,
            platform=sub.platform,
            workspace=sub.workspace,
            conversation=conversation,
            code_hash=anonymity.code_hash(code),
            body=body,
            wants=wants or None,
            raised_on=raised.isoformat(),
            publish_at=publish_at,
            due_on={
                flag: (raised + timedelta(days=days)).isoformat() for flag, (days, _) in DEADLINES.items()
            },
        ),
    )
    # The concern is stored: from here on the author must get their code, whatever fails.
    limits.add(Limit.CONCERN, _person(sub), DAY_S, now)
    if not anonymity.is_delayed(_delay(services)):  # with a delay only the batch job publishes
        await jobs.publish_at_once(services)
    if copy_by_dm:
        anonymity.send_privately(
            services.people_for(sub.platform), sub.user, views.author_key(code, _delay(services)), limits
        )
    return views.received(services.syntax_for(sub.platform), _delay(services), code, copy_by_dm)


# --- the author's view of their case ------------------------------------------------------------
async def _find_by_code(services: Services, raw: str, req: Command | Action | Submission) -> Concern | None:
    code_hash = anonymity.hash_of_typed(raw)
    if code_hash is None:
        return None
    return await services.store.read(
        lambda db: store.concern_by_code(
            db, code_hash=code_hash, platform=req.platform, workspace=req.workspace
        )
    )


async def open_case(req: Command | Action, services: Services, raw_code: str) -> Reply:
    now = services.clock.now()
    limits = services.anonymity_limits
    if limits.used(Limit.CODE, _person(req), HOUR_S, now) >= CODE_TRIES_PER_HOUR:
        return error(views.TOO_MANY_CODES)
    concern = await _find_by_code(services, raw_code, req)
    if concern is None:
        limits.add(Limit.CODE, _person(req), HOUR_S, now)
        return error(views.NO_CASE)
    messages = await services.store.read(lambda db: store.case_messages(db, concern_id=concern.id))
    return views.case_form(concern, messages, anonymity.normalise_code(raw_code) or "", _delay(services))


async def view_case(action: Action, services: Services) -> Reply:
    return await open_case(action, services, action.value)


async def submit_case(sub: Submission, services: Services) -> Reply | FormErrors:
    concern = await _find_by_code(services, sub.context, sub)
    if concern is None:
        return FormErrors({"followup": views.NO_CASE})
    text, problem = read_text(
        sub.values.get("followup"), label="Your follow-up", limit=MAX_REPLY, required=False
    )
    if problem:
        return FormErrors({"followup": problem})
    if not text:
        return ok("Nothing was added.")
    if concern.status == Status.RESOLVED or concern.hidden_reason:
        again = services.syntax_for(sub.platform).command("speakup")
        return FormErrors({"followup": f"This case is closed. Raise a new concern with {again}."})
    if concern.post_outbox is None:
        return FormErrors({"followup": "Your concern is not published yet. Add more once it is."})
    publish_at = anonymity.publish_time(_delay(services), services.clock.now())
    await anonymity.write(
        services.store,
        lambda tx: store.add_message(
            tx,
            concern_id=concern.id,
            kind=Kind.AUTHOR,
            by_user=None,
            body=text,
            created_on=day_of(publish_at),  # like raised_on: the day it is published
            publish_at=publish_at,
        ),
    )
    if not anonymity.is_delayed(_delay(services)):
        await jobs.publish_at_once(services)
    return views.follow_up_added(_delay(services))


# --- what managers do ---------------------------------------------------------------------------
async def _concern(services: Services, req: Action | Submission, raw_id: str) -> Concern | None:
    if not raw_id.isdigit() or len(raw_id) > 12:
        return None
    return await services.store.read(
        lambda db: store.concern(db, concern_id=int(raw_id), platform=req.platform, workspace=req.workspace)
    )


async def open_reply(action: Action, services: Services) -> Reply:
    concern = await _concern(services, action, action.value)
    if concern is None:
        return error("This concern no longer exists.")
    return views.reply_form(concern.id)


async def _moderate(action: Action, services: Services) -> Concern | Reply:
    concern = await _concern(services, action, action.value)
    if concern is None:
        return error("This concern no longer exists.")
    if not await is_admin(services, action.platform, action.user):
        return error("Only Candor admins can acknowledge, resolve or hide a concern. Anyone can reply.")
    return concern


async def acknowledge(action: Action, services: Services) -> Reply:
    found = await _moderate(action, services)
    if isinstance(found, Reply):
        return found
    if found.status != Status.OPEN:
        return ok(f"Case #{found.id} is already {found.status}.")
    await _record(services, found, kind=Kind.ACKNOWLEDGED, by_user=action.user, note=None)
    return ok(f"Case #{found.id} is acknowledged. The author sees it when they check the case.")


async def open_resolve(action: Action, services: Services) -> Reply:
    found = await _moderate(action, services)
    return found if isinstance(found, Reply) else views.resolve_form(found.id)


async def open_hide(action: Action, services: Services) -> Reply:
    found = await _moderate(action, services)
    return found if isinstance(found, Reply) else views.hide_form(found.id)


async def submit_reply(sub: Submission, services: Services) -> Reply | FormErrors:
    return await _submit_note(sub, services, kind=Kind.REPLY, label="Your reply")


async def submit_resolve(sub: Submission, services: Services) -> Reply | FormErrors:
    return await _submit_note(sub, services, kind=Kind.RESOLVED, label="The note")


async def submit_hide(sub: Submission, services: Services) -> Reply | FormErrors:
    return await _submit_note(sub, services, kind=Kind.HIDDEN, label="The reason")


_DONE = {
    Kind.REPLY: "Your reply is posted in the thread.",
    Kind.RESOLVED: "Marked resolved.",
    Kind.HIDDEN: "Hidden.",
}


async def _submit_note(sub: Submission, services: Services, *, kind: Kind, label: str) -> Reply | FormErrors:
    concern = await _concern(services, sub, sub.context)
    if concern is None:
        return FormErrors({"text": "This concern no longer exists."})
    if kind != Kind.REPLY and not await is_admin(services, sub.platform, sub.user):
        return FormErrors({"text": "Only Candor admins can resolve or hide a concern."})
    limit = MAX_REPLY if kind == Kind.REPLY else MAX_NOTE
    text, problem = read_text(sub.values.get("text"), label=label, limit=limit, required=True)
    if problem:
        return FormErrors({"text": problem})
    await _record(services, concern, kind=kind, by_user=sub.user, note=text)
    return ok(f"Case #{concern.id}: {_DONE[kind]}")


async def _record(
    services: Services, concern: Concern, *, kind: Kind, by_user: str, note: str | None
) -> None:
    """Store what a manager did, post it in the thread, and refresh the channel message."""
    now = services.clock.now()
    day = day_of(now)

    def work(tx: Database) -> None:
        changed = False
        if kind == Kind.ACKNOWLEDGED:
            store.set_status(tx, concern_id=concern.id, status=Status.ACKNOWLEDGED, day=day)
            changed = True
        elif kind == Kind.RESOLVED:
            store.set_status(tx, concern_id=concern.id, status=Status.RESOLVED, day=day)
            changed = True
        elif kind == Kind.HIDDEN:
            store.hide(tx, concern_id=concern.id, reason=note or "")
            changed = True
        else:
            store.note_first_reply(tx, concern_id=concern.id, day=day)
        post = outbox.enqueue(
            tx,
            platform=concern.platform,
            to=Channel(concern.conversation),
            message=views.thread_post(kind, by_user, note),
            now=now,
            reply_to=concern.post_outbox,
        )
        store.add_message(
            tx, concern_id=concern.id, kind=kind, by_user=by_user, body=note, created_on=day, outbox_id=post
        )
        fresh = store.concern(
            tx, concern_id=concern.id, platform=concern.platform, workspace=concern.workspace
        )
        if changed and fresh is not None and fresh.post_outbox is not None:
            # Edit the channel message; one still waiting to be published says the new state when it is.
            outbox.edit(tx, original=fresh.post_outbox, message=views.channel_post(fresh), now=now)
        if kind == Kind.HIDDEN:
            _hide_follow_ups(tx, concern, note or "", now)

    await services.store.run(work)


def _hide_follow_ups(tx: Database, concern: Concern, reason: str, now: float) -> None:
    """Hiding covers the author's follow-ups too: unpublished ones never go out, sent ones are edited."""
    store.withhold_unpublished_follow_ups(tx, concern_id=concern.id)
    for post in store.published_follow_up_posts(tx, concern_id=concern.id):
        outbox.edit(tx, original=post, message=views.hidden_post(reason), now=now)


# --- admins: channels and stats -----------------------------------------------------------------
async def toggle(cmd: Command, services: Services, enable: bool) -> Reply:
    day = start_of_day(services.clock.now())

    def work(tx: Database) -> None:
        if enable:
            store.enable_channel(
                tx,
                platform=cmd.platform,
                workspace=cmd.workspace,
                conversation=cmd.conversation,
                enabled_by=cmd.user,
                day=day,
            )
        else:
            store.disable_channel(
                tx, platform=cmd.platform, workspace=cmd.workspace, conversation=cmd.conversation
            )

    await services.store.run(work)
    return views.toggled(services.syntax_for(cmd.platform), enable)


async def stats(cmd: Command, services: Services) -> Reply:
    since = date.fromisoformat(day_of(services.clock.now())) - timedelta(days=STATS_DAYS)
    counts = await services.store.read(
        lambda db: store.counts_by_channel(
            db, platform=cmd.platform, workspace=cmd.workspace, since=since.isoformat()
        )
    )
    return views.stats(counts, await _enabled(services, cmd), services.settings.anonymity_k)
