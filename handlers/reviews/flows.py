"""Failure reviews' rules: who may write, edit, mark done and set up, and what each changes.

A named review is posted by the request that writes it. An anonymous one is stored with no author
(a case code's hash instead, shown once to the author), waits for a random delay and is released by
the batch job (handlers/reviews/jobs.py), like everything its author sends later. Nothing here
looks up, logs or stores an anonymous author: they are known only to the request in hand.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import date, timedelta

from bot import outbox
from bot.messages import FormErrors, Reply, error
from bot.outbox import Channel
from handlers import anonymity
from handlers.anonymity import DAY_S, HOUR_S, Delay, day_of, start_of_day
from handlers.context import Action, Command, Services, Submission, is_admin, timezone_of
from handlers.reviews import blame, draft, jobs, publish, store, views
from handlers.reviews.blame import Finding
from handlers.reviews.content import Content, content_for
from handlers.reviews.ids import FieldId, Limit, Section, Verb
from handlers.reviews.local_time import digest_week, reminder_times
from handlers.reviews.model import ActionItem, Quality, Sections
from handlers.reviews.quality import score
from handlers.reviews.rules import (
    ACTIONS_LIMIT,
    ANONYMOUS_PER_DAY,
    CODE_TRIES_PER_HOUR,
    FIRST_ROWS,
    LIST_LIMIT,
    MAX_ACTIONS,
    MAX_SECTION,
    MORE_ROWS,
    STATS_DAYS,
    TREND_BUCKETS,
)
from handlers.reviews.store import ChannelSetting, Review
from handlers.reviews.views import MAX_SEEN, Filled, FormState
from handlers.text import MAX_COMMAND_CHARS, clean_user_text, read_text

_HELP_WORDS = ("", Verb.HELP, "?", "-h", "--help")
_TAKE_NOTHING = (Verb.ACTIONS, Verb.LIST, Verb.STATS, Verb.CHANNEL)


def _content(services: Services) -> Content:
    return content_for(services.settings.data_dir)


def _delay(services: Services) -> Delay:
    """Anonymous reviews wait the same random delay as speak-up concerns (CANDOR_SPEAKUP_DELAY)."""
    return services.settings.speakup_delay_s


def _person(req: Command | Action | Submission) -> str:
    """Who is counted by the in-memory limits (under an HMAC there, never stored)."""
    return f"{req.platform}:{req.workspace}:{req.user}"


def _setting(services: Services, req: Command | Action | Submission) -> ChannelSetting | None:
    return store.channel_setting(services.store.db, platform=req.platform, workspace=req.workspace)


def _first_digest(now: float, tz: str) -> str:
    """The digest Monday to record when a channel is chosen: the next digest is the first due."""
    monday, due_at = digest_week(now, tz)
    if now >= due_at:
        return monday
    return (date.fromisoformat(monday) - timedelta(days=7)).isoformat()


# --- the command --------------------------------------------------------------------------------
async def handle(cmd: Command, services: Services) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return views.too_long(syntax)
    words = clean_user_text(cmd.text).split()
    verb = words[0].lower() if words else ""
    seed_channel(services, cmd.platform, cmd.workspace)
    if verb == "":
        return await new_form(cmd, services)
    if verb in _HELP_WORDS:
        return views.usage(syntax, _delay(services))
    if verb == Verb.EDIT:
        return (
            await open_edit(cmd, services, "".join(words[1:])) if len(words) > 1 else views.edit_usage(syntax)
        )
    if verb in _TAKE_NOTHING and len(words) > 1:
        return views.takes_nothing(syntax, Verb(verb))
    if verb == Verb.ACTIONS:
        return open_actions(cmd, services)
    if verb == Verb.LIST:
        return recent(cmd, services)
    if verb == Verb.STATS:
        return stats(cmd, services)
    if verb == Verb.CHANNEL:
        return await choose_channel(cmd, services)
    return views.unknown(syntax, verb[:30])  # an unknown word is echoed, never at length


def seed_channel(services: Services, platform: str, workspace: str) -> None:
    """CANDOR_REVIEWS_CHANNEL: the reviews channel of a workspace that has none yet, so an admin's
    choice always stands."""
    channel = services.settings.reviews_channel
    if not channel or store.channel_setting(services.store.db, platform=platform, workspace=workspace):
        return
    now = services.clock.now()
    with services.store.transaction() as tx:
        store.set_channel(
            tx,
            platform=platform,
            workspace=workspace,
            conversation=channel,
            set_by="CANDOR_REVIEWS_CHANNEL",
            tz="UTC",
            digest_on=_first_digest(now, "UTC"),
            day=start_of_day(now),
            replace=False,
        )


async def choose_channel(cmd: Command, services: Services) -> Reply:
    """An admin makes this channel the workspace's reviews channel."""
    if not await is_admin(services, cmd.platform, cmd.user):
        return error(views.ONLY_ADMINS)
    people = services.people_for(cmd.platform)
    tz = await timezone_of(services, cmd.platform, cmd.user)
    try:
        member = await asyncio.wait_for(people.bot_is_member(cmd.conversation), 1.0)
    except Exception:
        member = True  # unknown: say nothing rather than something wrong
    now = services.clock.now()
    with services.store.transaction() as tx:
        store.set_channel(
            tx,
            platform=cmd.platform,
            workspace=cmd.workspace,
            conversation=cmd.conversation,
            set_by=cmd.user,
            tz=tz,
            digest_on=_first_digest(now, tz),
            day=start_of_day(now),
            replace=True,
        )
    return views.channel_set(services.syntax_for(cmd.platform), cmd.conversation, member)


