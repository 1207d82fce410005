"""Answering an offer: accept it, propose a change (or renegotiate an agreement), or decline it.

An offer is answered once: each change is a conditional update on the state, the offer's number
and whose turn it was, so a second click, a stale button or another process finds it moved on.
The answered offer's message is edited to say what became of it, without its buttons.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot import outbox
from bot.messages import FormErrors, Reply
from bot.outbox import Person
from handlers.agreements import forms, posts, store, views
from handlers.agreements.access import find, parse_ref, words, zone_of, zones
from handlers.agreements.ids import OfferKind, Outcome, Role, State
from handlers.agreements.progress import miss_now
from handlers.agreements.rules import MAX_AHEAD_DAYS, MAX_TEXT
from handlers.agreements.store import Agreement, Offer
from handlers.agreements.thread import close_offer
from handlers.agreements.when import read_due, reminder_moment
from handlers.context import Action, Services, Submission
from handlers.text import read_text


async def _open_offer(action: Action, services: Services) -> tuple[Agreement, Offer] | Reply:
    """The offer a button answers, if it is still open and it is this person's turn."""
    ref = parse_ref(action.value)
    if ref is None or ref[1] is None:
        return views.not_found(action.value)
    a = await find(services, action, ref[0])
    if a is None:
        return views.not_found(ref[0])
    if a.state == State.ACCEPTED and a.due_at <= services.clock.now():
        await miss_now(services, a)
        return views.past_due(a)
    if a.state not in (State.OFFERED, State.ACCEPTED) or a.turn is None or a.offer_seq != ref[1]:
        return views.stale(a, action.user)
    if a.party(a.turn) != action.user:
        return views.not_your_turn(a)
    offer = await services.store.read(lambda db: store.offer(db, agreement_id=a.id, seq=a.offer_seq))
    if offer is None:
        return views.stale(a, action.user)
    return a, offer


# --- accept --------------------------------------------------------------------------------------------
async def accept(action: Action, services: Services) -> Reply:
    found = await _open_offer(action, services)
    if isinstance(found, Reply):
        return found
    a, offer = found
    word_list = words(services)
    tz = await zones(services, action.platform, a.requester, a.performer)
    now = services.clock.now()
    if offer.due_at <= now:
        return views.offer_passed(a)
    performer_tz = tz[a.performer]
    remind_at = reminder_moment(offer.due_at, performer_tz, services.settings.quiet_hours)
    renegotiated = a.state == State.ACCEPTED

    def record(tx: Database) -> Agreement | None:
        changed = store.change(
            tx,
            agreement_id=a.id,
            expected={"state": a.state, "offer_seq": a.offer_seq, "turn": a.turn},
            values={
                "state": State.ACCEPTED,
                "turn": None,
                "due_at": offer.due_at,
                "due_tz": offer.due_tz,
                "done_means": offer.done_means,
                "accepted_at": a.accepted_at or now,
                "renegotiated_at": now if renegotiated else None,
                "performer_tz": performer_tz,
                "remind_at": remind_at if remind_at is not None and remind_at > now else None,
                "reminded_at": None,
            },
        )
        if not changed:
            return None
        close_offer(tx, a, Outcome.ACCEPTED, word_list, now)
        agreed = store.agreement(tx, agreement_id=a.id, platform=a.platform, workspace=a.workspace)
        assert agreed is not None
        for role in (Role.REQUESTER, Role.PERFORMER):
            user = agreed.party(role)
            outbox.enqueue(
                tx,
                platform=a.platform,
                to=Person(user),
                message=posts.accepted_message(
                    agreed, to=role, tz=tz[user], words=word_list, renegotiated=renegotiated
                ),
                now=now,
            )
        return agreed

    agreed = await services.store.run(record)
    if agreed is None:
        return views.stale(a, action.user)
    return views.accepted_reply(services.syntax_for(action.platform), agreed)


