"""Moving a cycle on: nominations close (to a vote, or straight to the result), the vote closes,
the tally is written and announced, and every nominee is sent what was written about them.

The periodic job does it when a cycle is due, and an admin's `/nominate close` at once. Either way
the move is claimed first, by a conditional update of the cycle's phase, in the transaction that
tallies and posts: if two processes (or the job and an admin) try at once, one wins and the other
changes nothing. A nomination or vote racing the close holds the cycle's row while it writes, so it
is either counted or refused, never lost after the tally.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from enum import StrEnum

from sqlite_utils import Database

from bot import outbox
from bot.outbox import Channel, Person
from handlers.context import Services
from handlers.nominations import posts, store, tally
from handlers.nominations.content import Content, content_of
from handlers.nominations.ids import Phase
from handlers.nominations.rules import NOMINATIONS_PER_DM
from handlers.nominations.store import Cycle

log = logging.getLogger("candor.nominations")


class Moved(StrEnum):
    VOTE_STARTED = "vote started"
    CLOSED = "closed"
    NOT_MINE = "moved by another"  # another process or an admin got there first


async def advance(services: Services, cycle: Cycle) -> Moved:
    """End the cycle's current phase now: open → vote (or result), vote → result."""
    content, now = content_of(services), services.clock.now()
    return await services.store.run(lambda tx: move(tx, cycle, content, now))


def move(tx: Database, cycle: Cycle, content: Content, now: float) -> Moved:
    """The move as one transaction's work: claimed first, then tallied and posted."""
    if cycle.phase == Phase.OPEN and cycle.has_vote:
        if not store.claim_phase(tx, cycle_id=cycle.id, before=Phase.OPEN, after=Phase.VOTING, now=now):
            return Moved.NOT_MINE
        nominators = store.nominators_per_nominee(tx, cycle_id=cycle.id)
        finalists = tally.finalists(nominators, cycle.top_n)
        if len(finalists) >= 2:
            _start_vote(tx, cycle, finalists, content, now)
            return Moved.VOTE_STARTED
        # Nobody or one person to vote for: a vote would decide nothing.
        store.claim_phase(tx, cycle_id=cycle.id, before=Phase.VOTING, after=Phase.CLOSED, now=now)
        _finish(tx, cycle, content, votes=None, now=now)
        return Moved.CLOSED
    if cycle.phase not in (Phase.OPEN, Phase.VOTING):
        return Moved.NOT_MINE
    if not store.claim_phase(tx, cycle_id=cycle.id, before=cycle.phase, after=Phase.CLOSED, now=now):
        return Moved.NOT_MINE
    votes = store.votes_per_nominee(tx, cycle_id=cycle.id) if cycle.phase == Phase.VOTING else None
    _finish(tx, cycle, content, votes=votes, now=now)
    return Moved.CLOSED


def _start_vote(tx: Database, cycle: Cycle, finalists: tuple[str, ...], content: Content, now: float) -> None:
    closes = now + cycle.voting_s
    store.start_vote(tx, cycle_id=cycle.id, finalists=finalists, closes_at=closes)
    voting = replace(
        cycle, phase=Phase.VOTING, finalists=finalists, voting_opened_at=now, voting_closes_at=closes
    )
    label = content.award_label(cycle.award)
    post = outbox.enqueue(
        tx,
        platform=cycle.platform,
        to=Channel(cycle.conversation),
        message=posts.ballot(voting, label),
        now=now,
    )
    store.set_posts(tx, cycle_id=cycle.id, vote=post)
    if cycle.announce_outbox is not None:
        outbox.edit(
            tx, original=cycle.announce_outbox, message=posts.announcement_closed(label, vote=True), now=now
        )


def _finish(
    tx: Database, cycle: Cycle, content: Content, *, votes: dict[str, int] | None, now: float
) -> None:
    """Tally, write the result once, announce it, and send every nominee their evidence."""
    fresh = store.cycle(tx, cycle_id=cycle.id, platform=cycle.platform, workspace=cycle.workspace) or cycle
    nominators = store.nominators_per_nominee(tx, cycle_id=cycle.id)
    results = tally.outcome(nominators, votes, fresh.finalists)
    store.record_results(tx, cycle_id=cycle.id, results=results)
    nominations = store.nominations(tx, cycle_id=cycle.id)
    label = content.award_label(cycle.award)
    post = outbox.enqueue(
        tx,
        platform=cycle.platform,
        to=Channel(cycle.conversation),
        message=posts.result(fresh, label, results, nominations),
        now=now,
    )
    store.set_posts(tx, cycle_id=cycle.id, result=post)
    winners = [r.nominee for r in results if r.winner]
    for r in results:
        about = [n for n in nominations if n.nominee == r.nominee]
        for message in posts.nominee_dms(fresh, content, r.nominee, about, winners, NOMINATIONS_PER_DM):
            outbox.enqueue(tx, platform=cycle.platform, to=Person(r.nominee), message=message, now=now)
    if fresh.announce_outbox is not None and fresh.vote_outbox is None:
        outbox.edit(
            tx, original=fresh.announce_outbox, message=posts.announcement_closed(label, vote=False), now=now
        )
    if fresh.vote_outbox is not None:
        outbox.edit(tx, original=fresh.vote_outbox, message=posts.ballot_closed(label), now=now)


async def due(services: Services) -> list[Cycle]:
    now = services.clock.now()
    return await services.store.read(lambda db: store.due(db, now=now))


async def close_due(services: Services) -> int:
    """The job: move on every cycle whose time has come. Returns how many this process moved."""
    moved = 0
    for cycle in await due(services):
        try:
            if await advance(services, cycle) != Moved.NOT_MINE:
                moved += 1
        except Exception:  # one broken cycle must not hold up the others; it is tried again next run
            log.exception("a nomination cycle could not be moved on", extra={"cycle": cycle.id})
    return moved