# --- writing a review ---------------------------------------------------------------------------
async def new_form(cmd: Command, services: Services) -> Reply:
    setting = _setting(services, cmd)
    if setting is None:
        return views.not_set_up(services.syntax_for(cmd.platform))
    state = FormState(conversation=cmd.conversation, rows=FIRST_ROWS)
    return views.new_form(channel=setting.conversation, state=state, delay=_delay(services))


async def submit_new(sub: Submission, services: Services) -> Reply | FormErrors:
    state = FormState.decode(sub.context)
    if state is None or state.review is not None or state.code:
        return FormErrors({Section.TITLE: views.STALE_FORM})
    setting = _setting(services, sub)
    if setting is None:
        return FormErrors({Section.TITLE: views.NOT_SET_UP})
    delay = _delay(services)
    filled = Filled(sub.values, sub.mentions.get(FieldId.LINES, ()))
    if draft.more_rows(sub.values) and state.rows < MAX_ACTIONS:
        more = replace(state, rows=min(MAX_ACTIONS, state.rows + MORE_ROWS))
        return views.new_form(
            channel=setting.conversation, state=more, delay=delay, filled=filled, added_rows=True
        )

    sections, errors = draft.read_sections(sub.values)
    rows, row_errors = draft.read_rows(sub.values, state.rows)
    lines, line_error = draft.read_lines(sub.values.get(FieldId.LINES), sub.mentions.get(FieldId.LINES, ()))
    errors |= row_errors
    if line_error:
        errors[FieldId.LINES] = line_error
    wanted = rows + lines
    if len(wanted) > MAX_ACTIONS:
        errors.setdefault(
            FieldId.LINES, f"At most {MAX_ACTIONS} action items in all; this review has {len(wanted)}."
        )
    anonymous = draft.anonymous(sub.values)
    now = services.clock.now()
    limits = services.anonymity_limits
    if anonymous and limits.used(Limit.ANONYMOUS, _person(sub), DAY_S, now) >= ANONYMOUS_PER_DAY:
        errors[FieldId.ANONYMOUS] = (
            f"You can publish {ANONYMOUS_PER_DAY} anonymous reviews a day. Please try again tomorrow, "
            "or publish this one under your name."
        )
    items: tuple[ActionItem, ...] = ()
    names: tuple[str, ...] = ()
    if wanted and not (row_errors or line_error):
        checked = await draft.check_owners(
            wanted, services.people_for(sub.platform), author=sub.user, anonymous=anonymous, now=now
        )
        items, names = checked.actions, checked.names
        errors = checked.errors | errors
    if errors:
        return FormErrors(errors)

    content = _content(services)
    findings = blame.check(sections, content.blame, names=names)
    if any(f.key not in state.seen for f in findings):  # the gentle check, once for each finding
        return views.new_form(
            channel=setting.conversation,
            state=replace(state, seen=_seen(state, findings)),
            delay=delay,
            filled=filled,
            findings=findings,
            suggestion=content.blame.suggestion,
        )
    publish_at = anonymity.publish_time(delay, now) if anonymous else now
    quality = score(sections, items, content.rubric, at=publish_at, factors_blame=_factors_blame(findings))
    if anonymous:
        code = anonymity.new_code()
        _store(services, sub, state, setting, sections, items, quality, publish_at, code)
        # Stored: from here on the author must get their code, whatever fails.
        limits.add(Limit.ANONYMOUS, _person(sub), DAY_S, now)
        if not anonymity.is_delayed(delay):  # with a delay only the batch job publishes
            jobs.publish_at_once(services)
        return views.received(services.syntax_for(sub.platform), setting.conversation, code, quality, delay)
    review_id = _store(services, sub, state, setting, sections, items, quality, publish_at, None)
    return views.published(setting.conversation, review_id, quality, len({a.owner for a in items}))


