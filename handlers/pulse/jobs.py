"""The pulse's periodic work: open the rounds that are due, send the one reminder, close rounds
and post their results (or say they are withheld).

More than one process may run it on one database: opening (the schedule's `next_at`), reminding
(`reminded_at`) and closing (`state`) are each claimed by a conditional update in the transaction
that writes the posts, so whichever process wins does the work, once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from functools import partial

from sqlite_utils import Database

from bot import outbox
from bot.outbox import Channel, Person
from handlers.anonymity import empty_log
from handlers.context import Services
from handlers.pulse import scoring, store, views, when
from handlers.pulse.content import Survey, load_survey
from handlers.pulse.ids import Withheld
from handlers.pulse.rules import MAX_MEMBERS, comments_k, pulse_k
from handlers.pulse.store import Round, Schedule

log = logging.getLogger("candor.pulse")

BATCH = 20
RETRY_S = 600.0  # a channel whose members could not be listed is tried again this much later


async def invitees(services: Services, platform: str, conversation: str) -> list[str]:
    """The channel's members who are people (not bots, not deactivated), in the channel's order."""
    people = services.people_for(platform)
    members = (await people.members(conversation))[:MAX_MEMBERS]
    infos = await asyncio.gather(*(people.lookup(user) for user in members))
    return [
        user
        for user, info in zip(members, infos, strict=True)
        if info and not info.is_bot and not info.deleted
    ]


async def open_due(services: Services) -> int:
    """Open a round for every schedule that is due; returns how many this process opened."""
    opened = 0
    now = services.clock.now()
    for schedule in await services.store.read(lambda db: store.due_schedules(db, now=now, limit=BATCH)):
        opened += await _open(services, schedule)
    return opened


async def _open(services: Services, schedule: Schedule) -> int:
    assert schedule.next_at is not None
    next_at, now = schedule.next_at, services.clock.now()
    running = await services.store.read(
        lambda db: store.open_round(
            db, platform=schedule.platform, workspace=schedule.workspace, conversation=schedule.conversation
        )
    )
    if running is not None:  # the previous round is still open: the next one waits for it to close
        after = max(running.closes_at, now) + 1
        await services.store.run(
            lambda tx: store.postpone_schedule(tx, schedule_id=schedule.id, before=next_at, after=after)
        )
        return 0
    try:
        members = await invitees(services, schedule.platform, schedule.conversation)
    except Exception as exc:
        log.warning(
            "pulse: the channel's members could not be listed; trying again later",
            extra={"schedule": schedule.id, "error": type(exc).__name__},
        )
        later = now + RETRY_S
        await services.store.run(
            lambda tx: store.postpone_schedule(tx, schedule_id=schedule.id, before=next_at, after=later)
        )
        return 0
    k = pulse_k(services.settings.anonymity_k)
    survey = load_survey(services.settings.data_dir)
    now = services.clock.now()

    def work(tx: Database) -> int:
        after = when.next_round(schedule.repeat, next_at, schedule.tz)
        if not store.claim_schedule(tx, schedule_id=schedule.id, before=next_at, after=after):
            return 0  # another process opened it
        if len(members) < k:
            outbox.enqueue(
                tx,
                platform=schedule.platform,
                to=Channel(schedule.conversation),
                message=views.skipped_post(len(members), k),
                now=now,
            )
            return 0
        closes = now + schedule.open_days * when.DAY_S
        remind = when.reminder_time(now, closes, schedule.tz, services.settings.quiet_hours)
        round_id = store.add_round(
            tx,
            platform=schedule.platform,
            workspace=schedule.workspace,
            conversation=schedule.conversation,
            schedule_id=schedule.id,
            opened_at=now,
            closes_at=closes,
            tz=schedule.tz,
            remind_at=remind,
            invited=len(members),
        )
        closes_on = views.day(closes, schedule.tz)
        post = outbox.enqueue(
            tx,
            platform=schedule.platform,
            to=Channel(schedule.conversation),
            message=views.announcement(survey, len(members), closes_on, k),
            now=now,
        )
        store.set_announcement(tx, round_id=round_id, post=post)
        card = views.invite_card(survey, round_id, closes_on, k)
        store.add_invites(
            tx,
            round_id=round_id,
            invites=[
                (user, outbox.enqueue(tx, platform=schedule.platform, to=Person(user), message=card, now=now))
                for user in members
            ],
        )
        return 1

    return await services.store.run(work)


async def remind_due(services: Services) -> int:
    """One reminder, by private message, to each member who has not answered a round yet."""
    sent = 0
    k = pulse_k(services.settings.anonymity_k)
    survey = load_survey(services.settings.data_dir)
    due_at = services.clock.now()
    for round_ in await services.store.read(lambda db: store.due_reminders(db, now=due_at, limit=BATCH)):
        now = services.clock.now()
        sent += await services.store.run(partial(_remind, round_=round_, survey=survey, k=k, now=now))
    return sent


def _remind(tx: Database, round_: Round, survey: Survey, k: int, now: float) -> int:
    """One round's reminders, claimed in the transaction that queues them; how many were queued."""
    if not store.claim_reminder(tx, round_id=round_.id, now=now):
        return 0
    sent = 0
    card = views.invite_card(
        survey, round_.id, views.day(round_.closes_at, round_.tz or "UTC"), k, reminder=True
    )
    for user in store.not_answered(tx, round_id=round_.id):
        outbox.enqueue(tx, platform=round_.platform, to=Person(user), message=card, now=now)
        sent += 1
    return sent