# --- propose a change, or renegotiate ------------------------------------------------------------------
async def propose(action: Action, services: Services) -> Reply:
    found = await _open_offer(action, services)
    if isinstance(found, Reply):
        return found
    a, offer = found
    tz = await zone_of(services, action.platform, action.user)
    return forms.propose(a, offer, tz=tz, turn=a.turn)


async def renegotiate(action: Action, services: Services) -> Reply:
    """The performer asks to change an agreement before its due time."""
    ref = parse_ref(action.value)
    if ref is None or ref[1] is not None:
        return views.not_found(action.value)
    a = await find(services, action, ref[0])
    if a is None:
        return views.not_found(ref[0])
    if a.state != State.ACCEPTED:
        return views.stale(a, action.user)
    if action.user != a.performer:
        return views.only_performer(a)
    if a.due_at <= services.clock.now():
        await miss_now(services, a)
        return views.past_due(a)
    if a.turn == Role.REQUESTER:
        return views.own_proposal_waiting(a)
    if a.turn == Role.PERFORMER:  # the requester answered with another proposal: answer that
        offer = await services.store.read(lambda db: store.offer(db, agreement_id=a.id, seq=a.offer_seq))
        tz = await zone_of(services, action.platform, action.user)
        return forms.propose(a, offer, tz=tz, turn=a.turn)
    tz = await zone_of(services, action.platform, action.user)
    return forms.propose(a, None, tz=tz, turn=None)


async def submit_proposal(sub: Submission, services: Services) -> Reply | FormErrors:
    ctx = forms.read_context(sub.context)
    agreement_id, seq, tz = (ctx or {}).get("a"), (ctx or {}).get("seq"), (ctx or {}).get("tz")
    turn_raw = (ctx or {}).get("turn")
    if not isinstance(agreement_id, int) or not isinstance(seq, int) or not isinstance(tz, str):
        return FormErrors({"reason": views.OUT_OF_DATE})
    if turn_raw not in (None, Role.REQUESTER.value, Role.PERFORMER.value):
        return FormErrors({"reason": views.OUT_OF_DATE})
    turn = Role(turn_raw) if turn_raw else None
    a = await find(services, sub, agreement_id)
    if a is None:
        return FormErrors({"reason": views.OUT_OF_DATE})
    now = services.clock.now()
    moved_on = a.offer_seq != seq or a.turn != turn or a.state not in (State.OFFERED, State.ACCEPTED)
    if moved_on or (turn is None and a.state != State.ACCEPTED):
        return FormErrors({"reason": views.moved_on(a, sub.user)})
    proposer = a.party(turn) if turn else a.performer
    if sub.user != proposer:
        return FormErrors({"reason": views.moved_on(a, sub.user)})
    if a.state == State.ACCEPTED and a.due_at <= now:
        return FormErrors({"reason": views.past_due_text(a)})

    errors: dict[str, str] = {}
    due_at, date_problem, time_problem = read_due(
        sub.values.get("due_date"), sub.values.get("due_time"), tz, now, MAX_AHEAD_DAYS
    )
    if date_problem:
        errors["due_date"] = date_problem
    if time_problem:
        errors["due_time"] = time_problem
    done_means, problem = read_text(
        sub.values.get("done_means"), label="Done means", limit=MAX_TEXT, required=True
    )
    if problem:
        errors["done_means"] = problem
    reason, problem = read_text(sub.values.get("reason"), label="The reason", limit=MAX_TEXT, required=True)
    if problem:
        errors["reason"] = problem
    if errors:
        return FormErrors(errors)
    current = await services.store.read(lambda db: store.offer(db, agreement_id=a.id, seq=a.offer_seq))
    standing = (current.due_at, current.done_means) if current and turn else (a.due_at, a.done_means)
    if (due_at, done_means) == standing:
        return FormErrors({"due_date": "Change the date or the standard of done, or accept it as it is."})

    role = a.role_of(sub.user) or Role.PERFORMER
    answerer = a.party(a.other(role))
    answerer_tz = await zone_of(services, sub.platform, answerer)
    word_list = words(services)

    def record(tx: Database) -> bool:
        values: dict[str, object] = {"offer_seq": seq + 1, "turn": a.other(role)}
        if a.state == State.OFFERED:  # nothing is agreed yet: the latest offer is what stands
            values |= {"due_at": due_at, "due_tz": tz, "done_means": done_means}
        if not store.change(
            tx, agreement_id=a.id, expected={"state": a.state, "offer_seq": seq, "turn": turn}, values=values
        ):
            return False
        if turn is not None:
            close_offer(tx, a, Outcome.COUNTERED, word_list, now)
        store.insert_offer(
            tx,
            agreement_id=a.id,
            seq=seq + 1,
            by_user=sub.user,
            kind=OfferKind.PROPOSAL,
            due_at=due_at,
            due_tz=tz,
            done_means=done_means,
            reason=reason,
            now=now,
        )
        offer = store.offer(tx, agreement_id=a.id, seq=seq + 1)
        moved = store.agreement(tx, agreement_id=a.id, platform=a.platform, workspace=a.workspace)
        assert offer is not None and moved is not None
        dm = outbox.enqueue(
            tx,
            platform=a.platform,
            to=Person(answerer),
            message=posts.offer_message(
                moved, offer, to=a.other(role), tz=answerer_tz, words=word_list, previous=standing
            ),
            now=now,
        )
        store.set_offer_dm(tx, agreement_id=a.id, seq=seq + 1, dm_outbox=dm)
        return True

    if not await services.store.run(record):
        fresh = await find(services, sub, a.id)
        return FormErrors({"reason": views.moved_on(fresh or a, sub.user)})
    return views.proposed_reply(answerer, agreed=a.state == State.ACCEPTED)


