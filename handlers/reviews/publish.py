"""Posting a review and keeping its posts current: the channel post, the owners' messages, edits.

Each function works inside the caller's transaction, reading the rows it posts from there, so what
is posted is what is stored. A named review is posted by the request that wrote it; an anonymous
one by the batch job, with the batch's time on every post (`batch`).
"""

from __future__ import annotations

from sqlite_utils import Database

from bot import outbox
from bot.outbox import Channel, Person
from handlers.reviews import posts, store
from handlers.reviews.store import Review


def post_review(tx: Database, review: Review, *, now: float, batch: float | None = None) -> None:
    """Queue the channel post and one message per action owner, and remember them."""
    actions = store.actions_of(tx, review_id=review.id)
    post = outbox.enqueue(
        tx,
        platform=review.platform,
        to=Channel(review.channel),
        message=posts.review_post(review, actions),
        now=now,
        not_before=batch,  # None: now
        created_at=batch,
    )
    store.set_review_post(tx, review_id=review.id, post=post)
    for action in actions:
        dm = outbox.enqueue(
            tx,
            platform=review.platform,
            to=Person(action.owner),
            message=posts.action_dm(action),
            now=now,
            not_before=batch,
            created_at=batch,
        )
        store.set_action_dm(tx, action_id=action.id, dm=dm)


def refresh_post(tx: Database, *, review_id: int, platform: str, workspace: str, now: float) -> None:
    """Make the channel post say what is stored now (sections, actions done, quality)."""
    review = store.review(tx, review_id=review_id, platform=platform, workspace=workspace)
    if review is None or review.post_outbox is None or review.post_outbox < 0:
        return  # not published yet: it will say what is stored when it is
    actions = store.actions_of(tx, review_id=review_id)
    outbox.edit(tx, original=review.post_outbox, message=posts.review_post(review, actions), now=now)