def _seen(state: FormState, findings: tuple[Finding, ...]) -> tuple[str, ...]:
    """The findings shown so far, newest kept: the form carries them (Slack: 3,000 characters)."""
    return tuple(dict.fromkeys((*state.seen, *(f.key for f in findings))))[-MAX_SEEN:]


def _factors_blame(findings: tuple[Finding, ...]) -> bool:
    return any(f.section == Section.FACTORS for f in findings)


def _store(
    services: Services,
    sub: Submission,
    state: FormState,
    setting: ChannelSetting,
    sections: Sections,
    items: tuple[ActionItem, ...],
    quality: Quality,
    publish_at: float,
    code: str | None,
) -> int:
    """Store the review and its actions; a named one is posted at once, in the same transaction.

    An anonymous review is stored with no author and no time of writing: its reminders are settled
    against its publication (a batch mark), never against the moment it was written."""
    now = services.clock.now()
    with services.store.transaction() as tx:
        review_id = store.add_review(
            tx,
            platform=sub.platform,
            workspace=sub.workspace,
            conversation=state.conversation,
            channel=setting.conversation,
            author=None if code else sub.user,
            code_hash=anonymity.code_hash(code) if code else None,
            sections=sections,
            quality=quality,
            published_on=day_of(publish_at),
            publish_at=publish_at,
        )
        for position, item in enumerate(items, 1):
            store.add_action(
                tx,
                review_id=review_id,
                position=position,
                item=item,
                times=reminder_times(item.due_on, item.tz),
                now=publish_at,
            )
        if code is None:
            review = store.review(tx, review_id=review_id, platform=sub.platform, workspace=sub.workspace)
            assert review is not None
            publish.post_review(tx, review, now=now)
    return review_id


# --- editing a review, adding a follow-up -------------------------------------------------------
async def open_edit(cmd: Command, services: Services, raw: str) -> Reply:
    found = await _editable(cmd, services, raw)
    if isinstance(found, Reply):
        return found
    review, state = found
    actions = store.actions_of(services.store.db, review_id=review.id)
    # What the author kept when it was published is not pointed out again; only new words are.
    kept = blame.check(
        review.sections, _content(services).blame, names=await _owner_names(services, cmd, actions)
    )
    state = replace(state, seen=_seen(state, kept))
    return views.edit_form(review, actions, state=state, delay=_delay(services))


async def _owner_names(
    services: Services, req: Command | Submission, actions: list[store.Action]
) -> list[str]:
    people = services.people_for(req.platform)
    found = await asyncio.gather(*(people.lookup(u) for u in dict.fromkeys(a.owner for a in actions)))
    return [p.name for p in found if p is not None]


