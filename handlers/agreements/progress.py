"""After the yes: done, accepted as done or not yet, a miss, and the review both sides answer.

A miss (the due time passed, not done) and a "not yet" lead to the same review card for both
sides: "How can we do this better next time?". Each side answers its own questions once; when both
have, both see both answers and the agreement closes as reviewed, with the learning kept.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot import outbox
from bot.messages import FormErrors, Reply
from bot.outbox import Person
from handlers.agreements import forms, posts, store, views
from handlers.agreements.access import find, parse_ref, words, zone_of, zones
from handlers.agreements.ids import Miss, Outcome, Role, State
from handlers.agreements.rules import MAX_TEXT
from handlers.agreements.store import Agreement
from handlers.agreements.thread import close_offer
from handlers.catalog import AgreementWords
from handlers.context import Action, Services, Submission
from handlers.text import read_text


async def _find(action: Action, services: Services) -> Agreement | Reply:
    ref = parse_ref(action.value)
    if ref is None or ref[1] is not None:
        return views.not_found(action.value)
    a = await find(services, action, ref[0])
    return a if a is not None else views.not_found(ref[0])


# --- a miss and the start of a review ----------------------------------------------------------------
def start_review(
    tx: Database,
    a: Agreement,
    *,
    expected: State,
    miss: Miss,
    missing: str | None,
    zones_by_user: dict[str, str],
    words: AgreementWords,
    now: float,
) -> bool:
    """Move the agreement into review and send both sides the card, once: False if another request
    or process moved it first."""
    expected_values: dict[str, object] = {"state": expected, "offer_seq": a.offer_seq}
    if miss == Miss.MISSED:
        expected_values["due_at"] = a.due_at
    if not store.change(
        tx,
        agreement_id=a.id,
        expected=expected_values,
        values={"state": State.REVIEWING, "turn": None, "miss": miss, "missing": missing},
    ):
        return False
    if a.turn is not None:  # a change was on the table: it is no longer
        close_offer(tx, a, Outcome.SUPERSEDED, words, now)
    reviewing = store.agreement(tx, agreement_id=a.id, platform=a.platform, workspace=a.workspace)
    assert reviewing is not None
    for user in (a.requester, a.performer):
        outbox.enqueue(
            tx,
            platform=a.platform,
            to=Person(user),
            message=posts.review_card(reviewing, tz=zones_by_user.get(user, "UTC"), words=words),
            now=now,
        )
    return True


async def miss_now(services: Services, a: Agreement) -> bool:
    """Start the review of an agreement whose due time passed (the job does the same, whichever
    comes first); True if this call did."""
    tz = await zones(services, a.platform, a.requester, a.performer)
    now = services.clock.now()
    word_list = words(services)
    return await services.store.run(
        lambda tx: start_review(
            tx,
            a,
            expected=State.ACCEPTED,
            miss=Miss.MISSED,
            missing=None,
            zones_by_user=tz,
            words=word_list,
            now=now,
        )
    )


# --- done -----------------------------------------------------------------------------------------------
async def done(action: Action, services: Services) -> Reply:
    found = await _find(action, services)
    if isinstance(found, Reply):
        return found
    a = found
    if a.state != State.ACCEPTED:
        return views.stale(a, action.user)
    if action.user != a.performer:
        return views.only_performer(a)
    now = services.clock.now()
    if a.due_at <= now:
        await miss_now(services, a)
        return views.past_due(a)
    requester_tz = await zone_of(services, action.platform, a.requester)
    word_list = words(services)

    def record(tx: Database) -> bool:
        if not store.change(
            tx,
            agreement_id=a.id,
            expected={"state": State.ACCEPTED, "offer_seq": a.offer_seq},
            values={"state": State.DONE, "turn": None, "done_at": now},
        ):
            return False
        if a.turn is not None:
            close_offer(tx, a, Outcome.SUPERSEDED, word_list, now)
        outbox.enqueue(
            tx,
            platform=a.platform,
            to=Person(a.requester),
            message=posts.done_message(a, requester_tz),
            now=now,
        )
        return True

    if not await services.store.run(record):
        return views.stale(await find(services, action, a.id) or a, action.user)
    return views.done_reply(a.requester)


async def _done_for_requester(action: Action, services: Services) -> Agreement | Reply:
    """The agreement marked done, when the requester presses a button on it; else the refusal."""
    found = await _find(action, services)
    if isinstance(found, Reply):
        return found
    if found.state != State.DONE:
        return views.stale(found, action.user)
    if action.user != found.requester:
        return views.only_requester(found)
    return found


async def accept_done(action: Action, services: Services) -> Reply:
    a = await _done_for_requester(action, services)
    if isinstance(a, Reply):
        return a
    now = services.clock.now()
    word_list = words(services)

    def record(tx: Database) -> bool:
        if not store.change(
            tx,
            agreement_id=a.id,
            expected={"state": State.DONE},
            values={"state": State.KEPT, "closed_at": now},
        ):
            return False
        outbox.enqueue(
            tx, platform=a.platform, to=Person(a.performer), message=posts.kept_message(a, word_list), now=now
        )
        return True

    if not await services.store.run(record):
        return views.stale(await find(services, action, a.id) or a, action.user)
    return views.kept_reply(a.performer)


async def not_yet(action: Action, services: Services) -> Reply:
    a = await _done_for_requester(action, services)
    return a if isinstance(a, Reply) else forms.not_yet(a)


async def submit_not_yet(sub: Submission, services: Services) -> Reply | FormErrors:
    ctx = forms.read_context(sub.context)
    agreement_id = (ctx or {}).get("a")
    if not isinstance(agreement_id, int):
        return FormErrors({"missing": views.OUT_OF_DATE})
    a = await find(services, sub, agreement_id)
    if a is None:
        return FormErrors({"missing": views.OUT_OF_DATE})
    if a.state != State.DONE or sub.user != a.requester:
        return FormErrors({"missing": views.moved_on(a, sub.user)})
    missing, problem = read_text(
        sub.values.get("missing"), label="What is missing", limit=MAX_TEXT, required=True
    )
    if problem:
        return FormErrors({"missing": problem})
    tz = await zones(services, a.platform, a.requester, a.performer)
    now = services.clock.now()
    word_list = words(services)
    started = await services.store.run(
        lambda tx: start_review(
            tx,
            a,
            expected=State.DONE,
            miss=Miss.NOT_YET,
            missing=missing,
            zones_by_user=tz,
            words=word_list,
            now=now,
        )
    )
    if not started:
        return FormErrors({"missing": views.moved_on(await find(services, sub, a.id) or a, sub.user)})
    return views.review_started(a.performer)


# --- the review -----------------------------------------------------------------------------------------
async def review(action: Action, services: Services) -> Reply:
    found = await _find(action, services)
    if isinstance(found, Reply):
        return found
    a = found
    role = a.role_of(action.user)
    assert role is not None  # find() only returns the parties' agreements
    if a.state != State.REVIEWING:
        return views.stale(a, action.user)
    if role in await services.store.read(lambda db: store.reviews(db, agreement_id=a.id)):
        return views.already_answered(a.party(a.other(role)))
    return forms.review(a, role, words(services))


async def submit_review(sub: Submission, services: Services) -> Reply | FormErrors:
    word_list = words(services)
    ctx = forms.read_context(sub.context)
    agreement_id, role_raw = (ctx or {}).get("a"), (ctx or {}).get("role")
    first_field = posts.questions_for(Role.REQUESTER, word_list)[0].id
    if not isinstance(agreement_id, int) or role_raw not in (Role.REQUESTER.value, Role.PERFORMER.value):
        return FormErrors({first_field: views.OUT_OF_DATE})
    role = Role(str(role_raw))
    questions = posts.questions_for(role, word_list)
    a = await find(services, sub, agreement_id)
    if a is None or a.role_of(sub.user) != role:
        return FormErrors({questions[0].id: views.OUT_OF_DATE})
    if a.state != State.REVIEWING:
        return FormErrors({questions[0].id: views.moved_on(a, sub.user)})
    answers: dict[str, str] = {}
    errors: dict[str, str] = {}
    for question in questions:
        text, problem = read_text(
            sub.values.get(question.id), label="This answer", limit=MAX_TEXT, required=True
        )
        if problem:
            errors[question.id] = problem
        answers[question.id] = text
    if errors:
        return FormErrors(errors)
    now = services.clock.now()

    def record(tx: Database) -> str:
        store.hold(tx, agreement_id=a.id)
        if not store.add_review(tx, agreement_id=a.id, role=role, by_user=sub.user, answers=answers, now=now):
            return "again"
        both = store.reviews(tx, agreement_id=a.id)
        if len(both) < 2:
            return "waiting"
        if not store.change(
            tx,
            agreement_id=a.id,
            expected={"state": State.REVIEWING},
            values={"state": State.REVIEWED, "closed_at": now},
        ):
            return "waiting"
        for user in (a.requester, a.performer):
            outbox.enqueue(
                tx,
                platform=a.platform,
                to=Person(user),
                message=posts.reviewed_message(a, both, word_list),
                now=now,
            )
        return "reviewed"

    outcome = await services.store.run(record)
    other = a.party(a.other(role))
    if outcome == "again":
        return views.already_answered(other)
    if outcome == "waiting":
        return views.review_waiting(other, word_list)
    return views.reviewed_reply(word_list)