async def close_due(services: Services) -> int:
    closed = 0
    now = services.clock.now()
    for round_ in await services.store.read(lambda db: store.due_closes(db, now=now, limit=BATCH)):
        closed += await close(services, round_)
    return closed


async def close(services: Services, round_: Round) -> bool:
    """Close a round, score it, and post its results, or why they are withheld. Answers are read
    inside the closing transaction, after the claim: none can arrive after them. A withheld round
    keeps no answers; comments that are not shown are not kept. Then the write-ahead log is emptied."""
    k = pulse_k(services.settings.anonymity_k)
    enough_for_comments = comments_k(services.settings.anonymity_k)
    survey = load_survey(services.settings.data_dir)
    now = services.clock.now()

    def work(tx: Database) -> bool:
        if not store.claim_close(tx, round_id=round_.id, now=now):
            return False
        answers = store.answers_of(tx, round_id=round_.id)
        withheld = _withheld(tx, round_, len(answers), k, now)
        result = None if withheld else scoring.score([a.scores for a in answers], survey.reversed_items)
        store.record_result(
            tx,
            round_id=round_.id,
            answers=len(answers),
            withheld=withheld,
            score=result.score if result else None,
            item_means=result.item_means if result else None,
        )
        done = store.get_round(tx, round_id=round_.id, platform=round_.platform, workspace=round_.workspace)
        assert done is not None
        if withheld:
            store.forget_answers(tx, round_id=round_.id)
            message = views.withheld_card(survey, done, k)
        else:
            shown = len(answers) >= enough_for_comments
            comments = [a.comment for a in answers if a.comment] if shown else []
            secrets.SystemRandom().shuffle(comments)
            if not comments:
                store.forget_comments(tx, round_id=round_.id)
            previous = store.previous_published(
                tx,
                platform=done.platform,
                workspace=done.workspace,
                conversation=done.conversation,
                before=now,
            )
            message = views.results_card(survey, done, previous, comments, comments_k=enough_for_comments)
        post = outbox.enqueue(
            tx, platform=done.platform, to=Channel(done.conversation), message=message, now=now
        )
        store.set_result_post(tx, round_id=done.id, post=post)
        return True

    if not await services.store.run(work):
        return False
    empty_log(services.store)
    return True


def _withheld(tx: Database, round_: Round, answers: int, k: int, now: float) -> Withheld | None:
    """FEW below k answers. OVERLAP when a published round whose open period overlapped this one's
    had respondents differing from this round's by fewer than k people on either side: the
    difference of the two results would then describe those few people."""
    if answers < k:
        return Withheld.FEW
    mine = store.respondents(tx, round_id=round_.id)
    for other in store.concurrent_published(
        tx,
        platform=round_.platform,
        workspace=round_.workspace,
        opened_at=round_.opened_at,
        closed_at=now,
        other_than=round_.id,
    ):
        theirs = store.respondents(tx, round_id=other.id)
        if 0 < len(mine - theirs) < k or 0 < len(theirs - mine) < k:
            return Withheld.OVERLAP
    return None


async def run(services: Services) -> int:
    """The pulse job: every minute, and once at start to catch up after downtime."""
    return await close_due(services) + await remind_due(services) + await open_due(services)