async def _editable(cmd: Command, services: Services, raw: str) -> tuple[Review, FormState] | Reply:
    """A review this person may edit: by its case code, or a named one by its number."""
    if raw.isdigit():
        review = store.review(
            services.store.db, review_id=int(raw[:12]), platform=cmd.platform, workspace=cmd.workspace
        )
        if review is None:
            return error(f"There is no review #{raw[:12]}.")
        if review.author is None:
            return error("That review is anonymous: open it with its case code.")
        if cmd.user != review.author and not await is_admin(services, cmd.platform, cmd.user):
            return error(f"Only the author of review #{review.id} or a Candor admin can edit it.")
        return review, FormState(conversation=review.conversation, review=review.id)
    now = services.clock.now()
    limits = services.anonymity_limits
    if limits.used(Limit.CODE, _person(cmd), HOUR_S, now) >= CODE_TRIES_PER_HOUR:
        return error(views.TOO_MANY_CODES)
    code_hash = anonymity.hash_of_typed(raw)
    review = (
        store.review_by_code(
            services.store.db, code_hash=code_hash, platform=cmd.platform, workspace=cmd.workspace
        )
        if code_hash
        else None
    )
    if review is None:
        limits.add(Limit.CODE, _person(cmd), HOUR_S, now)
        return error(views.NO_CASE)
    return review, FormState(conversation=review.conversation, code=anonymity.normalise_code(raw) or "")


async def _edit_target(sub: Submission, services: Services, state: FormState) -> Review | str:
    if state.code:
        code_hash = anonymity.hash_of_typed(state.code)
        found = (
            store.review_by_code(
                services.store.db, code_hash=code_hash, platform=sub.platform, workspace=sub.workspace
            )
            if code_hash
            else None
        )
        return found or views.NO_CASE
    if state.review is None:
        return views.STALE_FORM
    review = store.review(
        services.store.db, review_id=state.review, platform=sub.platform, workspace=sub.workspace
    )
    if review is None or review.author is None:
        return "This review no longer exists."
    if sub.user != review.author and not await is_admin(services, sub.platform, sub.user):
        return f"Only the author of review #{review.id} or a Candor admin can edit it."
    return review


async def submit_edit(sub: Submission, services: Services) -> Reply | FormErrors:
    state = FormState.decode(sub.context)
    if state is None:
        return FormErrors({Section.TITLE: views.STALE_FORM})
    review = await _edit_target(sub, services, state)
    if isinstance(review, str):
        return FormErrors({Section.TITLE: review})
    sections, errors = draft.read_sections(sub.values)
    follow_up, problem = read_text(
        sub.values.get(FieldId.FOLLOW_UP), label="The follow-up", limit=MAX_SECTION, required=False
    )
    if problem:
        errors[FieldId.FOLLOW_UP] = problem
    if errors:
        return FormErrors(errors)
    actions = store.actions_of(services.store.db, review_id=review.id)
    content = _content(services)
    findings = blame.check(sections, content.blame, names=await _owner_names(services, sub, actions))
    delay = _delay(services)
    if any(f.key not in state.seen for f in findings):
        return views.edit_form(
            review,
            actions,
            state=replace(state, seen=_seen(state, findings)),
            delay=delay,
            filled=Filled(sub.values),
            findings=findings,
            suggestion=content.blame.suggestion,
        )
    changed = sections != review.sections
    items = [ActionItem(a.description, a.owner, a.due_on, a.tz) for a in actions]
    at = review.publish_at if review.publish_at is not None else services.clock.now()
    quality = score(sections, items, content.rubric, at=at, factors_blame=_factors_blame(findings))
    anonymous = review.author is None
    _save_edit(services, sub, review, sections if changed else None, quality, follow_up)
    if anonymous and not anonymity.is_delayed(delay):
        jobs.publish_at_once(services)
    return views.edit_saved(anonymous, changed, bool(follow_up), delay)


