"""Editing a failure review and following it up: an anonymous author with the case code, a named one
(or an admin) with the review's number. A named author's changes go out at once; an anonymous
author's wait for a batch like the review did, so their time says nothing of when they wrote.
"""

from __future__ import annotations

import json
from dataclasses import replace

from sqlite_utils import Database

from bot import outbox
from bot.messages import FormErrors, Reply, error
from bot.outbox import Channel
from handlers import anonymity
from handlers.anonymity import HOUR_S, day_of
from handlers.context import Command, Services, Submission, is_admin
from handlers.reviews import blame, common, draft, forms, jobs, posts, publish, store, views
from handlers.reviews.forms import Filled, FormState
from handlers.reviews.ids import FieldId, Limit, Section
from handlers.reviews.model import ActionItem, Quality, Sections
from handlers.reviews.quality import score
from handlers.reviews.rules import CODE_TRIES_PER_HOUR, MAX_SECTION
from handlers.reviews.store import Review
from handlers.text import read_text


async def open_edit(cmd: Command, services: Services, raw: str) -> Reply:
    found = await _editable(cmd, services, raw)
    if isinstance(found, Reply):
        return found
    review, state = found
    actions = await services.store.read(lambda db: store.actions_of(db, review_id=review.id))
    # What the author kept when it was published is not pointed out again; only new words are.
    kept = blame.check(
        review.sections,
        common.content(services).blame,
        names=await common.owner_names(services, cmd, actions),
    )
    state = replace(state, seen=common.seen(state, kept))
    return forms.edit_form(review, actions, state=state, delay=common.delay(services))


async def _editable(cmd: Command, services: Services, raw: str) -> tuple[Review, FormState] | Reply:
    """A review this person may edit: by its case code, or a named one by its number."""
    if raw.isdigit():
        review = await services.store.read(
            lambda db: store.review(
                db, review_id=int(raw[:12]), platform=cmd.platform, workspace=cmd.workspace
            )
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
    if limits.used(Limit.CODE, common.person(cmd), HOUR_S, now) >= CODE_TRIES_PER_HOUR:
        return error(views.TOO_MANY_CODES)
    code_hash = anonymity.hash_of_typed(raw)
    review = (
        await services.store.read(
            lambda db: store.review_by_code(
                db, code_hash=code_hash, platform=cmd.platform, workspace=cmd.workspace
            )
        )
        if code_hash
        else None
    )
    if review is None:
        limits.add(Limit.CODE, common.person(cmd), HOUR_S, now)
        return error(views.NO_CASE)
    return review, FormState(conversation=review.conversation, code=anonymity.normalise_code(raw) or "")


async def _edit_target(sub: Submission, services: Services, state: FormState) -> Review | str:
    if state.code:
        code_hash = anonymity.hash_of_typed(state.code)
        found = (
            await services.store.read(
                lambda db: store.review_by_code(
                    db, code_hash=code_hash, platform=sub.platform, workspace=sub.workspace
                )
            )
            if code_hash
            else None
        )
        return found or views.NO_CASE
    if state.review is None:
        return views.STALE_FORM
    review_id = state.review
    review = await services.store.read(
        lambda db: store.review(db, review_id=review_id, platform=sub.platform, workspace=sub.workspace)
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
    actions = await services.store.read(lambda db: store.actions_of(db, review_id=review.id))
    content = common.content(services)
    findings = blame.check(sections, content.blame, names=await common.owner_names(services, sub, actions))
    delay = common.delay(services)
    if any(f.key not in state.seen for f in findings):
        return forms.edit_form(
            review,
            actions,
            state=replace(state, seen=common.seen(state, findings)),
            delay=delay,
            filled=Filled(sub.values),
            findings=findings,
            suggestion=content.blame.suggestion,
        )
    changed = sections != review.sections
    items = [ActionItem(a.description, a.owner, a.due_on, a.tz) for a in actions]
    at = review.publish_at if review.publish_at is not None else services.clock.now()
    quality = score(sections, items, content.rubric, at=at, factors_blame=common.factors_blame(findings))
    anonymous = review.author is None
    await _save_edit(services, sub, review, sections if changed else None, quality, follow_up)
    if anonymous and not anonymity.is_delayed(delay):
        await jobs.publish_at_once(services)
    return views.edit_saved(anonymous, changed, bool(follow_up), delay)


async def _save_edit(
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
    batch = anonymity.publish_time(common.delay(services), now)

    def work(tx: Database) -> None:
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
            message=posts.author_post(follow_up, sub.user),
            now=now,
            reply_to=review.post_outbox,
        )
        store.add_follow_up(
            tx, review_id=review.id, by_user=sub.user, body=follow_up, created_on=day_of(now), outbox_id=post
        )

    await (anonymity.write(services.store, work) if anonymous else services.store.run(work))