# --- decline ------------------------------------------------------------------------------------------
async def decline(action: Action, services: Services) -> Reply:
    found = await _open_offer(action, services)
    if isinstance(found, Reply):
        return found
    a, _ = found
    if a.state != State.OFFERED or a.turn != Role.PERFORMER:
        return views.cannot_decline(a)
    return forms.decline(a)


async def submit_decline(sub: Submission, services: Services) -> Reply | FormErrors:
    ctx = forms.read_context(sub.context)
    agreement_id, seq = (ctx or {}).get("a"), (ctx or {}).get("seq")
    if not isinstance(agreement_id, int) or not isinstance(seq, int):
        return FormErrors({"reason": views.OUT_OF_DATE})
    a = await find(services, sub, agreement_id)
    if a is None:
        return FormErrors({"reason": views.OUT_OF_DATE})
    if a.state != State.OFFERED or a.turn != Role.PERFORMER or a.offer_seq != seq or sub.user != a.performer:
        return FormErrors({"reason": views.moved_on(a, sub.user)})
    reason, problem = read_text(sub.values.get("reason"), label="The reason", limit=MAX_TEXT, required=True)
    if problem:
        return FormErrors({"reason": problem})
    now = services.clock.now()
    word_list = words(services)

    def record(tx: Database) -> bool:
        if not store.change(
            tx,
            agreement_id=a.id,
            expected={"state": State.OFFERED, "offer_seq": seq, "turn": Role.PERFORMER},
            values={"state": State.DECLINED, "turn": None, "closed_at": now},
        ):
            return False
        close_offer(tx, a, Outcome.DECLINED, word_list, now, answer=reason)
        outbox.enqueue(
            tx,
            platform=a.platform,
            to=Person(a.requester),
            message=posts.declined_message(a, reason),
            now=now,
        )
        return True

    if not await services.store.run(record):
        fresh = await find(services, sub, a.id)
        return FormErrors({"reason": views.moved_on(fresh or a, sub.user)})
    return views.declined_reply(a.requester)