def _save_edit(
    services: Services,
    sub: Submission,
    review: Review,
    sections: Sections | None,
    quality: Quality,
    follow_up: str,
) -> None:
    """A named author's edit and follow-up go out now; an anonymous author's wait for a batch, so
    their time says nothing of when the author wrote (until publication, an edit just replaces
    the text that will be posted)."""
    now = services.clock.now()
    anonymous = review.author is None
    batch = anonymity.publish_time(_delay(services), now)
    with services.store.transaction() as tx:
        if sections is not None:
            if anonymous and review.post_outbox is not None:
                edit = {
                    "sections": json.loads(sections.as_json()),
                    "quality": quality.score,
                    "detail": quality.as_json(),
                }
                store.set_edit(tx, review_id=review.id, edit=json.dumps(edit), edit_at=batch)
            else:
                store.update_sections(tx, review_id=review.id, sections=sections, quality=quality)
                publish.refresh_post(
                    tx, review_id=review.id, platform=review.platform, workspace=review.workspace, now=now
                )
        if not follow_up:
            return
        if anonymous:
            store.add_follow_up(
                tx,
                review_id=review.id,
                by_user=None,
                body=follow_up,
                created_on=day_of(batch),
                publish_at=batch,
            )
            return
        post = outbox.enqueue(
            tx,
            platform=review.platform,
            to=Channel(review.channel),
            message=views.author_post(follow_up, sub.user),
            now=now,
            reply_to=review.post_outbox,
        )
        store.add_follow_up(
            tx, review_id=review.id, by_user=sub.user, body=follow_up, created_on=day_of(now), outbox_id=post
        )


# --- owners mark actions done -------------------------------------------------------------------
async def mark_done(action: Action, services: Services) -> Reply:
    raw = action.value
    found = (
        store.action(
            services.store.db, action_id=int(raw), platform=action.platform, workspace=action.workspace
        )
        if raw.isdigit() and len(raw) <= 20
        else None
    )
    if found is None:
        return error(views.NO_ACTION)
    if found.done:
        return views.already_done(found)
    if action.user != found.owner and not await is_admin(services, action.platform, action.user):
        return views.not_the_owner(found)
    now = services.clock.now()
    with services.store.transaction() as tx:
        if not store.mark_done(tx, action_id=found.id, at=now, by=action.user):
            return views.already_done(found)  # a double click, or another process, got there first
        fresh = store.action(tx, action_id=found.id, platform=action.platform, workspace=action.workspace)
        assert fresh is not None
        if fresh.dm_outbox is not None:
            outbox.edit(tx, original=fresh.dm_outbox, message=views.action_dm(fresh), now=now)
        publish.refresh_post(
            tx, review_id=fresh.review_id, platform=action.platform, workspace=action.workspace, now=now
        )
    return views.marked_done(found)


# --- lists and figures --------------------------------------------------------------------------
def open_actions(cmd: Command, services: Services) -> Reply:
    actions = store.open_actions_of(
        services.store.db, platform=cmd.platform, workspace=cmd.workspace, owner=cmd.user
    )
    return views.open_actions(services.syntax_for(cmd.platform), actions, ACTIONS_LIMIT)


def recent(cmd: Command, services: Services) -> Reply:
    reviews = store.recent_reviews(
        services.store.db,
        platform=cmd.platform,
        workspace=cmd.workspace,
        conversation=cmd.conversation,
        limit=LIST_LIMIT,
    )
    return views.recent(services.syntax_for(cmd.platform), reviews)


def stats(cmd: Command, services: Services) -> Reply:
    db, now = services.store.db, services.clock.now()
    since, until = now - STATS_DAYS * DAY_S, now + 1  # up to and including this moment
    where = {"platform": cmd.platform, "workspace": cmd.workspace, "conversation": cmd.conversation}
    scored = store.qualities(db, since=since, until=until, **where)
    bucket_s = (until - since) / TREND_BUCKETS
    trend: list[float | None] = []
    for i in range(TREND_BUCKETS):
        inside = [q for at, q in scored if int((at - since) // bucket_s) == i]
        trend.append(sum(inside) / len(inside) if inside else None)
    figures = views.Stats(
        reviews=len(scored),
        mean=sum(q for _, q in scored) / len(scored) if scored else None,
        trend=tuple(trend),
        outcomes=store.outcomes(db, since=since, until=until, **where),
    )
    return views.stats(services.syntax_for(cmd.platform), figures)
