"""Writing a failure review: the form, the more rows it may ask for, the gentle blame check before
publishing, and storing it. A named review is posted by the request that writes it; an anonymous
one is stored with no author (a case code's hash instead, shown once to the author) and waits for
the batch job (jobs.py). Nothing here looks up, logs or stores an anonymous author: they are known
only to the request in hand.
"""

from __future__ import annotations

from dataclasses import replace

from sqlite_utils import Database

from bot.messages import FormErrors, Reply
from handlers import anonymity
from handlers.anonymity import DAY_S, day_of
from handlers.context import Command, Services, Submission
from handlers.reviews import blame, common, draft, forms, jobs, publish, store, views
from handlers.reviews.forms import Filled, FormState
from handlers.reviews.ids import FieldId, Limit, Section
from handlers.reviews.local_time import reminder_times
from handlers.reviews.model import ActionItem, Quality, Sections
from handlers.reviews.quality import score
from handlers.reviews.rules import ANONYMOUS_PER_DAY, FIRST_ROWS, MAX_ACTIONS, MORE_ROWS
from handlers.reviews.store import ChannelSetting


async def new_form(cmd: Command, services: Services) -> Reply:
    setting = await common.setting(services, cmd)
    if setting is None:
        return views.not_set_up(services.syntax_for(cmd.platform))
    state = FormState(conversation=cmd.conversation, rows=FIRST_ROWS)
    return forms.new_form(channel=setting.conversation, state=state, delay=common.delay(services))


async def submit_new(sub: Submission, services: Services) -> Reply | FormErrors:
    state = FormState.decode(sub.context)
    if state is None or state.review is not None or state.code:
        return FormErrors({Section.TITLE: views.STALE_FORM})
    setting = await common.setting(services, sub)
    if setting is None:
        return FormErrors({Section.TITLE: views.NOT_SET_UP})
    delay = common.delay(services)
    filled = Filled(sub.values, sub.mentions.get(FieldId.LINES, ()))
    if draft.more_rows(sub.values) and state.rows < MAX_ACTIONS:
        more = replace(state, rows=min(MAX_ACTIONS, state.rows + MORE_ROWS))
        return forms.new_form(
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
    if anonymous and limits.used(Limit.ANONYMOUS, common.person(sub), DAY_S, now) >= ANONYMOUS_PER_DAY:
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

    content = common.content(services)
    findings = blame.check(sections, content.blame, names=names)
    if any(f.key not in state.seen for f in findings):  # the gentle check, once for each finding
        return forms.new_form(
            channel=setting.conversation,
            state=replace(state, seen=common.seen(state, findings)),
            delay=delay,
            filled=filled,
            findings=findings,
            suggestion=content.blame.suggestion,
        )
    publish_at = anonymity.publish_time(delay, now) if anonymous else now
    quality = score(
        sections, items, content.rubric, at=publish_at, factors_blame=common.factors_blame(findings)
    )
    if anonymous:
        code = anonymity.new_code()
        await _store(services, sub, state, setting, sections, items, quality, publish_at, code)
        # Stored: from here on the author must get their code, whatever fails.
        limits.add(Limit.ANONYMOUS, common.person(sub), DAY_S, now)
        if not anonymity.is_delayed(delay):  # with a delay only the batch job publishes
            await jobs.publish_at_once(services)
        return views.received(services.syntax_for(sub.platform), setting.conversation, code, quality, delay)
    review_id = await _store(services, sub, state, setting, sections, items, quality, publish_at, None)
    return views.published(setting.conversation, review_id, quality, len({a.owner for a in items}))


async def _store(
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

    def work(tx: Database) -> int:
        review_id = store.add_review(
            tx,
            platform=sub.platform,
            workspace=sub.workspace,
            # Where an anonymous author wrote (their own chat with Candor, a small channel) could
            # point at them: their review belongs to the reviews channel.
            conversation=setting.conversation if code else state.conversation,
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

    return await (anonymity.write(services.store, work) if code else services.store.run(work))
