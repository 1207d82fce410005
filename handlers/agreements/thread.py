"""The thread of offers that led to an agreement: an offer, once answered, says what became of it."""

from __future__ import annotations

from sqlite_utils import Database

from bot import outbox
from handlers.agreements import posts, store
from handlers.agreements.ids import Outcome, Role
from handlers.agreements.store import Agreement
from handlers.catalog import AgreementWords


def close_offer(
    tx: Database, a: Agreement, outcome: Outcome, words: AgreementWords, now: float, answer: str | None = None
) -> None:
    """Mark the agreement's latest offer answered (if it was open) and edit its message to say so."""
    offer = store.offer(tx, agreement_id=a.id, seq=a.offer_seq)
    if offer is None or not store.answer_offer(
        tx, agreement_id=a.id, seq=a.offer_seq, outcome=outcome, answer=answer
    ):
        return
    if offer.dm_outbox is None:
        return
    to = a.other(a.role_of(offer.by_user) or Role.REQUESTER)
    tz = offer.due_tz or "UTC"
    message = posts.offer_message(a, offer, to=to, tz=tz, words=words, answered=outcome)
    outbox.edit(tx, original=offer.dm_outbox, message=message, now=now)
